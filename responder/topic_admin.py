"""Complaint topics edited on the Admin page: add, edit, disable and enable, checked and audited.

Every function takes the acting staff member and calls `require(actor, "admin.topics")` itself,
so hiding the form from other roles is only a courtesy. Edits are stored as ComplaintTopic rows
over config.toml's topics (see `storage.topics`); the worker notices them at its next batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session

from dangol.core.errors import ConfigError
from dangol.core.permissions import require
from dangol.core.settings import TopicCatalog, TopicSettings, topic_key_problem
from dangol.core.text import LANGUAGE_CODE
from dangol.core.types import utcnow
from storage import audit
from storage.models import ComplaintTopic, Staff
from storage.staff import team_keys
from storage.topics import TopicEntry, get_topic, get_topic_row, list_topics, topic_settings


@dataclass(frozen=True, slots=True)
class TopicForm:
    """A topic as typed into the Admin page's form, before validation."""

    name: str
    description: str
    examples: list[str]  # one per line of the form; blank lines are dropped
    team: str
    languages: list[str] = field(default_factory=list)  # empty: every language


def known_teams(*, session: Session, catalog: TopicCatalog) -> list[str]:
    """Teams a topic may belong to: the Team table's and those config.toml's topics name."""
    stored = team_keys(session=session)
    return sorted(stored | catalog.teams)


def add_topic(*, session: Session, catalog: TopicCatalog, actor: Staff, key: str, form: TopicForm) -> ComplaintTopic:
    """Add a new topic; ConfigError lists everything wrong with `key` and `form`."""
    require(actor, "admin.topics")
    key = key.strip()
    problems = _key_problems(key)
    if not problems and any(entry.key == key for entry in list_topics(session=session, catalog=catalog)):
        problems.append(f"topic key {key!r} already exists; edit that topic instead")
    topic = _validated(session, catalog, form, problems)
    return _write(session, actor, key, topic, True, "topic.add", None)


def edit_topic(*, session: Session, catalog: TopicCatalog, actor: Staff, key: str, form: TopicForm) -> ComplaintTopic:
    """Change an existing topic's name, description, examples, team and languages (a config topic too)."""
    require(actor, "admin.topics")
    entry = get_topic(session=session, catalog=catalog, key=key)
    topic = _validated(session, catalog, form, [])
    return _write(session, actor, key, topic, entry.enabled, "topic.edit", entry)


def set_topic_enabled(
    *, session: Session, catalog: TopicCatalog, actor: Staff, key: str, enabled: bool
) -> ComplaintTopic:
    """Retire (disable) or bring back a topic; its past analyses keep their key either way."""
    require(actor, "admin.topics")
    entry = get_topic(session=session, catalog=catalog, key=key)
    action = "topic.enable" if enabled else "topic.disable"
    return _write(session, actor, key, entry.topic, enabled, action, entry)


def _write(
    session: Session,
    actor: Staff,
    key: str,
    topic: TopicSettings,
    enabled: bool,
    action: str,
    before: TopicEntry | None,
) -> ComplaintTopic:
    """Store `topic` as the edit of `key` (its row made on the first edit) and audit it."""
    row = get_topic_row(session=session, key=key) or ComplaintTopic(key=key, name=topic.name, revision=0)
    for name, value in topic.model_dump().items():
        setattr(row, name, value)
    row.enabled = enabled
    row.revision += 1
    row.updated_by = actor.username
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        entity_type="topic",
        entity_id=key,
        before={**before.topic.model_dump(), "enabled": before.enabled} if before is not None else None,
        after={**topic_settings(row).model_dump(), "enabled": row.enabled},
    )
    return row


def _key_problems(key: str) -> list[str]:
    problem = topic_key_problem(key, "key")
    if problem:
        return [problem]
    return []


def _validated(session: Session, catalog: TopicCatalog, form: TopicForm, problems: list[str]) -> TopicSettings:
    """The topic's fields cleaned, or ConfigError listing every problem (with `problems` found before)."""
    name, description, team = form.name.strip(), form.description.strip(), form.team.strip()
    examples = [e.strip() for e in form.examples if e.strip()]
    languages = list(dict.fromkeys(code.strip().lower() for code in form.languages if code.strip()))
    teams = known_teams(session=session, catalog=catalog)
    if not name:
        problems.append("name is empty: give the name people read in feeds and reports")
    if not description:
        problems.append("description is empty: say in a sentence which complaints belong here")
    if not examples:
        problems.append("no examples: give at least one example phrase, one per line")
    if team not in teams:
        problems.append(f"unknown team {team!r}; teams: {', '.join(teams)}")
    problems.extend(f"invalid language code {c!r}: use ISO 639 codes such as en, ko" for c in languages
                    if not LANGUAGE_CODE.match(c))  # fmt: skip
    if problems:
        raise ConfigError("; ".join(problems), problems)
    return TopicSettings(name=name, description=description, examples=examples, team=team, languages=languages)
