"""Risk of one post, 0..1, with the breakdown that explains it: the formula is `dangol.core.risk`
(negativity × reach × customer value × urgency); this module reads the post for it. Urgency comes
from signal words, English and Korean (lawyer, safety, allergic, something found in food: legal or
harm, 1.0; cancel/refund: churn and money, 0.6); a breached SLA raises it to 1 on the queue item
(`responder.sla`).
"""

from __future__ import annotations

import re

from dangol.core.risk import RiskScore, audience, combine, reach_value, tier_value

# Severe: legal, safety or health; moderate: churn and money.
SEVERE_EN = (
    "lawyer", "attorney", "sue", "suing", "lawsuit", "legal action", "court", "safety", "unsafe", "dangerous",
    "allergic", "allergy", "anaphylaxis", "food poisoning", "poisoned", "injured", "injury", "hospital",
    "fire", "press", "journalist", "reporter", "police",
    # Food and drink safety: what was found in it, and what it did ("bug in" is an app's bug).
    "foreign object", "contaminated", "contamination", "mold", "mould", "moldy", "mouldy", "cockroach",
    "insect", "hair in", "glass in", "piece of plastic", "plastic piece", "piece of metal", "food safety",
    "vomit", "vomiting", "threw up", "made me sick", "got sick", "diarrhea", "diarrhoea", "scalded",
    "burned my", "burnt my",
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
    # Food and drink safety (found inside words with their particles, as the rest).
    "이물질",
    "벌레",
    "머리카락",
    "곰팡이",
    "유리 조각",
    "유리조각",
    "플라스틱 조각",
    "플라스틱조각",
    "배탈",
    "구토",
    "토했",
    "화상을 입",  # not 화상 alone: 화상 회의 is a video call
    "화상 입",
    "데였",
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


def signal_words(text: str) -> tuple[float, list[str]]:
    """The signal value (1.0 severe, 0.6 moderate, 0 none) and the words found, lower-cased, in order."""
    text = text or ""
    severe = [m.group(0).lower() for p in _SEVERE for m in p.finditer(text)]
    moderate = [m.group(0).lower() for p in _MODERATE for m in p.finditer(text)]
    value = SEVERE_VALUE if severe else MODERATE_VALUE if moderate else 0.0
    return value, list(dict.fromkeys(severe + moderate))


def score_risk(
    text: str,
    negative: float,
    followers: int | None = None,
    engagement: int = 0,
    customer_tier: str | None = None,
    *,
    customer_value: float | None = None,
) -> RiskScore:
    """Risk 0..1 of one post and its explanation; `negative` is P(negative) from the sentiment model.

    The customer-value factor is the customer's value score (tier and orders) when it was
    computed, else the tier alone."""
    words_value, words = signal_words(text)
    risk = combine(
        {
            "negativity": negative,
            "reach": reach_value(followers, engagement),
            "customer_value": tier_value(customer_tier) if customer_value is None else customer_value,
            "urgency": words_value,
        }
    )
    risk.breakdown["urgency"]["words"] = words
    risk.breakdown["reach"].update(
        {"followers": followers, "engagement": engagement, "audience": audience(followers, engagement)}
    )
    risk.breakdown["customer_value"]["tier"] = customer_tier or "none"
    risk.breakdown["customer_value"]["source"] = "tier" if customer_value is None else "value score"
    return risk
