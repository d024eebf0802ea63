"""The Collector interface and the registry of collector implementations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from dangol.registry import Registry
from dangol.settings import Settings, SourceSettings
from dangol.types import Page


class Collector(Protocol):
    """Reads one source: each yielded Page carries the cursor that covers it.

    `fetch` starts from `cursor` (what the last stored page returned; {} the first time) and
    stops before making more than `max_requests` API requests when that is given (the paid
    read budget). Platform throttling is raised as `RateLimited`, credentials as `AuthError`.
    """

    platform: str

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """Yield pages newer than `cursor`, oldest first where the platform allows."""
        ...


class CollectorFactory(Protocol):
    """What the registry holds: a class that builds itself, with its client, from config."""

    @classmethod
    def from_settings(cls, name: str, source: SourceSettings, settings: Settings) -> Collector:
        """Validate the source's options and build the collector with a real client."""
        ...


collectors = Registry(
    "collector",
    {
        "x": "listener.x:XCollector",
        "reddit": "listener.reddit:RedditCollector",
        "mastodon": "listener.mastodon:MastodonCollector",
        "bluesky": "listener.bluesky:BlueskyCollector",
        "rss": "listener.rss:RssCollector",
        "naver": "listener.naver:NaverCollector",
        "replay": "listener.replay:ReplayCollector",
    },
    group="dangol.collectors",
)


def build_collector(name: str, settings: Settings) -> Collector:
    """The collector for the configured source `name`."""
    source = settings.sources[name]
    factory: CollectorFactory = collectors.get(source.use)
    return factory.from_settings(name, source, settings)
