"""Can a rule tell sarcastic complaints ("great service, 2 hours on hold") from praise?

    python -m bench.en_sarcasm_rules

Issue #13 asks that a sarcastic "great service" not be read as praise. The pipeline reads such a
post as confident praise (the head reads the praise words), and a post that confidently positive is
never made a complaint by complaint words (`nlp.signals.reads_as_complaint`). Two rules that would
overrule it are scored on the airline train file (complaint tweets full of sarcasm, never trained
on): among the tweets the pipeline reads positive, how many negative tweets each rule would turn
into complaints, and how many positive ones it would wrongly turn too.

- `wording`: a praise phrase beside a complaint event in one sentence, "thanks for nothing",
  #nothappy-type tags or an eye-roll emoji; not with "despite/although" or a fix.
- `clauses`: each clause read alone by the pipeline's encoder and head; a clause read negative
  (at 0.5, 0.6, 0.7) holding complaint wording marks the post.

Nothing is shipped from it. One JSON line per rule; ~4 minutes on 2 cores (the pipeline reads every
tweet once, then the clauses of the positive ones with complaint wording).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from nlp import signals
from nlp.train import load_public

NEGATIVE_AT = (0.5, 0.6, 0.7)

_EVENT = (
    r"(delay\w*|cancel+(ed|led|ing|ation)?\w*|on hold|hung up|hang(ing)? up|lost|losing|rude\w*|"
    r"wait(ed|ing)?\s+(for\s+)?(over\s+)?(\d+|an?|two|three|four|five)\s*(hours?|hrs?|mins?|minutes?)|"
    r"(\d+|an?|two|three|four|five)\+?\s*(hours?|hrs?)\s+(late|delay\w*|wait\w*|on hold|in line|on the phone)|"
    r"broken|missing|stranded|overcharg\w*|charg(ed|ing) (me )?(twice|again|\$)|cold|stale|wrong|"
    r"no (wifi|food|water|info\w*|update\w*|answer|response|help|one)|nobody|never (arrived|came|showed))"
)
_PRAISE = (
    r"(thanks?( you)?( so much| a lot)? for|thx for|love (how|that|when|the way|being)|nothing like|so glad|"
    r"great job|good job|way to go|gotta love|(great|awesome|excellent|amazing|wonderful|fantastic|stellar|"
    r"outstanding|superb|brilliant|fabulous|perfect) (service|job|customer service|work|experience|way|start))"
)
SARCASM = re.compile(
    rf"\b{_PRAISE}\b[^.!?\n]{{0,80}}?\b{_EVENT}\b|\b{_EVENT}\b[^.!?\n]{{0,40}}?[.!,]?\s*\b{_PRAISE}\b"
    r"|thanks for nothing|#not\b|[🙄😒🙃]|#(fail\w*|badservice|nothappy|unhappy|dobetter|worst\w*)",
    re.IGNORECASE,
)
GENUINE = re.compile(
    r"\b(despite|in spite|although|even though|even with|regardless|made up for|still (great|amazing|awesome)|"
    r"but (your|the|all|every) (crew|staff|team|agents?|attendants?|people|folks))\b",
    re.IGNORECASE,
)
FIXED = re.compile(
    r"\b(thanks?( you)?|thx|appreciate)\b[^.!?]{0,40}\b(fix\w*|sort\w*|resolv\w*|rebook\w*|get+ing me|got me|"
    r"find\w*|found|refund\w*|help\w*|taking care|took care|reschedul\w*|accommodat\w*|assist\w*|compensat\w*|"
    r"locat\w*|return\w*)|\b(fixed|sorted|resolved|solved|refunded|found|rebooked|rescheduled|located)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"(?<=[.!?;,])\s+|\s+(?:but|and then|then|yet|while|after|since)\s+", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+")


def reads_sarcastic(text: str) -> bool:
    """The `wording` rule: sarcasm cues, unless the post says the problem was outweighed or fixed."""
    return bool(SARCASM.search(text)) and not GENUINE.search(text) and not FIXED.search(text)


def clauses(text: str) -> list[str]:
    """The post's clauses of two words or more, @handles left out."""
    parts = (part.strip() for part in _CLAUSE_BREAK.split(_HANDLE.sub("", text)))
    return [part for part in parts if part and len(part.split()) >= 2]


def marked_by_clause(clause_probs: list[dict[str, float]], texts: list[str], negative_at: float) -> bool:
    """The `clauses` rule for one post: two clauses or more, one read negative with complaint wording."""
    return len(texts) > 1 and any(
        probs["negative"] >= negative_at and signals.has_complaint_cue(text)
        for probs, text in zip(clause_probs, texts, strict=True)
    )


def tally(marks: list[tuple[bool, str]]) -> dict[str, int]:
    """Of the marked posts, how many of each gold label."""
    return dict(sorted(Counter(gold for marked, gold in marks if marked).items()))


def main() -> None:
    from dangol.core.settings import load_settings
    from nlp.analyzer import Analyzer
    from nlp.evaluate import pipeline_understanding

    analyzer = Analyzer.from_settings(load_settings())
    understand = pipeline_understanding(analyzer)
    airline = load_public("airline", "train")
    rows = list(zip(airline.texts, airline.labels, strict=True))
    read_positive: list[tuple[str, str]] = []
    for start in range(0, len(rows), 64):
        chunk = rows[start : start + 64]
        for (text, gold), u in zip(chunk, understand([t for t, _ in chunk]), strict=True):
            if max(u.sentiment_probs, key=u.sentiment_probs.get) == "positive":
                read_positive.append((text, gold))
    read_as = dict(sorted(Counter(gold for _, gold in read_positive).items()))
    base: dict[str, Any] = {"tweets": len(rows), "read_positive": read_as}
    print(json.dumps({**base, "rule": "wording", "marked": tally([(reads_sarcastic(t), g) for t, g in read_positive])}))

    cued = [(t, g) for t, g in read_positive if signals.has_complaint_cue(t)]
    split = [clauses(t) for t, _ in cued]
    flat = [c for parts in split for c in parts]
    embeddings = analyzer.encoder.encode(flat)
    probs = analyzer.sentiment.predict(flat, embeddings, ["en"] * len(flat))
    for negative_at in NEGATIVE_AT:
        marks, at = [], 0
        for (_, gold), parts in zip(cued, split, strict=True):
            marks.append((marked_by_clause(probs[at : at + len(parts)], parts, negative_at), gold))
            at += len(parts)
        print(json.dumps({**base, "rule": "clauses", "negative_at": negative_at, "marked": tally(marks)}))


if __name__ == "__main__":
    main()
