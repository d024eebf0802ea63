"""Customer scores and segments: the formulas, on plain inputs (storage gathers them, set-based).

Five scores, each 0..1 with a breakdown of its inputs and, per part, the part's value, weight and
contribution (value × weight; the score is the sum of the contributions):

- activity: recency (1 − days since the last post / 90, 0 without a post in 90 days), weight 0.5;
  frequency (log(1 + posts in 90 days) / log(1 + 20): 20 posts or more is 1), weight 0.5;
  also given per platform in the inputs.
- mood: level ((share positive − share negative + 1) / 2 over the recent 30 days, or the 90 days
  when the recent period has too few posts, 0.5 with none), weight 0.6; change ((Δ net + 1) / 2,
  Δ net = net of the recent 30 days − net of the 60 days before, clamped to ±1; 0.5 when the
  trend is unknown), weight 0.4. The trend is "improving" (Δ ≥ 0.2), "worsening" (Δ ≤ −0.2),
  "steady", or "unknown" while either period has fewer than `MOOD_MIN_POSTS` posts.
- service (complaints of the last 90 days): answered share, weight 0.5 (answered: a reply sent
  through Dangol, or a public reply from one of the brand's own accounts); speed (1 − median hours
  to the first answer / 72, floored at 0), weight 0.3; recovery (a complaint answered and a
  positive post by the customer after the answer), weight 0.2. 1 when there was no complaint.
- reach: followers of the linked identities plus 10 × engagement on their posts of the last 90
  days, on the risk formula's log scale (`dangol.core.risk.reach_value`), weight 1.
- value: tier (vip 1, gold 0.7, standard 0.3), weight 0.7; orders on record (5 or more is 1),
  weight 0.3.

Segments (`[segments.<key>]` in config.toml) are conditions over these scores and flags, all of
which must hold, plus optionally `any`: a list of condition tables of which one must hold. A
condition is `min_<score>` / `max_<score>` (0..1) or a flag equal to a value: `trend`, `tier`,
`recovered`, `unresolved`, `new_voice`. Nothing is evaluated as code.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dangol.core.risk import reach_value, tier_value

SCORES = ("activity", "mood", "service", "reach", "value")
TRENDS = ("improving", "worsening", "steady", "unknown")
ACTIVITY_DAYS = 90
FREQUENCY_FULL = 20  # posts in ACTIVITY_DAYS for a frequency of 1
MOOD_RECENT_DAYS = 30
MOOD_BEFORE_DAYS = 60
MOOD_MIN_POSTS = 3  # posts needed in each mood period to call a trend
TREND_STEP = 0.2
SERVICE_SPEED_HOURS = 72  # a first answer after this long counts as no speed at all
ORDERS_FULL = 5
NEW_VOICE_DAYS = 30
WEIGHTS: dict[str, dict[str, float]] = {
    "activity": {"recency": 0.5, "frequency": 0.5},
    "mood": {"level": 0.6, "change": 0.4},
    "service": {"answered": 0.5, "speed": 0.3, "recovery": 0.2},
    "reach": {"audience": 1.0},
    "value": {"tier": 0.7, "orders": 0.3},
}


@dataclass(slots=True)
class PlatformActivity:
    last_post_at: datetime | None = None
    posts_90d: int = 0


@dataclass(slots=True)
class Complaint:
    """One complaint post: when, and when its first reply was sent (None: unanswered)."""

    created_at: datetime
    answered_at: datetime | None = None


@dataclass(slots=True)
class CustomerInputs:
    """What one customer's scores are computed from, as storage gathered it."""

    customer_id: int
    tier: str = "standard"
    orders: int = 0
    followers: int = 0
    engagement_90d: int = 0
    first_post_at: datetime | None = None
    platforms: dict[str, PlatformActivity] = field(default_factory=dict)
    # (negative, positive, total) posts in the recent 30 days and in the 60 days before them.
    recent: tuple[int, int, int] = (0, 0, 0)
    before: tuple[int, int, int] = (0, 0, 0)
    complaints: list[Complaint] = field(default_factory=list)
    # Positive posts of the last 90 days; the latest alone is enough to tell a recovery.
    positive_times: list[datetime] = field(default_factory=list)


@dataclass(slots=True)
class CustomerScores:
    """A customer's five scores, the flags segments test, and the breakdown of each score."""

    customer_id: int
    activity: float
    mood: float
    service: float
    reach: float
    value: float
    flags: dict[str, Any]
    breakdown: dict[str, Any]
    segments: list[str] = field(default_factory=list)

    def score(self, name: str) -> float:
        return float(getattr(self, name))


def _parts(name: str, values: dict[str, float], inputs: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    parts = {}
    total = 0.0
    for part, weight in WEIGHTS[name].items():
        value = min(max(values[part], 0.0), 1.0)
        contribution = value * weight
        total += contribution
        parts[part] = {"value": round(value, 4), "weight": weight, "contribution": round(contribution, 4)}
    score = round(min(max(total, 0.0), 1.0), 4)
    return score, {"score": score, "inputs": inputs, "parts": parts}


def _days(now: datetime, then: datetime | None) -> float | None:
    return None if then is None else max((now - then).total_seconds() / 86400, 0.0)


def activity(inputs: CustomerInputs, now: datetime) -> tuple[float, dict[str, Any]]:
    lasts = [p.last_post_at for p in inputs.platforms.values() if p.last_post_at is not None]
    last = max(lasts) if lasts else None
    days = _days(now, last)
    posts = sum(p.posts_90d for p in inputs.platforms.values())
    recency = 0.0 if days is None else max(0.0, 1.0 - days / ACTIVITY_DAYS)
    frequency = min(1.0, math.log1p(posts) / math.log1p(FREQUENCY_FULL))
    per_platform = {
        name: {"days_since_last_post": None if (d := _days(now, p.last_post_at)) is None else round(d, 1),
               "posts_90d": p.posts_90d}
        for name, p in sorted(inputs.platforms.items())
    }  # fmt: skip
    return _parts(
        "activity",
        {"recency": recency, "frequency": frequency},
        {"days_since_last_post": None if days is None else round(days, 1), "posts_90d": posts,
         "platforms": per_platform},
    )  # fmt: skip


def _net(counts: tuple[int, int, int]) -> float | None:
    negative, positive, total = counts
    return None if total == 0 else (positive - negative) / total


def trend(inputs: CustomerInputs) -> tuple[str, float | None]:
    """The mood trend and Δ net (recent − before); "unknown" without enough posts in either period."""
    if inputs.recent[2] < MOOD_MIN_POSTS or inputs.before[2] < MOOD_MIN_POSTS:
        return "unknown", None
    delta = (_net(inputs.recent) or 0.0) - (_net(inputs.before) or 0.0)
    if delta >= TREND_STEP:
        return "improving", delta
    if delta <= -TREND_STEP:
        return "worsening", delta
    return "steady", delta


def mood(inputs: CustomerInputs) -> tuple[float, dict[str, Any], str]:
    direction, delta = trend(inputs)
    if inputs.recent[2] >= MOOD_MIN_POSTS:
        net, over = _net(inputs.recent), "recent"
    else:
        both = tuple(a + b for a, b in zip(inputs.recent, inputs.before, strict=True))
        net, over = _net(both), "90 days"  # type: ignore[arg-type]
    level = 0.5 if net is None else (net + 1) / 2
    change = 0.5 if delta is None else (max(-1.0, min(1.0, delta)) + 1) / 2
    negative, positive, total = inputs.recent
    b_negative, b_positive, b_total = inputs.before
    score, breakdown = _parts(
        "mood",
        {"level": level, "change": change},
        {
            "trend": direction,
            "level_over": over if net is not None else "no posts",
            "recent_30d": {"posts": total, "negative": negative, "positive": positive},
            "before_60d": {"posts": b_total, "negative": b_negative, "positive": b_positive},
            "net_change": None if delta is None else round(delta, 4),
            "min_posts": MOOD_MIN_POSTS,
        },
    )
    return score, breakdown, direction


def service(inputs: CustomerInputs) -> tuple[float, dict[str, Any], dict[str, bool]]:
    raised = len(inputs.complaints)
    answered = [c for c in inputs.complaints if c.answered_at is not None]
    hours = [(c.answered_at - c.created_at).total_seconds() / 3600 for c in answered]  # type: ignore[operator]
    median = statistics.median(hours) if hours else None
    recovered = any(
        any(t > c.answered_at for t in inputs.positive_times) for c in answered if c.answered_at is not None
    )
    if raised == 0:
        values = {"answered": 1.0, "speed": 1.0, "recovery": 1.0}
    else:
        values = {
            "answered": len(answered) / raised,
            "speed": 0.0 if median is None else max(0.0, 1.0 - median / SERVICE_SPEED_HOURS),
            "recovery": 1.0 if recovered else 0.0,
        }
    score, breakdown = _parts(
        "service",
        values,
        {
            "complaints_90d": raised,
            "answered": len(answered),
            "unanswered": raised - len(answered),
            "median_hours_to_first_answer": None if median is None else round(median, 2),
            "recovered": recovered,
        },
    )
    return score, breakdown, {"recovered": recovered, "unresolved": raised > len(answered)}


def reach(inputs: CustomerInputs) -> tuple[float, dict[str, Any]]:
    return _parts(
        "reach",
        {"audience": reach_value(inputs.followers, inputs.engagement_90d)},
        {"followers": inputs.followers, "engagement_90d": inputs.engagement_90d},
    )


def value(inputs: CustomerInputs) -> tuple[float, dict[str, Any]]:
    return _parts(
        "value",
        {"tier": tier_value(inputs.tier), "orders": min(1.0, inputs.orders / ORDERS_FULL)},
        {"tier": inputs.tier, "orders": inputs.orders},
    )


def compute(inputs: CustomerInputs, now: datetime) -> CustomerScores:
    """Every score of one customer, with its breakdown and the flags segments test."""
    act, act_b = activity(inputs, now)
    md, md_b, direction = mood(inputs)
    srv, srv_b, service_flags = service(inputs)
    rch, rch_b = reach(inputs)
    val, val_b = value(inputs)
    first = inputs.first_post_at
    flags: dict[str, Any] = {
        "trend": direction,
        "tier": (inputs.tier or "standard").lower(),
        "new_voice": first is not None and now - first <= timedelta(days=NEW_VOICE_DAYS),
        **service_flags,
    }
    breakdown = {"activity": act_b, "mood": md_b, "service": srv_b, "reach": rch_b, "value": val_b, "flags": flags}
    return CustomerScores(inputs.customer_id, act, md, srv, rch, val, flags, breakdown)


# --- segments ----------------------------------------------------------------------------------


def condition_holds(conditions: dict[str, Any], scores: CustomerScores) -> bool:
    """True when every condition holds: `min_<score>`, `max_<score>`, or a flag equal to a value
    (a list of values: any of them). The keys were checked by the settings (`SegmentSettings`)."""
    for key, wanted in conditions.items():
        if wanted is None:
            continue
        if key.startswith("min_"):
            if scores.score(key[4:]) < float(wanted):
                return False
        elif key.startswith("max_"):
            if scores.score(key[4:]) > float(wanted):
                return False
        else:
            have = scores.flags.get(key)
            options = wanted if isinstance(wanted, list) else [wanted]
            if have not in options:
                return False
    return True


@dataclass(frozen=True, slots=True)
class SegmentRule:
    """One segment's conditions as plain dicts: what `segments_matching` tests for every customer."""

    key: str
    conditions: dict[str, Any]
    any: tuple[dict[str, Any], ...]


def segment_rules(segments: dict[str, Any]) -> list[SegmentRule]:
    """The segments (key → SegmentSettings) read once for a run: their conditions come from a
    pydantic dump, far too slow to redo for each of 100k customers."""
    return [SegmentRule(key, s.conditions(), tuple(c.conditions() for c in s.any)) for key, s in segments.items()]


def segments_matching(scores: CustomerScores, rules: list[SegmentRule]) -> list[str]:
    """The keys of the segments whose conditions the customer meets, sorted."""
    found = [
        rule.key
        for rule in rules
        if condition_holds(rule.conditions, scores)
        and (not rule.any or any(condition_holds(c, scores) for c in rule.any))
    ]
    return sorted(found)


def segments_of(scores: CustomerScores, segments: dict[str, Any]) -> list[str]:
    """The keys of the segments (key → SegmentSettings) whose conditions the customer meets, sorted."""
    return segments_matching(scores, segment_rules(segments))


def breakdown_summary(breakdown: dict[str, Any]) -> str:
    """Per score, the part that contributed most ("mood: trend 0.30"), for a one-line summary of a
    stored breakdown; scores whose parts all contributed nothing are left out."""
    said = []
    for name in SCORES:
        parts = ((breakdown or {}).get(name) or {}).get("parts") or {}
        top = max(parts.items(), key=lambda kv: (float(kv[1].get("contribution", 0)), kv[0]), default=None)
        if top is not None and float(top[1].get("contribution", 0)) > 0:
            said.append(f"{name}: {top[0]} {float(top[1]['contribution']):.2f}")
    return "; ".join(said)
