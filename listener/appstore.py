"""App Store reviews: Apple's public customer-reviews JSON feed, per app and country, over httpx.

`https://itunes.apple.com/<country>/rss/customerreviews/page=<n>/id=<app>/sortby=mostrecent/json`
needs no key and gives the most recent reviews, 50 a page, 10 pages at most. The feed is Apple's
RSS turned into JSON: every value is `{"label": …}`; a first entry describing the app (no
`im:rating`) comes on some pages, a single entry comes as an object rather than a list, and a feed
without reviews has no `entry` at all.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import Field

from dangol.core.errors import CollectError, ConfigError, PayloadError
from dangol.core.registry import Options
from dangol.core.types import RATING, AuthorIn, DeadLetterIn, Page, PostIn
from listener import ratelimit
from listener.query import matches, parse_query
from listener.records import (
    check_text,
    field,
    join_title,
    load_json,
    optional,
    parse_iso,
    parse_records,
    text_field,
    whole_body_dead_letter,
)
from listener.walk import Watermark, walk_keys

API_BASE = "https://itunes.apple.com"
PAGE_SIZE = 50
MAX_PAGES = 10
# The feed's own address names its country and app: ".../kr/rss/customerreviews/page=1/id=123/...".
FEED_ADDRESS = re.compile(r"/([a-z]{2})/rss/customerreviews/(?:[^?#]*/)?id=(\d+)")
# Where a review's country and app go in `raw` (PostIn has no field for them, nor for the version).
RAW_KEY = "dangol:appstore"


def parse_appstore(
    body: Any, *, country: str | None = None, app_id: str | None = None
) -> tuple[list[PostIn], list[DeadLetterIn]]:
    """Reviews of one customer-reviews feed page; the app-information entry is left out. The
    country and app come from the caller, else from the feed's own address."""
    try:
        doc = load_json(body)
        feed = field(doc, "feed", dict, where="response") if isinstance(doc, dict) else None
        if feed is None:
            raise PayloadError(f"an App Store feed is a JSON object, got {type(doc).__name__}", raw=doc)
        entries = feed.get("entry")
        if entries is None:
            entries = []
        elif isinstance(entries, dict):
            entries = [entries]
        elif not isinstance(entries, list):
            raise PayloadError(f"feed.entry must be a list or an object, got {type(entries).__name__}", raw=doc)
    except PayloadError as exc:
        return whole_body_dead_letter("appstore", exc, body)
    if country is None or app_id is None:
        found = _address(feed)
        country, app_id = country or (found[0] if found else None), app_id or (found[1] if found else None)
    reviews = [entry for entry in entries if not _is_app(entry)]
    app_name = next((_app_name(entry) for entry in entries if _is_app(entry)), None)
    review = functools.partial(_review, country=country, app_id=app_id, app_name=app_name)
    return parse_records("appstore", reviews, review)


def _address(feed: dict[str, Any]) -> tuple[str, str] | None:
    links = feed.get("link")
    hrefs = [
        link.get("attributes", {}).get("href")
        for link in (links if isinstance(links, list) else [links])
        if isinstance(link, dict) and isinstance(link.get("attributes"), dict)
    ]
    identity = feed.get("id")
    for text in [identity.get("label") if isinstance(identity, dict) else None, *hrefs]:
        match = FEED_ADDRESS.search(text) if isinstance(text, str) else None
        if match:
            return match.group(1), match.group(2)
    return None


def _is_app(entry: Any) -> bool:
    """The entry describing the app itself (its name, price, artist), not a review."""
    return isinstance(entry, dict) and "im:rating" not in entry and ("im:name" in entry or "im:artist" in entry)


def _app_name(entry: dict[str, Any]) -> str | None:
    """The app's name as the store shows it ("마루커피 - Maru Coffee"), where its entry says one: what
    the reports name the app by, rather than its number."""
    name = (_optional_label(entry, "im:name") or "").strip()[:200]
    try:
        return check_text(name, "im:name.label") if name else None
    except PayloadError:
        return None  # a name that cannot be stored: the reports show the app's number instead


def _label(record: Any, key: str, *, where: str = "") -> str:
    name = f"{where}.{key}" if where else key
    return text_field(field(record, key, dict, where=where), "label", where=name)


def _optional_label(record: dict[str, Any], key: str) -> str | None:
    node = optional(record, key, dict)
    value = optional(node, "label", str) if node else None
    return value or None


def _review(entry: Any, *, country: str | None, app_id: str | None, app_name: str | None) -> PostIn:
    review_id = _label(entry, "id")
    if not review_id.isdigit():
        raise PayloadError(f"field 'id.label' must be a number, got {review_id!r}")
    rating_text = _label(entry, "im:rating")
    if rating_text not in {"1", "2", "3", "4", "5"}:
        raise PayloadError(f"field 'im:rating.label' must be 1 to 5, got {rating_text!r}")
    title = _label(entry, "title")
    content = _label(entry, "content")
    updated = parse_iso(_label(entry, "updated"), "updated.label")
    author = field(entry, "author", dict)
    name = _label(author, "name", where="author")
    uri = _optional_label(author, "uri")
    version = _optional_label(entry, "im:version")
    page = f"https://apps.apple.com/{country}/app/id{app_id}?see-all=reviews" if country and app_id else None
    return PostIn(
        platform="appstore",
        external_id=review_id,
        author=AuthorIn(
            platform="appstore", platform_id=uri or f"name:{name}", handle=name, display_name=name, url=uri
        ),
        text=join_title(title, content),
        title=title,
        created_at=updated,
        url=page,
        metrics={RATING: int(rating_text)},
        raw={**entry, RAW_KEY: {"country": country, "app_id": app_id, "app_name": app_name, "version": version}},
    )


class AppStoreOptions(Options):
    """Options of `use = "appstore"`."""

    # The apps' numeric App Store ids (the digits after "id" in apps.apple.com/…/id1234567).
    apps: list[str] = Field(min_length=1)
    # Two-letter App Store countries, lower case: each has its own reviews.
    countries: list[str] = Field(default_factory=lambda: ["us"], min_length=1)
    # Pages read per app and country: Apple serves at most 10 of 50 reviews.
    max_pages: int = Field(default=MAX_PAGES, ge=1, le=MAX_PAGES)
    # Pages read on the very first run of an app and country.
    backfill_pages: int = Field(default=MAX_PAGES, ge=1, le=MAX_PAGES)
    timeout_seconds: float = Field(default=30, gt=0)
    # A page larger than this is refused (a page of 50 reviews is tens of kilobytes).
    max_bytes: int = Field(default=5_000_000, ge=1024)
    user_agent: str = "dangol/0.1 (+self-hosted social listening)"
    # Another address than Apple's (tests point it at a local server).
    base_url: str = API_BASE


class AppStoreCollector:
    """Each app and country in turn, most recent reviews first, until the last run's newest."""

    platform = "appstore"
    Options = AppStoreOptions

    def __init__(self, client: httpx.Client, query: str, options: AppStoreOptions) -> None:
        self.client = client
        self.options = options
        self.ast = parse_query(query)

    @classmethod
    def from_options(cls, name: str, query: str, options: AppStoreOptions) -> AppStoreCollector:
        """Check the app ids and countries, and build an httpx client (no key is needed)."""
        bad = [app for app in options.apps if not re.fullmatch(r"\d{1,15}", app)]
        bad += [c for c in options.countries if not re.fullmatch(r"[a-z]{2}", c)]
        if bad:
            raise ConfigError(
                f"sources.{name}: apps are numeric App Store ids and countries two lower-case letters; got {bad}"
            )
        client = httpx.Client(
            timeout=options.timeout_seconds,
            follow_redirects=True,
            max_redirects=5,
            headers={"User-Agent": options.user_agent, "Accept": "application/json"},
        )
        return cls(client, query, options)

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """Every app and country in turn; each page's cursor covers them all up to it."""
        keys = [f"{app}/{country}" for app in self.options.apps for country in self.options.countries]
        yield from walk_keys(keys, cursor, self._page, functools.partial(matches, self.ast), max_requests)

    def _page(self, key: str, state: dict[str, Any]) -> tuple[list[PostIn], list[DeadLetterIn], dict[str, Any], bool]:
        """One feed page. `since`/`at_since`: the newest review time of finished runs and the reviews
        at that time (stop there); `page`/`top`/`top_ids`/`pages`: where the unfinished run goes on."""
        app_id, _, country = key.partition("/")
        number = int(state.get("page", 1))
        body = self._get(country, app_id, number)
        try:
            doc = load_json(body)
            if not isinstance(doc, dict) or not isinstance(doc.get("feed"), dict):
                raise PayloadError("an App Store feed is a JSON object with a `feed` object", raw=body[:2000])
        except PayloadError as exc:  # the whole body is unreadable: the cursor stays, this app and country stop
            return [], whole_body_dead_letter("appstore", exc, body)[1], state, True
        posts, dead = parse_appstore(doc, country=country, app_id=app_id)
        entries = doc["feed"].get("entry")
        listed = len(entries) if isinstance(entries, list) else int(isinstance(entries, dict))
        mark = Watermark.read(state)
        fresh: list[PostIn] = []
        last_fresh = True
        for post in posts:
            last_fresh = mark.fresh(post)
            if last_fresh:
                fresh.append(post)
        done = (
            listed < PAGE_SIZE  # counting the app's own entry: a page with fewer entries is the last
            or not last_fresh
            or number >= self.options.max_pages
            or mark.first_run_done(self.options.backfill_pages)
        )
        return fresh, dead, mark.state(done, {"page": number + 1}), done

    def _get(self, country: str, app_id: str, number: int) -> bytes:
        base = self.options.base_url.rstrip("/")
        url = f"{base}/{country}/rss/customerreviews/page={number}/id={app_id}/sortby=mostrecent/json"
        try:
            with self.client.stream("GET", url) as response:
                if response.status_code == 429 or response.status_code == 503 and "retry-after" in response.headers:
                    retry = ratelimit.from_retry_after(response.headers.get("retry-after"))
                    raise ratelimit.rate_limited("appstore", retry)
                if not response.is_success:
                    raise CollectError(
                        f"App Store reviews of app {app_id} ({country}) answered HTTP {response.status_code}"
                    )
                return self._read(url, response)
        except httpx.HTTPError as exc:
            raise CollectError(f"App Store reviews {url} could not be read: {type(exc).__name__}: {exc}") from exc

    def _read(self, url: str, response: httpx.Response) -> bytes:
        limit = self.options.max_bytes
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise CollectError(f"App Store reviews {url} are larger than max_bytes ({limit:,} bytes); not read")
            chunks.append(chunk)
        return b"".join(chunks)
