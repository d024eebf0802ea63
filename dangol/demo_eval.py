"""How the current database reads the demo: its labels and queue against the demo's expectations.

`dangol eval demo` builds nothing: it scores var/demo.db, the demo database
built by `dangol demo`, against `dangol/demo_data/expectations.json`, the story the demo data tells.
The demo posts were written for Dangol and are never training data, so this is an honest look at
how the models read a brand's posts: sentiment and complaint topic per language, intent, and
whether the queue holds what it should (recall) and only that (precision).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.analyses import analyzed_posts
from storage.customers import linked_authors
from storage.models import Analysis, Post, QueueItem
from storage.queue import all_items

# The intent each kind of demo post has; retweets, duplicates and the brand's own posts have none.
KIND_INTENT = {
    "complaint": "complaint",
    "question": "question",
    "praise": "praise",
    "chatter": "other",
    "spam": "other",
}


def score_demo(engine: Engine, expectations: Path) -> dict[str, Any]:
    """Accuracy per language of sentiment, complaint topic and intent, and queue precision/recall."""
    expected: dict[str, dict[str, Any]] = json.loads(expectations.read_text(encoding="utf-8"))["posts"]
    with Session(engine) as session:
        rows = analyzed_posts(session=session)
        items = all_items(session=session)
    analysis = {f"{p.platform}:{p.external_id}": a for p, a in rows}
    key_of = {p.id: f"{p.platform}:{p.external_id}" for p, _ in rows if p.id is not None}
    hits: dict[str, list[bool]] = defaultdict(list)
    for key, post in expected.items():
        found = analysis.get(key)
        if found is None:
            continue
        lang = post["language"]
        if post["sentiment"]:
            hits[f"sentiment_{lang}"].append(found.sentiment == post["sentiment"])
        if post["topic"]:
            hits[f"topic_{lang}"].append(found.primary_topic == post["topic"])
        if post["kind"] in KIND_INTENT:
            hits[f"intent_{lang}"].append(found.intent == KIND_INTENT[post["kind"]])
    result: dict[str, Any] = {name: _share(values) for name, values in sorted(hits.items())}
    result["counts"] = {name: len(values) for name, values in sorted(hits.items())}
    result |= _queue_scores(expected, analysis, items, key_of)
    result |= _competitor_scores(expected, rows, items, engine)
    return result


def _competitor_scores(
    expected: dict[str, dict[str, Any]], rows: list[tuple[Post, Analysis]], items: list[QueueItem], engine: Engine
) -> dict[str, Any]:
    """Posts about a competitor only ([brands]): how many were stored as such and analyzed, and how
    many were queued (a lead post or a post in a queued cluster) or whose author only posted about
    competitors yet was linked to a customer. Both should be 0."""
    rival = {k for k, p in expected.items() if p.get("brand", "maru") != "maru"}
    if not rival:
        return {}
    by_key = {f"{p.platform}:{p.external_id}": (p, a) for p, a in rows}
    found = [by_key[k] for k in sorted(rival) if k in by_key]
    leads = {item.post_id for item in items}
    clusters = {item.cluster_key for item in items}
    own_authors = {p.author_id for p, _ in rows if not p.competitor}
    only_rival = sorted({p.author_id for p, _ in found} - own_authors)
    with Session(engine) as session:
        links = linked_authors(only_rival, session=session)
    return {
        "competitor_posts": len(rival),
        "competitor_analyzed": len(found),
        "competitor_tagged": sum(1 for p, _ in found if p.competitor),
        "competitor_queued": sum(1 for p, a in found if p.id in leads or a.cluster_key in clusters),
        "competitor_authors_linked": sum(1 for author in only_rival if links.get(author)),
    }


def _queue_scores(
    expected: dict[str, dict[str, Any]],
    analysis: dict[str, Analysis],
    items: list[QueueItem],
    key_of: dict[int, str],
) -> dict[str, Any]:
    """Recall: posts that should be queued and are (by their own item or their cluster's).
    Precision: queue items whose lead post should be queued."""
    clusters = {item.cluster_key for item in items}
    leads = {key_of[item.post_id] for item in items if item.post_id in key_of}
    should = [k for k, p in expected.items() if p["should_queue"]]
    covered = [k for k in should if k in leads or (k in analysis and analysis[k].cluster_key in clusters)]
    right = [k for k in leads if expected.get(k, {}).get("should_queue")]
    return {
        "queue_recall": _share([True] * len(covered) + [False] * (len(should) - len(covered))),
        "queue_precision": _share([True] * len(right) + [False] * (len(leads) - len(right))),
        "queue_items": len(items),
        "missed": sorted(set(should) - set(covered)),
        "queued_wrongly": sorted(set(leads) - set(right)),
    }


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None
