"""The Collector interface and the registry of collector implementations."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from dangol.core.errors import CollectError, ConfigError, PayloadError
from dangol.core.registry import Options, Registry, parse_options
from dangol.core.settings import SourceSettings
from dangol.core.types import PLATFORMS, Billing, DeadLetterIn, Page, PostIn, Recheck

# A body, then the keyword arguments some parsers take (Google Play's app_id, YouTube's video_id …).
Parser = Callable[..., tuple[list[PostIn], list[DeadLetterIn]]]

# One pure parser per platform: a recorded or live API response body → posts and dead letters.
PARSERS = {
    "x": "listener.x:parse_x",
    "reddit": "listener.reddit:parse_reddit",
    "mastodon": "listener.mastodon:parse_mastodon",
    "bluesky": "listener.bluesky:parse_bluesky",
    "rss": "listener.rss:parse_rss",
    "naver": "listener.naver:parse_naver",
    "youtube": "listener.youtube:parse_youtube",
    "appstore": "listener.appstore:parse_appstore",
    "googleplay": "listener.googleplay:parse_googleplay",
}


class Collector(Protocol):
    """Reads one source: each yielded Page carries the cursor that covers it.

    `fetch` starts from `cursor` (what the last stored page returned; {} the first time) and
    stops before making more than `max_requests` API requests when that is given (the paid
    read budget). Platform throttling is raised as `RateLimited`, credentials as `AuthError`.
    A collector of a paid platform also has `billing(options) -> Billing` (a static method), and
    its pages say what they were billed (`Page.billed`).
    """

    platform: str

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """Yield pages newer than `cursor`, oldest first where the platform allows."""
        ...


class Rechecker(Protocol):
    """A collector that can also say which stored posts its platform has deleted (X, Mastodon,
    Bluesky), as the platforms' developer terms require us to find out.

    `recheck` asks about `external_ids` in batches of at most `recheck_batch` per request and
    yields one `Recheck` per request, making at most `max_requests` (and first one without a
    request for ids it cannot send, see `askable`). Throttling is raised as
    `RateLimited`, credentials as `AuthError`, any other failed request as `CollectError`: an
    unreachable platform never makes a post look deleted. `recheck_billed_per_id` is the most one
    asked id can be billed (X: one post), so the caller can keep a paid source under its caps.
    """

    platform: str
    recheck_batch: int
    recheck_billed_per_id: dict[str, int]

    def recheck(self, external_ids: Sequence[str], *, max_requests: int | None = None) -> Iterator[Recheck]:
        """Yield, request by request, which of `external_ids` the platform says are gone."""
        ...


class CollectorFactory(Protocol):
    """What the registry holds: a class with its `Options` model that builds itself, with its
    client, from the source's query and its validated options (placeholder secrets are already
    refused by `parse_options`); `name` is only for naming the source in errors."""

    Options: type[Options]

    @classmethod
    def from_options(cls, name: str, query: str, options: Any) -> Collector:
        """Check what the options cannot check alone and build the collector with a real client."""
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
        "youtube": "listener.youtube:YouTubeCollector",
        "appstore": "listener.appstore:AppStoreCollector",
        "googleplay": "listener.googleplay:GooglePlayCollector",
        "replay": "listener.replay:ReplayCollector",
    },
    group="dangol.collectors",
)


def build_collector(name: str, sources: Mapping[str, SourceSettings]) -> Collector:
    """The collector for the configured source `name` (`sources`: the `[sources.*]` settings)."""
    if name not in sources:
        raise ConfigError(f"unknown source {name!r}; configured: {', '.join(sources) or '(none)'}")
    source = sources[name]
    factory: CollectorFactory = collectors.get(source.use)
    options = parse_options(factory.Options, source.options(), f"sources.{name}")
    return factory.from_options(name, source.query, options)


def source_billing(name: str, sources: Mapping[str, SourceSettings]) -> Billing | None:
    """How the configured source `name` is billed and capped (None: free), from its options alone:
    no client or credentials are needed, so `dangol sources` and the dashboard can show it."""
    source = sources[name]
    factory = collectors.get(source.use)
    billing = getattr(factory, "billing", None)
    if billing is None:
        return None
    result: Billing = billing(parse_options(factory.Options, source.options(), f"sources.{name}"))
    return result


def askable(external_ids: Sequence[str], valid: Callable[[str], object]) -> tuple[list[str], Recheck | None]:
    """The ids that can be sent to the platform, and a Recheck (of no request, nothing gone)
    covering those that cannot (a hashed over-long id, one that would change the request's path):
    never asked about, but stamped as checked so that they do not come first in every run."""
    unsendable = [i for i in external_ids if not valid(i)]
    return [i for i in external_ids if valid(i)], Recheck(checked=unsendable, requests=0) if unsendable else None


def batches(ids: list[str], size: int, max_requests: int | None) -> Iterator[list[str]]:
    """`ids` `size` at a time, at most `max_requests` batches (None: all)."""
    for number, start in enumerate(range(0, len(ids), size)):
        if max_requests is not None and number >= max_requests:
            return
        yield ids[start : start + size]


def can_recheck(name: str, sources: Mapping[str, SourceSettings]) -> bool:
    """Whether the configured source `name` can re-check its stored posts (see `Rechecker`), from
    its implementation alone: no client or credentials are needed."""
    return callable(getattr(collectors.get(sources[name].use), "recheck", None))


def parser_for(platform: str) -> Parser:
    """The `parse_<platform>` function; ConfigError lists the platforms there are."""
    if platform not in PARSERS:
        raise ConfigError(f"unknown platform {platform!r}; valid: {', '.join(PLATFORMS)}")
    module_name, _, attr = PARSERS[platform].partition(":")
    parser: Parser = getattr(importlib.import_module(module_name), attr)
    return parser


def parse_file(platform: str, path: Path) -> tuple[list[PostIn], list[DeadLetterIn]]:
    """One recorded response file through the platform parser (what `dangol listen parse` shows).

    Bad records come back as dead letters; PayloadError when the file as a whole is not a
    response of that platform (not JSON, not a feed, another endpoint's shape).
    """
    from listener.records import load_json

    parse = parser_for(platform)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise CollectError(f"cannot read {path}: {exc.strerror or exc}") from exc
    doc = body if platform == "rss" else load_json(body)
    posts, dead = parse(doc)
    if not posts and len(dead) == 1 and (dead[0].raw is doc or isinstance(dead[0].raw, bytes | str)):
        raise PayloadError(f"{path} is not a {platform} response: {dead[0].reason}")
    return posts, dead
