"""Replies on YouTube with the Data API's `comments.insert`, as the brand's channel (OAuth).

    POST https://www.googleapis.com/youtube/v3/comments?part=snippet
    {"snippet": {"parentId": <the thread's top-level comment id>, "textOriginal": <text>}}

The access token comes from a refresh token the brand's channel granted an OAuth client (scope
`https://www.googleapis.com/auth/youtube.force-ssl`); an API key cannot post. Each insert spends 50
units of the Google project's daily quota (a `comments.list` page 1), shared with the collector.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from pydantic import Field, SecretStr

from dangol.core.errors import SendError, SendOutcomeUnknown
from dangol.core.registry import Options
from dangol.core.types import utcnow
from responder.senders.base import ReplyTarget, Sent
from responder.senders.oauth import GOOGLE_TOKEN_URL, GoogleRefreshToken, TokenSource, body_of, call

API_BASE = "https://www.googleapis.com/youtube/v3"
# How many pages of a thread's replies find_existing reads (1 unit each) looking for ours.
MAX_REPLY_PAGES = 5


class YouTubeOptions(Options):
    """An OAuth client of the Google Cloud project and the brand channel's refresh token (environment only)."""

    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    # The brand's channel (UC…): an earlier reply is recognised only when this channel wrote it.
    channel_id: str | None = None
    # Other addresses than Google's (tests point them at a local server).
    api_base: str = API_BASE
    token_url: str = GOOGLE_TOKEN_URL
    timeout_seconds: float = Field(default=30, gt=0)

    def complete(self) -> bool:
        return bool(self.client_id and self.client_secret and self.refresh_token)


def google_error(response: httpx.Response) -> tuple[str, str]:
    """(reason, message) of a Google API error body: `{"error": {"errors": [{"reason": …}], "message": …}}`."""
    doc = body_of(response)
    error = doc.get("error") if isinstance(doc, dict) else None
    error = error if isinstance(error, dict) else {}
    errors = error.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    reason = str(first.get("reason") or error.get("status") or "")
    return reason, str(error.get("message") or first.get("message") or "")[:300]


def next_pacific_midnight(now: datetime) -> datetime:
    """When the Data API's daily quota is reset: the next midnight in America/Los_Angeles, as UTC."""
    zone = ZoneInfo("America/Los_Angeles")
    tomorrow = (now.astimezone(zone) + timedelta(days=1)).date()
    return datetime.combine(tomorrow, time(0), tzinfo=zone).astimezone(UTC)


class YouTubeSender:
    """Replies under a comment thread as the channel whose refresh token it holds."""

    dry_run = False
    Options = YouTubeOptions
    # OAuth client id → when its project's quota is back. Senders are built afresh for each send,
    # and the quota belongs to the project, so the memory is the process's: after a 403
    # quotaExceeded no call is made again before the reset.
    quota_spent_until: ClassVar[dict[str, datetime]] = {}

    def __init__(
        self,
        client: httpx.Client,
        tokens: TokenSource,
        *,
        api_base: str = API_BASE,
        channel_id: str | None = None,
        quota_key: str = "",
    ) -> None:
        self.client, self.tokens = client, tokens
        self.api_base = api_base.rstrip("/")
        self.channel_id, self.quota_key = channel_id, quota_key

    @classmethod
    def from_options(cls, options: YouTubeOptions) -> YouTubeSender:
        """An httpx client and the refresh-token exchange, from the options."""
        assert options.client_id and options.client_secret and options.refresh_token  # complete()
        client = httpx.Client(timeout=options.timeout_seconds)
        tokens = GoogleRefreshToken(
            client,
            client_id=options.client_id,
            client_secret=options.client_secret.get_secret_value(),
            refresh_token=options.refresh_token.get_secret_value(),
            token_url=options.token_url,
        )
        return cls(
            client, tokens, api_base=options.api_base, channel_id=options.channel_id, quota_key=options.client_id
        )

    @staticmethod
    def parent_of(target: ReplyTarget) -> str:
        """The thread's top-level comment: YouTube threads are one level deep, so a reply to a reply
        goes under the comment that opened the thread (the collector keeps it as `thread_id`)."""
        parent = target.thread_id or target.external_id
        if not parent:
            raise SendError("cannot reply on YouTube: the post has no comment id")
        return parent

    def send(self, target: ReplyTarget, text: str) -> Sent:
        """Post the reply; the new comment's id comes back."""
        self._check_quota()
        body = {"snippet": {"parentId": self.parent_of(target), "textOriginal": text}}
        what = f"YouTube reply to comment {target.external_id}"
        response = call(
            self.client, self.tokens, "POST", f"{self.api_base}/comments",
            params={"part": "snippet"}, json=body, what=what, posts=True,
        )  # fmt: skip
        if response.status_code == 200:
            created = body_of(response)
            if isinstance(created, dict) and isinstance(created.get("id"), str):
                return Sent(external_id=created["id"])
            raise SendOutcomeUnknown(f"{what}: YouTube answered 200 without the new comment's id")
        raise self._refusal(response, what)

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        """Read the thread's replies (newest pages first) for ours: same text, by our channel when known."""
        self._check_quota()
        params: dict[str, Any] = {"part": "snippet", "parentId": self.parent_of(target), "maxResults": 100}
        what = f"YouTube replies to comment {target.external_id}"
        for _ in range(MAX_REPLY_PAGES):
            response = call(
                self.client, self.tokens, "GET", f"{self.api_base}/comments", params=params, what=what, posts=False
            )
            if response.status_code != 200:
                raise self._refusal(response, f"could not check {what}")
            page = body_of(response)
            page = page if isinstance(page, dict) else {}
            for item in page.get("items") or []:
                if self._ours(item, text):
                    return str(item["id"])
            if not page.get("nextPageToken"):
                return None
            params["pageToken"] = page["nextPageToken"]
        return None

    def _ours(self, item: Any, text: str) -> bool:
        snippet = item.get("snippet") if isinstance(item, dict) else None
        if not isinstance(snippet, dict) or not isinstance(item.get("id"), str):
            return False
        author = snippet.get("authorChannelId")
        author_id = author.get("value") if isinstance(author, dict) else None
        same_text = str(snippet.get("textOriginal") or "").strip() == text.strip()
        return same_text and (self.channel_id is None or author_id == self.channel_id)

    def _check_quota(self) -> None:
        until = self.quota_spent_until.get(self.quota_key)
        if until is not None and utcnow() < until:
            raise SendError(
                f"YouTube's daily quota is spent; not tried again before {until:%Y-%m-%d %H:%M} UTC (midnight Pacific)"
            )

    def _refusal(self, response: httpx.Response, what: str) -> SendError:
        """What YouTube's refusal means, for the person who sees it on the reply."""
        status = response.status_code
        reason, message = google_error(response)
        said = f"HTTP {status} {reason}: {message}".strip()
        if reason == "quotaExceeded" or (status == 403 and "quota" in message.lower() and "daily" in message.lower()):
            until = next_pacific_midnight(utcnow())
            self.quota_spent_until[self.quota_key] = until
            return SendError(
                f"{what}: the Google project's daily YouTube quota is spent ({said}); "
                f"not tried again before {until:%Y-%m-%d %H:%M} UTC (midnight Pacific)"
            )
        if reason == "commentsDisabled":
            return SendError(f"{what}: comments are turned off on this video; it cannot be answered there ({said})")
        if status == 404:
            return SendError(f"{what}: the comment no longer exists (deleted, or held for review); not sent ({said})")
        if status == 401:
            return SendError(
                f"{what}: Google refused the channel's OAuth token even after a refresh; "
                f"authorise the client again and set a new refresh token ({said})"
            )
        if status >= 500:
            # A server error after a POST does not say the comment was not made: look before resending.
            return SendOutcomeUnknown(f"{what}: YouTube answered {said}; the reply may have been posted")
        return SendError(f"{what}: YouTube refused it ({said})")
