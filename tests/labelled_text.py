"""Labelled text for the NLP tests, all inside the repository.

English (and Korean) posts with labels come from the demo data, which was written for Dangol:
`dangol/demo_data/expectations.json` gives each post's sentiment and complaint topic. Real Korean
text comes from the NSMC and KOTE rows vendored in `tests/fixtures/data` (see its README). Public
sets that may not be redistributed (TweetEval, the airline tweets) are never read by the tests.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dangol.core.settings import load_settings
from dangol.core.types import PostIn
from dangol.demo_data import BRAND_DIRS, DEMO_DATA, EXPECTATIONS, PARSER_OPTIONS, PLATFORM_DIRS
from listener.base import parser_for
from tests.conftest import REPO

# TweetEval's integer labels (its mapping.txt), used by the vendored file in TweetEval's columns.
TWEETEVAL_LABELS = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class DemoPost:
    """One demo post's text with the labels the demo's story gives it."""

    text: str
    language: str
    kind: str
    sentiment: str | None
    topic: str | None


def parse_demo_pages() -> tuple[dict[str, PostIn], list[tuple[str, str]]]:
    """Every demo page through the real parser of its platform: posts by key, and (file, reason) rejects."""
    found: dict[str, PostIn] = {}
    dead: list[tuple[str, str]] = []
    folders = {**{p: p for p in PLATFORM_DIRS}, **BRAND_DIRS}
    for folder, platform in folders.items():
        for path in sorted((DEMO_DATA / folder).glob("*.xml" if platform == "rss" else "*.json")):
            posts, rejects = parser_for(platform)(path.read_bytes(), **PARSER_OPTIONS.get(platform, {}))
            found.update({f"{p.platform}:{p.external_id}": p for p in posts})
            dead += [(f"{folder}/{path.name}", d.reason) for d in rejects]
    return found, dead


@cache
def demo_posts() -> tuple[DemoPost, ...]:
    """The demo's original posts in expectations order: retweets and copy-paste duplicates are left
    out, so no text occurs twice (a train/test split of them is honest)."""
    expected = json.loads(EXPECTATIONS.read_text(encoding="utf-8"))["posts"]
    parsed, _ = parse_demo_pages()
    return tuple(
        DemoPost(parsed[key].text, post["language"], post["kind"], post["sentiment"], post["topic"])
        for key, post in expected.items()
        if post["kind"] not in ("retweet", "duplicate")
    )


def demo_halves() -> tuple[list[DemoPost], list[DemoPost]]:
    """(train, test): the demo posts split alternately within each (language, kind, topic), so both
    halves hold every topic in both languages."""
    seen: dict[tuple[str, str, str | None], int] = {}
    halves: tuple[list[DemoPost], list[DemoPost]] = ([], [])
    for post in demo_posts():
        group = (post.language, post.kind, post.topic)
        seen[group] = seen.get(group, -1) + 1
        halves[seen[group] % 2].append(post)
    return halves


def topic_names() -> dict[str, str]:
    """Topic key -> name, of the sample config.toml."""
    return {key: topic.name for key, topic in load_settings(REPO / "config.toml").topics.items()}


def write_topic_rows(path: Path, posts: list[DemoPost]) -> Path:
    """A CSV of the posts with columns text and topic (the topic's name; empty for non-complaints)."""
    names = topic_names()
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text", "topic"])
        writer.writerows([p.text, names[p.topic] if p.topic else ""] for p in posts)
    return path


def write_described_taxonomy(path: Path) -> Path:
    """The sample config's topics with their names and descriptions but no example phrases: what a
    brand has before it writes examples, and what a few-shot head learnt from labelled posts improves on."""
    settings = load_settings(REPO / "config.toml")
    tables = [
        f"[topics.{key}]\nname = {json.dumps(t.name)}\ndescription = {json.dumps(t.description)}\n"
        for key, t in settings.topics.items()
    ]
    path.write_text("\n".join(tables), encoding="utf-8")
    return path


def tweeteval_rows(posts: tuple[DemoPost, ...] | list[DemoPost]) -> list[list[str]]:
    """Rows in TweetEval's columns (text, label 0/1/2, label_name) of the posts with a sentiment."""
    return [[p.text, str(TWEETEVAL_LABELS.index(p.sentiment)), p.sentiment] for p in posts if p.sentiment]


def first_rows(path: Path, n: int) -> list[dict[str, str]]:
    """The first n rows of a CSV or TSV file (by extension)."""
    delimiter = "\t" if path.suffix == ".tsv" else ","
    with path.open(newline="", encoding="utf-8") as fh:
        return [row for _, row in zip(range(n), csv.DictReader(fh, delimiter=delimiter), strict=False)]


def write_first_rows(source: Path, out: Path, n: int) -> Path:
    """The first n rows of `source` written to `out` with the same columns and delimiter."""
    rows = first_rows(source, n)
    delimiter = "\t" if source.suffix == ".tsv" else ","
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return out
