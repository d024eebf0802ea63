"""RSS and Atom feeds: fetched with httpx (conditional GET), parsed with feedparser.

A feed URL comes from configuration, but its redirects come from whoever runs the feed: every hop
is checked to resolve to public addresses only (unless allowed, for intranet feeds), redirects are
followed by hand, and the body is read up to `max_bytes`."""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from pydantic import Field

from dangol.core.errors import CollectError, PayloadError
from dangol.core.registry import Options
from dangol.core.types import AuthorIn, DeadLetterIn, Page, PostIn
from listener import ratelimit
from listener.query import matches, parse_query
from listener.records import check_text, join_title, parse_records, strip_html, whole_body_dead_letter

# How many entry ids the cursor remembers, so an unchanged item is not yielded again.
SEEN_LIMIT = 500


def parse_rss(body: bytes | str) -> tuple[list[PostIn], list[DeadLetterIn]]:
    """Entries of one RSS 2.0, RSS 1.0 or Atom document."""
    import feedparser

    if isinstance(body, str):
        body = body.encode("utf-8", errors="surrogateescape")
    if not isinstance(body, bytes | bytearray):
        return whole_body_dead_letter("rss", PayloadError("an RSS body is XML bytes or text"), body)
    try:
        feed = feedparser.parse(bytes(body))
    except (ValueError, LookupError) as exc:  # feedparser fails on a broken encoding declaration
        return whole_body_dead_letter("rss", PayloadError(f"unreadable XML encoding: {exc}"), bytes(body)[:2000])
    if not feed.entries and (feed.bozo or not feed.feed):
        reason = f"not a readable RSS/Atom feed: {feed.get('bozo_exception') or 'no entries and no channel'}"
        return whole_body_dead_letter("rss", PayloadError(reason), bytes(body)[:2000])
    channel = feed.feed
    return parse_records("rss", feed.entries, lambda entry: _entry(entry, channel))


def _entry(entry: Any, channel: Any) -> PostIn:
    link = entry.get("link")
    title = check_text(strip_html(entry.get("title", "")), "title") or None
    summary = entry.get("content")[0].get("value", "") if entry.get("content") else entry.get("summary", "")
    text = check_text(strip_html(summary), "summary")
    external_id = entry.get("id") or link or _digest(title, text)
    when = entry.get("published_parsed") or entry.get("updated_parsed") or channel.get("updated_parsed")
    if when is None:
        raise PayloadError("entry has no published or updated date, and neither has the feed")
    channel_link = channel.get("link") or ""
    author_name = entry.get("author") or channel.get("title") or channel_link
    return PostIn(
        platform="rss",
        external_id=str(external_id),
        author=AuthorIn(
            platform="rss",
            platform_id=f"{channel_link}#{author_name}",
            handle=author_name,
            display_name=author_name,
            url=channel_link or None,
        ),
        text=join_title(title, text),
        title=title,
        created_at=datetime(when[0], when[1], when[2], when[3], when[4], when[5], tzinfo=UTC),
        url=link,
        lang_hint=(channel.get("language") or "").split("-")[0].lower() or None,
        raw=dict(entry),
    )


def _digest(*parts: str | None) -> str:
    return "sha1:" + hashlib.sha1("\x1f".join(p or "" for p in parts).encode()).hexdigest()


class RssOptions(Options):
    """Options of `use = "rss"`."""

    url: str
    timeout_seconds: float = Field(default=30, gt=0)
    user_agent: str = "dangol/0.1 (+self-hosted social listening)"
    # Feeds (and every redirect) must resolve to public addresses; list hosts or networks
    # ("intranet.example", "10.1.0.0/16") here for a feed inside your own network.
    allow_private: list[str] = Field(default_factory=list)
    # A feed body larger than this is refused (a feed is kilobytes; this guards memory).
    max_bytes: int = Field(default=10_000_000, ge=1024)
    max_redirects: int = Field(default=5, ge=0, le=20)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A feed response read within the size cap."""

    status: int
    headers: httpx.Headers
    body: bytes


def check_target(url: str, allow: list[str]) -> None:
    """CollectError unless `url` is http(s) and its host resolves only to public addresses (or is
    allowed): a feed URL, or a redirect, must not reach this machine, the cloud metadata service
    (169.254.169.254) or other private hosts."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CollectError(f"feed {url}: only http(s) URLs are fetched")
    host = parts.hostname
    try:
        infos = socket.getaddrinfo(
            host, parts.port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP
        )
    except (socket.gaierror, UnicodeError) as exc:
        raise CollectError(f"feed {url}: cannot resolve {host}: {exc}") from exc
    for address in sorted({str(info[4][0]) for info in infos}):
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global and not _allowed(host, ip, allow):
            raise CollectError(
                f"feed {url}: {host} is {ip}, a private, loopback or link-local address; "
                "add it to the source's allow_private if it is your own intranet feed"
            )


def _allowed(host: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow: list[str]) -> bool:
    for entry in allow:
        if entry.casefold() == host.casefold():
            return True
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


class RssCollector:
    """One feed URL; sends If-None-Match / If-Modified-Since so an unchanged feed costs no parsing."""

    platform = "rss"
    Options = RssOptions

    def __init__(self, client: httpx.Client, query: str, options: RssOptions) -> None:
        self.client = client
        self.options = options
        self.ast = parse_query(query)

    @classmethod
    def from_options(cls, name: str, query: str, options: RssOptions) -> RssCollector:
        """Build an httpx client for the feed."""
        # Redirects are followed by hand, each target checked (check_target) before it is asked.
        client = httpx.Client(
            timeout=options.timeout_seconds, follow_redirects=False, headers={"User-Agent": options.user_agent}
        )
        return cls(client, query, options)

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """At most one page: the feed's entries not seen before (none when the feed is unchanged)."""
        if max_requests is not None and max_requests < 1:
            return
        headers = {}
        if cursor.get("etag"):
            headers["If-None-Match"] = cursor["etag"]
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = cursor["last_modified"]
        response = self._get(headers)
        if response.status == 304:
            yield Page([], dict(cursor))
            return
        posts, dead = parse_rss(response.body)
        seen = list(cursor.get("seen") or [])
        fresh = [post for post in posts if post.external_id not in seen]
        new_cursor = {
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
            "seen": ([p.external_id for p in fresh] + seen)[:SEEN_LIMIT],
        }
        kept = [post for post in fresh if matches(self.ast, post)]
        yield Page(kept, {k: v for k, v in new_cursor.items() if v}, dead)

    def _get(self, headers: dict[str, str]) -> Fetched:
        url = self.options.url
        for _ in range(self.options.max_redirects + 1):
            check_target(url, self.options.allow_private)
            try:
                with self.client.stream("GET", url, headers=headers, follow_redirects=False) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    self._check_status(url, response)
                    return Fetched(response.status_code, response.headers, self._read(url, response))
            except httpx.HTTPError as exc:
                raise CollectError(f"feed {url} could not be read: {type(exc).__name__}: {exc}") from exc
        raise CollectError(f"feed {self.options.url}: more than {self.options.max_redirects} redirects")

    @staticmethod
    def _check_status(url: str, response: httpx.Response) -> None:
        if response.status_code == 429 or response.status_code == 503 and "retry-after" in response.headers:
            retry = ratelimit.from_retry_after(response.headers.get("retry-after"))
            raise ratelimit.rate_limited("rss", retry)
        if response.status_code != 304 and not response.is_success:
            raise CollectError(f"feed {url} answered HTTP {response.status_code}")

    def _read(self, url: str, response: httpx.Response) -> bytes:
        limit = self.options.max_bytes
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise CollectError(f"feed {url} is larger than max_bytes ({limit:,} bytes); not read")
            chunks.append(chunk)
        return b"".join(chunks)
