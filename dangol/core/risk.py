"""The risk formula, shared by the post (nlp.risk) and the queue item (responder.queue).

risk = negativity × reach × customer value × urgency, each factor a multiplier from its floor to 1:

- negativity: P(negative) from the sentiment model, floor 0: a post with no negative voice
  carries no risk, however famous its author;
- reach: followers and engagement on a log scale (about a million people is the top), floor 0.5;
- customer value: the linked customer's tier (vip > gold > standard > unknown), floor 0.6;
- urgency: legal, harm or churn words; 1 once the item's SLA is breached; floor 0.6.

A product, as DESIGN.md has it, so that a mild gripe stays low however loud the account and each
factor scales the negative voice within its range; the floors keep an unknown author's legal threat
from a big account high (0.95 × 0.94 × 0.6 × 1 = 0.54, priority 1). Each factor's value and
multiplier are stored with the post and shown to staff. A cluster (a post, its retweets and
copies) is scored again over the audience of all its posts: `cluster_risk`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

# Each factor's multiplier runs from its floor (value 0) to 1 (value 1).
FLOORS = {"negativity": 0.0, "reach": 0.5, "customer_value": 0.6, "urgency": 0.6}
TIER_VALUES = {"vip": 1.0, "gold": 0.7, "standard": 0.3, "none": 0.0}
# log10 of the audience at which reach is 1.0 (a million people).
REACH_FULL_LOG10 = 6.0
# An engagement (like, repost, reply) counts as this many followers' worth of reach.
ENGAGEMENT_WEIGHT = 10
# Lowest risk of priorities 1, 2 and 3; below is 4. An unknown author's legal threat from a big
# account is 0.54, a known customer's complaint about 0.3, an everyday gripe 0.15.
PRIORITY_FLOORS = (0.45, 0.25, 0.1)


@dataclass(slots=True)
class RiskScore:
    """The score and, per factor, its value, floor and multiplier (floor + (1 - floor) × value)."""

    score: float
    breakdown: dict[str, Any] = field(default_factory=dict)


def audience(followers: int | None, engagement: int = 0) -> int:
    """How many people a post reaches, roughly: followers plus weighted engagement."""
    return max(followers or 0, 0) + ENGAGEMENT_WEIGHT * max(engagement or 0, 0)


def reach_value(followers: int | None, engagement: int = 0) -> float:
    """0..1 from followers plus weighted engagement, log-scaled (10 → 0.17, 10k → 0.67, 1M → 1)."""
    return min(1.0, math.log10(1 + audience(followers, engagement)) / REACH_FULL_LOG10)


def tier_value(tier: str | None) -> float:
    """The customer-value factor of a tier; unknown customers and unknown tiers count as 0."""
    return TIER_VALUES.get((tier or "none").lower(), 0.0)


def combine(values: dict[str, float]) -> RiskScore:
    """The product of the factors' multipliers, and each factor's value, floor and multiplier."""
    score = 1.0
    breakdown: dict[str, Any] = {}
    for name, floor in FLOORS.items():
        value = min(max(float(values.get(name, 0.0)), 0.0), 1.0)
        multiplier = floor + (1.0 - floor) * value
        score *= multiplier
        breakdown[name] = {"value": round(value, 4), "floor": floor, "multiplier": round(multiplier, 4)}
    return RiskScore(score=round(score, 4), breakdown=breakdown)


def is_breakdown(breakdown: Any) -> bool:
    """True for a breakdown this formula wrote (older ones were a weighted sum: not comparable)."""
    return isinstance(breakdown, dict) and all(
        isinstance(breakdown.get(f), dict) and "multiplier" in breakdown[f] for f in FLOORS
    )


def cluster_risk(members: list[dict[str, Any]]) -> RiskScore | None:
    """The risk of a cluster from its members' breakdowns (a cluster's own breakdown counts as one
    member): negativity, customer value and urgency of the most pressing member, reach of all of
    them together (a complaint retweeted by 100 accounts of 1,000 followers reaches 100,000 people).
    None when no member has a breakdown of this formula."""
    scored = [m for m in members if is_breakdown(m)]
    if not scored:
        return None
    total = sum(int(m["reach"].get("audience") or 0) for m in scored)
    risk = combine(
        {
            "negativity": max(m["negativity"]["value"] for m in scored),
            "reach": reach_value(total),
            "customer_value": max(m["customer_value"]["value"] for m in scored),
            "urgency": max(m["urgency"]["value"] for m in scored),
        }
    )
    risk.breakdown["reach"]["audience"] = total
    return risk


def risk_priority(risk: float) -> int:
    """Priority from risk alone (1 = most urgent), used when no routing rule sets one."""
    return next((p for p, floor in enumerate(PRIORITY_FLOORS, start=1) if risk >= floor), len(PRIORITY_FLOORS) + 1)


def escalated(breakdown: dict[str, Any]) -> RiskScore | None:
    """The risk with urgency at its top (the SLA is breached); None for a breakdown of another formula."""
    if not is_breakdown(breakdown):
        return None
    values = {name: float(breakdown[name]["value"]) for name in FLOORS}
    risk = combine({**values, "urgency": 1.0})
    risk.breakdown["reach"]["audience"] = int(breakdown["reach"].get("audience") or 0)
    risk.breakdown["urgency"]["sla_breached"] = True
    return risk
