"""Replay: recorded API response bodies read from a folder, through the real platform parsers.

The demo and offline tests use it: one file per page (`*.json`, or `*.xml` for RSS), read in
sorted file-name order; the cursor is the last file done, so a restart goes on with the next.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from dangol.core.errors import CollectError, ConfigError
from dangol.core.registry import Options
from dangol.core.types import Billing, Page
from listener.base import parser_for
from listener.query import matches, parse_query
from listener.x import billed_in_body, worst_page_objects

Platform = Literal["x", "reddit", "mastodon", "bluesky", "rss", "naver", "youtube", "appstore", "googleplay"]


class ReplayOptions(Options):
    """Options of `use = "replay"`."""

    platform: Platform
    # A folder of response bodies, relative to the current directory or absolute.
    path: str
    # Move every post this many whole weeks later (weekdays and hours stay as recorded): the demo
    # uses it so its month of posts ends last week, whenever it is built.
    shift_weeks: int = Field(default=0, ge=0)
    # Bill the replayed X pages as X would (posts read a month, at most `max_page_posts` posts in a
    # page's data): to rehearse a budget with several workers, offline.
    monthly_post_reads: int | None = Field(default=None, ge=1)
    max_page_posts: int = Field(default=100, ge=1)
    # Keyword arguments of the platform's parser that its live collector passes from its own options
    # and a recorded body does not carry: Google Play's `app_id`, `lang`, `country` and `developer`
    # (the answers' handle), YouTube's `video_id`. Empty: the parser's defaults.
    parser_options: dict[str, str] = Field(default_factory=dict)


class ReplayCollector:
    """Yields one page per recorded file, in file-name order, resuming after the last file done."""

    Options = ReplayOptions

    def __init__(self, folder: Path, query: str, options: ReplayOptions) -> None:
        self.folder = folder
        self.options = options
        self.platform = options.platform
        self.parse = parser_for(options.platform)
        self.ast = parse_query(query)

    @classmethod
    def from_options(cls, name: str, query: str, options: ReplayOptions) -> ReplayCollector:
        """The folder of recorded responses must exist."""
        folder = Path(options.path).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"sources.{name}.path: {folder.resolve()} is not a folder of recorded responses")
        accepted = set(inspect.signature(parser_for(options.platform)).parameters) - {"body"}
        unknown = sorted(set(options.parser_options) - accepted)
        if unknown:
            raise ConfigError(
                f"sources.{name}.parser_options: the {options.platform} parser takes {sorted(accepted) or 'none'}, "
                f"not {unknown}"
            )
        return cls(folder, query, options)

    @staticmethod
    def billing(options: ReplayOptions) -> Billing | None:
        """X's billing in posts read, when a replayed X source has a post budget."""
        if options.platform != "x" or options.monthly_post_reads is None:
            return None
        worst = worst_page_objects(options.max_page_posts)
        return Billing(unit="posts", limit=options.monthly_post_reads, worst_case={"posts": worst})

    def files(self) -> list[Path]:
        """The recorded pages, in the order they are replayed."""
        pattern = "*.xml" if self.platform == "rss" else "*.json"
        return sorted(path for path in self.folder.glob(pattern) if path.is_file())

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """One page per file after `cursor["file"]`; each counts as one request."""
        done = cursor.get("file")
        remaining = max_requests
        for path in self.files():
            if done is not None and path.name <= done:
                continue
            if remaining is not None:
                if remaining <= 0:
                    return
                remaining -= 1
            try:
                body = path.read_bytes()
            except OSError as exc:
                raise CollectError(f"cannot read recorded page {path}: {exc}") from exc
            posts, dead = self.parse(body, **self.options.parser_options)
            kept = [p for p in posts if matches(self.ast, p)]
            if self.options.shift_weeks:
                shift = timedelta(weeks=self.options.shift_weeks)
                kept = [p.model_copy(update={"created_at": p.created_at + shift}) for p in kept]
            billed = billed_in_body(body) if self.platform == "x" else {}
            yield Page(kept, {"file": path.name}, dead, billed=billed)
