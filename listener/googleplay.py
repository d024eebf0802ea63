"""Google Play reviews through the `google-play-scraper` package (MIT), per app, language and country.

The package reads play.google.com's own web endpoint (no key, no published quota) and returns each
review as a dict: reviewId, userName, userImage, content, score, thumbsUpCount,
reviewCreatedVersion, at, replyContent, repliedAt, appVersion. `at` and `repliedAt` are naive
datetimes made with `datetime.fromtimestamp`, i.e. in the collecting machine's local time; the
same dicts serialised to JSON (what `dangol listen parse --platform googleplay` reads) carry them
as strings without a zone, which are taken as UTC.

A review is one per author and app: an edited review keeps its id and comes again, newest first,
with its new time (storage then updates the stored post, see `storage.ingest`). The developer's
answer (`replyContent`) becomes a second post, by the brand's account, replying to the review.
"""

from __future__ import annotations

import functools
import re
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from pydantic import Field

from dangol.core.errors import CollectError, ConfigError, PayloadError
from dangol.core.registry import Options
from dangol.core.types import RATING, AuthorIn, DeadLetterIn, Page, PostIn
from listener.query import matches, parse_query
from listener.records import (
    check_text,
    field,
    load_json,
    optional,
    parse_iso,
    parse_records,
    text_field,
    whole_body_dead_letter,
)
from listener.walk import Watermark, walk_keys

# The package's `reviews(app_id, lang=, country=, sort=, count=, continuation_token=)`:
# (list of review dicts, continuation token whose `.token` is None after the last page).
FetchReviews = Callable[..., tuple[list[Any], Any]]

MAX_COUNT = 200
# Where a review's app, language, country and version go in `raw` (PostIn has no field for them).
RAW_KEY = "dangol:googleplay"
# The developer's answer is a post of its own: the review's id with this suffix.
REPLY_SUFFIX = ":reply"
APP_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+")
LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z]{2,4})?")
COUNTRY = re.compile(r"[a-z]{2}")


def scraper() -> Any:
    """The `google_play_scraper` module, imported without its side effect: on import it replaces
    `ssl._create_default_https_context` with an UNVERIFIED context for the whole process (every
    later urllib request would skip certificate checks). The verifying default is put back, so the
    package's own requests to play.google.com are checked too."""
    before = ssl._create_default_https_context
    try:
        import google_play_scraper
    finally:
        ssl._create_default_https_context = before
    return google_play_scraper


def parse_googleplay(
    body: Any,
    *,
    app_id: str | None = None,
    lang: str | None = None,
    country: str | None = None,
    developer: str | None = None,
) -> tuple[list[PostIn], list[DeadLetterIn]]:
    """Reviews as the package returns them (a list of dicts; as JSON, times are zone-less strings,
    taken as UTC), then the developer's answers, each a post by `developer` (default: the app id)
    replying to its review. Without `app_id` the posts have no link."""
    try:
        records = load_json(body)
        if not isinstance(records, list):
            raise PayloadError(f"Google Play reviews are a JSON list, got {type(records).__name__}", raw=records)
    except PayloadError as exc:
        return whole_body_dead_letter("googleplay", exc, body)
    where = {"app_id": app_id, "lang": lang, "country": country}
    reviews, dead = parse_records("googleplay", records, lambda record: _review(record, **where))
    answered = [r for r in records if isinstance(r, dict) and r.get("replyContent")]
    ids = {post.external_id for post in reviews}
    answered = [r for r in answered if isinstance(r.get("reviewId"), str) and r["reviewId"] in ids]
    handle = developer or app_id or "developer"
    replies, dead_replies = parse_records("googleplay", answered, lambda r: _reply(r, handle=handle, **where))
    return reviews + replies, dead + dead_replies


def when(value: Any, name: str) -> datetime:
    """A review time as aware UTC: a naive datetime is the package's `fromtimestamp` (this machine's
    local time), a string without a zone is taken as UTC."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)  # naive: local time, as `fromtimestamp` made it
    if isinstance(value, str):
        return parse_iso(value.strip().replace(" ", "T", 1), name)
    raise PayloadError(f"field {name!r} must be a time, got {type(value).__name__}")


def _link(app_id: str | None, lang: str | None, country: str | None, review_id: str) -> str | None:
    if not app_id:
        return None
    extra = "".join(f"&{key}={value}" for key, value in (("hl", lang), ("gl", country)) if value)
    return f"https://play.google.com/store/apps/details?id={app_id}{extra}&reviewId={review_id}"


def _raw(record: dict[str, Any], app_id: str | None, lang: str | None, country: str | None) -> dict[str, Any]:
    version = optional(record, "appVersion", str) or optional(record, "reviewCreatedVersion", str)
    return {**record, RAW_KEY: {"app_id": app_id, "lang": lang, "country": country, "version": version}}


def _review_id(record: Any) -> str:
    review_id = text_field(record, "reviewId")
    if not review_id.strip() or len(review_id) > 200:
        raise PayloadError(f"field 'reviewId' must be a short non-empty id, got {review_id[:80]!r}")
    return review_id


def _review(record: Any, *, app_id: str | None, lang: str | None, country: str | None) -> PostIn:
    review_id = _review_id(record)
    score = field(record, "score", int)
    if not 1 <= score <= 5:
        raise PayloadError(f"field 'score' must be 1 to 5, got {score}")
    name = text_field(record, "userName")
    content = record.get("content")
    if content is not None and not isinstance(content, str):
        raise PayloadError(f"field 'content' must be str, got {type(content).__name__}")
    metrics = {RATING: score}
    likes = optional(record, "thumbsUpCount", int)
    if likes is not None:
        metrics["likes"] = likes
    image = optional(record, "userImage", str)
    return PostIn(
        platform="googleplay",
        external_id=review_id,
        # Google Play shows no account id: the name (often "A Google user") is all there is.
        author=AuthorIn(platform="googleplay", platform_id=f"name:{name}", handle=name, display_name=name, url=image),
        text=check_text(content or "", "content"),
        created_at=when(field(record, "at", (datetime, str)), "at"),
        url=_link(app_id, lang, country, review_id),
        lang_hint=lang,
        metrics=metrics,
        raw=_raw(record, app_id, lang, country),
    )


def _reply(record: Any, *, handle: str, app_id: str | None, lang: str | None, country: str | None) -> PostIn:
    review_id = _review_id(record)
    return PostIn(
        platform="googleplay",
        external_id=review_id + REPLY_SUFFIX,
        author=AuthorIn(platform="googleplay", platform_id=f"developer:{handle}", handle=handle, display_name=handle),
        text=text_field(record, "replyContent"),
        created_at=when(field(record, "repliedAt", (datetime, str)), "repliedAt"),
        url=_link(app_id, lang, country, review_id),
        lang_hint=lang,
        reply_to_id=review_id,
        thread_id=review_id,
        is_reply=True,
        raw={"replyTo": review_id, "replyContent": record["replyContent"], "repliedAt": record["repliedAt"]},
    )


class GooglePlayOptions(Options):
    """Options of `use = "googleplay"`."""

    # Package names, as in play.google.com/store/apps/details?id=com.example.app.
    apps: list[str] = Field(min_length=1)
    # Review languages and store countries, read as every language × every country …
    langs: list[str] = Field(default_factory=lambda: ["en"], min_length=1)
    countries: list[str] = Field(default_factory=lambda: ["us"], min_length=1)
    # … or, when given, only these "lang/country" pairs ("ko/kr", "en/us").
    pairs: list[str] = Field(default_factory=list)
    # Reviews a request (the package asks Google for this many at once; at most 200).
    count: int = Field(default=100, ge=1, le=MAX_COUNT)
    # Requests per app, language and country a run, and on the very first run.
    max_pages: int = Field(default=5, ge=1, le=100)
    backfill_pages: int = Field(default=5, ge=1, le=100)
    # The handle of the developer's answers (default: the app id): list it in brand.own_handles
    # as "googleplay:<developer>" so the answers count as the brand's.
    developer: str = ""


class GooglePlayCollector:
    """Each app, language and country in turn, newest reviews first, until the last run's newest."""

    platform = "googleplay"
    Options = GooglePlayOptions

    def __init__(self, fetch_reviews: FetchReviews, query: str, options: GooglePlayOptions) -> None:
        self.fetch_reviews = fetch_reviews
        self.options = options
        self.ast = parse_query(query)

    @classmethod
    def from_options(cls, name: str, query: str, options: GooglePlayOptions) -> GooglePlayCollector:
        """Check app ids, languages and countries, and bind the package's `reviews` (no key needed)."""
        bad = [app for app in options.apps if not APP_ID.fullmatch(app)]
        bad += [lang for lang in options.langs if not LANG.fullmatch(lang)]
        bad += [country for country in options.countries if not COUNTRY.fullmatch(country)]
        for pair in options.pairs:
            lang, _, country = pair.partition("/")
            if not (LANG.fullmatch(lang) and COUNTRY.fullmatch(country)):
                bad.append(pair)
        if bad:
            raise ConfigError(
                f"sources.{name}: apps are package names (com.example.app), langs language codes (en, ko), "
                f"countries two lower-case letters, pairs 'lang/country'; got {bad}"
            )
        return cls(scraper().reviews, query, options)

    def keys(self) -> list[str]:
        """ "app/lang/country" of every stream this source reads, in order."""
        pairs = self.options.pairs or [f"{lang}/{c}" for lang in self.options.langs for c in self.options.countries]
        return [f"{app}/{pair}" for app in self.options.apps for pair in pairs]

    def fetch(self, cursor: dict[str, Any], *, max_requests: int | None = None) -> Iterator[Page]:
        """Every app, language and country in turn; each page's cursor covers them all up to it."""
        yield from walk_keys(self.keys(), cursor, self._page, functools.partial(matches, self.ast), max_requests)

    def _page(self, key: str, state: dict[str, Any]) -> tuple[list[PostIn], list[DeadLetterIn], dict[str, Any], bool]:
        """One request. `since`/`at_since`: the newest review time of finished runs and the reviews at
        that time (stop there); `token`/`top`/`top_ids`/`pages`: where the unfinished run goes on
        (`token` is the package's continuation token, Google's paging state)."""
        app_id, lang, country = key.split("/")
        records, token = self._call(app_id, lang, country, state.get("token"))
        posts, dead = parse_googleplay(
            records, app_id=app_id, lang=lang, country=country, developer=self.options.developer or app_id
        )
        mark = Watermark.read(state)
        reviews = {post.external_id: post for post in posts if post.reply_to_id is None}
        fresh_ids: set[str] = set()
        last_fresh = True
        for post in reviews.values():  # newest first, as asked
            last_fresh = mark.fresh(post)
            if last_fresh:
                fresh_ids.add(post.external_id)
        # A developer's answer comes and goes with its review.
        fresh = [post for post in posts if (post.reply_to_id or post.external_id) in fresh_ids]
        done = (
            token is None
            or len(records) < self.options.count
            or not last_fresh
            or mark.pages >= self.options.max_pages
            or mark.first_run_done(self.options.backfill_pages)
        )
        return fresh, dead, mark.state(done, {"token": token}), done

    def _call(self, app_id: str, lang: str, country: str, token: str | None) -> tuple[list[Any], str | None]:
        """One call of the package: its reviews and the continuation token's paging state (None: no more).

        The package itself turns every failed request into "no reviews, no token"; whatever it still
        raises is a CollectError."""
        package = scraper()
        sort = package.Sort.NEWEST
        resume = None
        if token:
            from google_play_scraper.features.reviews import _ContinuationToken

            resume = _ContinuationToken(token, lang, country, sort.value, self.options.count, None, None)
        try:
            found = self.fetch_reviews(
                app_id, lang=lang, country=country, sort=sort, count=self.options.count, continuation_token=resume
            )
        except Exception as exc:  # noqa: BLE001  (a scraper of someone else's web page fails in any way)
            raise CollectError(
                f"Google Play reviews of {app_id} ({lang}/{country}): {type(exc).__name__}: {exc}"
            ) from exc
        if not (isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], list)):
            raise CollectError(f"Google Play reviews of {app_id}: the scraper returned {type(found).__name__}")
        records, continuation = found
        following = getattr(continuation, "token", None)
        return records, following if isinstance(following, str) and following else None
