"""Routing rules: ordered conditions (`when`) and actions (`then`); for each action the first match wins.

Rules come from `[[responder.rules]]` in config.toml, or from the RoutingRule table once an admin
has edited them there (database rules, when present, take precedence over the file).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from dangol.core.errors import ConfigError, NotFound
from dangol.core.permissions import require
from dangol.core.settings import ResponderSettings, unknown_segments
from storage import audit
from storage.models import RoutingRule, Staff
from storage.routing_rules import has_rules, rules_after, rules_in_order

WHEN_KEYS = (
    "topic",
    "sentiment",
    "language",
    "platform",
    "tier",
    "min_followers",
    "keywords",
    "min_risk",
    "max_risk",
    "spam",
    "segment",
)
THEN_KEYS = ("team", "priority", "sla", "approval", "close_as_spam", "notify")


@dataclass(frozen=True)
class Rule:
    """One rule as routing sees it, wherever it was stored."""

    name: str
    when: dict[str, Any]
    then: dict[str, Any]
    id: int | None = None  # None for rules from config.toml
    enabled: bool = True


@dataclass(frozen=True)
class Facts:
    """What rules can look at about one post."""

    text: str
    platform: str
    language: str
    sentiment: str
    primary_topic: str = "other"
    topics: tuple[str, ...] = ()
    tier: str | None = None
    followers: int = 0
    risk: float = 0.0
    spam: bool = False
    # The segments the linked customer is in now (storage.customer_scores), by key.
    segments: tuple[str, ...] = ()


@dataclass
class Decision:
    """The actions the rules chose, and which rules matched."""

    team: str | None = None
    priority: int | None = None
    sla: str | None = None
    approval: bool = False
    close_as_spam: bool = False
    notify: bool = False
    matched: list[str] = field(default_factory=list)


def validate(name: str, when: dict[str, Any], then: dict[str, Any], segments: Iterable[str] | None = None) -> None:
    """Raise ConfigError naming the valid keys when a rule has an unknown condition or action, or
    (given the configured `segments`) names a segment that does not exist."""
    if segments is not None and (unknown := unknown_segments(when.get("segment"), segments)):
        raise ConfigError(f"rule {name!r}: unknown segment {unknown}; configured: {', '.join(segments) or '(none)'}")
    for key in when:
        if key not in WHEN_KEYS:
            raise ConfigError(f"rule {name!r}: unknown condition {key!r}; valid: {', '.join(WHEN_KEYS)}")
    for key in then:
        if key not in THEN_KEYS:
            raise ConfigError(f"rule {name!r}: unknown action {key!r}; valid: {', '.join(THEN_KEYS)}")
    if "priority" in then and not (isinstance(then["priority"], int) and 1 <= then["priority"] <= 5):
        raise ConfigError(f"rule {name!r}: priority must be an integer from 1 (most urgent) to 5")


def _as_list(value: Any) -> list[str]:
    return [str(v).lower() for v in (value if isinstance(value, list | tuple) else [value])]


def _keyword_hit(text: str, keyword: str) -> bool:
    # Latin words match whole words only ("sue" must not match "issue"); Korean has no spaces to rely on.
    if keyword.isascii():
        return re.search(rf"\b{re.escape(keyword)}\b", text) is not None
    return keyword in text


def matches(when: dict[str, Any], facts: Facts) -> bool:
    """True when every condition of `when` holds for `facts` (an empty `when` always matches)."""
    checks = {
        "topic": lambda v: bool({facts.primary_topic, *facts.topics} & set(_as_list(v))),
        "sentiment": lambda v: facts.sentiment.lower() in _as_list(v),
        "language": lambda v: facts.language.lower() in _as_list(v),
        "platform": lambda v: facts.platform.lower() in _as_list(v),
        "tier": lambda v: facts.tier is not None and facts.tier.lower() in _as_list(v),
        "min_followers": lambda v: facts.followers >= int(v),
        "keywords": lambda v: any(_keyword_hit(facts.text.lower(), k) for k in _as_list(v)),
        "min_risk": lambda v: facts.risk >= float(v),
        "max_risk": lambda v: facts.risk <= float(v),
        "spam": lambda v: facts.spam == bool(v),
        "segment": lambda v: bool(set(facts.segments) & set(_as_list(v))),
    }
    return all(checks[key](value) for key, value in when.items())


def decide(rules: list[Rule], facts: Facts) -> Decision:
    """Apply `rules` in order; each action is set by the first matching rule that names it."""
    decision = Decision()
    chosen: set[str] = set()
    for rule in rules:
        if not rule.enabled or not matches(rule.when, facts):
            continue
        decision.matched.append(rule.name)
        for key, value in rule.then.items():
            if key not in chosen:
                setattr(decision, key, value)
                chosen.add(key)
    return decision


def config_rules(responder: ResponderSettings) -> list[Rule]:
    """The rules in config.toml, validated."""
    rules = [Rule(name=r.name, when=dict(r.when), then=dict(r.then)) for r in responder.rules]
    for rule in rules:
        validate(rule.name, rule.when, rule.then)
    return rules


def list_rules(*, session: Session, responder: ResponderSettings) -> list[Rule]:
    """The rules in force, in order: the database's when it has any, otherwise config.toml's."""
    rows = rules_in_order(session=session)
    if not rows:
        return config_rules(responder)
    return [Rule(name=r.name, when=dict(r.when), then=dict(r.then), id=r.id, enabled=r.enabled) for r in rows]


def _snapshot(rule: RoutingRule) -> dict[str, Any]:
    return {"name": rule.name, "position": rule.position, "when": rule.when, "then": rule.then, "enabled": rule.enabled}


def _get(rule_id: int, session: Session) -> RoutingRule:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(f"no routing rule with id {rule_id}")
    return rule


def seed_from_config(*, actor: Staff, session: Session, responder: ResponderSettings) -> list[RoutingRule]:
    """Copy config.toml's rules into the table (once, when it is empty) so admins edit the full list."""
    require(actor, "admin.rules")
    if has_rules(session=session):
        return []
    return [
        add_rule(rule.name, rule.when, rule.then, actor=actor, session=session, position=i)
        for i, rule in enumerate(config_rules(responder))
    ]


def add_rule(
    name: str,
    when: dict[str, Any],
    then: dict[str, Any],
    *,
    actor: Staff,
    session: Session,
    position: int | None = None,
    segments: Iterable[str] | None = None,
) -> RoutingRule:
    """Add a rule at `position` (default: last); later rules shift down. With the configured
    `segments`, a rule naming another segment is refused."""
    require(actor, "admin.rules")
    validate(name, when, then, segments)
    rows = rules_in_order(session=session)
    position = len(rows) if position is None else max(0, min(position, len(rows)))
    for row in rows[position:]:
        row.position += 1
    rule = RoutingRule(position=position, name=name, when=dict(when), then=dict(then))
    session.add(rule)
    session.flush()
    audit.record(
        session, actor=actor, action="rule.add", entity_type="routing_rule", entity_id=rule.id, after=_snapshot(rule)
    )
    return rule


def update_rule(
    rule_id: int,
    *,
    actor: Staff,
    session: Session,
    name: str | None = None,
    when: dict[str, Any] | None = None,
    then: dict[str, Any] | None = None,
    enabled: bool | None = None,
) -> RoutingRule:
    """Change a rule's name, conditions, actions or enabled flag."""
    require(actor, "admin.rules")
    rule = _get(rule_id, session)
    before = _snapshot(rule)
    validate(name or rule.name, when if when is not None else rule.when, then if then is not None else rule.then)
    if name is not None:
        rule.name = name
    if when is not None:
        rule.when = dict(when)
    if then is not None:
        rule.then = dict(then)
    if enabled is not None:
        rule.enabled = enabled
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="rule.update",
        entity_type="routing_rule",
        entity_id=rule.id,
        before=before,
        after=_snapshot(rule),
    )
    return rule


def reorder_rules(rule_ids: list[int], *, actor: Staff, session: Session) -> list[RoutingRule]:
    """Put the rules in the order given; every rule id must be listed exactly once."""
    require(actor, "admin.rules")
    rows = {r.id or 0: r for r in rules_in_order(session=session)}
    if sorted(rule_ids) != sorted(rows):
        raise ConfigError(f"reorder needs every rule id exactly once; have {sorted(rows)}, got {rule_ids}")
    before = {"order": [r.id for r in sorted(rows.values(), key=lambda r: r.position)]}
    for position, rule_id in enumerate(rule_ids):
        rows[rule_id].position = position
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="rule.reorder",
        entity_type="routing_rule",
        entity_id="*",
        before=before,
        after={"order": rule_ids},
    )
    return [rows[i] for i in rule_ids]


def delete_rule(rule_id: int, *, actor: Staff, session: Session) -> None:
    """Remove a rule; the ones after it move up."""
    require(actor, "admin.rules")
    rule = _get(rule_id, session)
    before = _snapshot(rule)
    for row in rules_after(session=session, position=rule.position):
        row.position -= 1
    session.delete(rule)
    session.flush()
    audit.record(
        session, actor=actor, action="rule.delete", entity_type="routing_rule", entity_id=rule_id, before=before
    )
