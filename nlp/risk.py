"""Risk (urgency) of a post, 0..1, with the breakdown that explains it.

risk = Σ weight_f × value_f over four factors, each valued 0..1:

- negativity: the sentiment model's probability of "negative";
- reach: followers and engagement on a log scale (1M followers or so is the top);
- customer value: the linked customer's tier (vip > gold > standard > unknown);
- signal words: cancel/refund (churn) and lawyer/safety/allergic (legal or harm), English and Korean.

A weighted sum rather than a product so that every factor's share can be shown to staff, and so a
lawyer threat from an unknown account still scores high. The breakdown is stored with the post.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

WEIGHTS = {"negativity": 0.4, "reach": 0.2, "customer_value": 0.15, "signal_words": 0.25}
TIER_VALUES = {"vip": 1.0, "gold": 0.7, "standard": 0.3, "none": 0.0}
# log10 of the audience at which reach is 1.0 (a million people).
REACH_FULL_LOG10 = 6.0
# An engagement (like, repost, reply) counts as this many followers' worth of reach.
ENGAGEMENT_WEIGHT = 10

# Severe: legal, safety or health; moderate: churn and money.
SEVERE_EN = (
    "lawyer", "attorney", "sue", "suing", "lawsuit", "legal action", "court", "safety", "unsafe", "dangerous",
    "allergic", "allergy", "anaphylaxis", "food poisoning", "poisoned", "injured", "injury", "hospital",
    "fire", "press", "journalist", "reporter", "police",
)  # fmt: skip
MODERATE_EN = (
    "cancel", "cancelled", "canceled", "cancelling", "refund", "chargeback", "unsubscribe", "close my account",
    "never again", "switching to", "scam", "fraud", "stolen", "compensation",
)  # fmt: skip
SEVERE_KO = (
    "소송",
    "변호사",
    "고소",
    "고발",
    "위험",
    "알레르기",
    "알러지",
    "식중독",
    "다쳤",
    "부상",
    "병원",
    "기자",
    "경찰",
    "신고",
)
MODERATE_KO = ("해지", "환불", "취소", "탈퇴", "사기", "보상", "다시는", "손해배상")
SEVERE_VALUE = 1.0
MODERATE_VALUE = 0.6


def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first so "cancelled" is reported rather than "cancel".
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b({alternatives})\b", re.IGNORECASE)


def _substring_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


_SEVERE = (_word_pattern(SEVERE_EN), _substring_pattern(SEVERE_KO))
_MODERATE = (_word_pattern(MODERATE_EN), _substring_pattern(MODERATE_KO))


@dataclass(slots=True)
class RiskScore:
    """The score and, per factor, its value, weight and contribution (value × weight)."""

    score: float
    breakdown: dict[str, Any] = field(default_factory=dict)


def signal_words(text: str) -> tuple[float, list[str]]:
    """The signal value (1.0 severe, 0.6 moderate, 0 none) and the words found, lower-cased, in order."""
    text = text or ""
    severe = [m.group(0).lower() for p in _SEVERE for m in p.finditer(text)]
    moderate = [m.group(0).lower() for p in _MODERATE for m in p.finditer(text)]
    value = SEVERE_VALUE if severe else MODERATE_VALUE if moderate else 0.0
    return value, list(dict.fromkeys(severe + moderate))


def reach_value(followers: int | None, engagement: int = 0) -> float:
    """0..1 from followers plus weighted engagement, log-scaled (10 → 0.17, 10k → 0.67, 1M → 1)."""
    audience = max(followers or 0, 0) + ENGAGEMENT_WEIGHT * max(engagement, 0)
    return min(1.0, math.log10(1 + audience) / REACH_FULL_LOG10)


def tier_value(tier: str | None) -> float:
    """The customer-value factor of a tier; unknown customers and unknown tiers count as 0."""
    return TIER_VALUES.get((tier or "none").lower(), 0.0)


def score_risk(
    text: str, negative: float, followers: int | None = None, engagement: int = 0, customer_tier: str | None = None
) -> RiskScore:
    """Risk 0..1 of one post and its explanation; `negative` is P(negative) from the sentiment model."""
    words_value, words = signal_words(text)
    values = {
        "negativity": min(max(float(negative), 0.0), 1.0),
        "reach": reach_value(followers, engagement),
        "customer_value": tier_value(customer_tier),
        "signal_words": words_value,
    }
    breakdown: dict[str, Any] = {}
    total = 0.0
    for name, value in values.items():
        contribution = WEIGHTS[name] * value
        total += contribution
        breakdown[name] = {"value": round(value, 4), "weight": WEIGHTS[name], "contribution": round(contribution, 4)}
    breakdown["signal_words"]["words"] = words
    breakdown["reach"].update({"followers": followers, "engagement": engagement})
    breakdown["customer_value"]["tier"] = customer_tier or "none"
    score = round(min(total, 1.0), 4)
    return RiskScore(score=score, breakdown=breakdown)
