"""Replies to Google Play reviews with the Google Play Developer API's `reviews.reply` (service account).

    POST https://androidpublisher.googleapis.com/androidpublisher/v3/applications/<package>/reviews/<review id>:reply
    {"replyText": <text>}

A review has at most one developer reply: replying again replaces it. The access token comes from
a service account's JSON key (a JWT assertion, scope `androidpublisher`), and the service account
must be invited in the Play Console with permission to reply to reviews of the app.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field, SecretStr

from dangol.core.errors import SendError, SendOutcomeUnknown
from dangol.core.registry import Options
from responder.limits import limit_for
from responder.senders.base import ReplyTarget, Sent
from responder.senders.oauth import GoogleServiceAccount, TokenSource, body_of, call, load_service_account
from responder.senders.youtube import google_error

API_BASE = "https://androidpublisher.googleapis.com/androidpublisher/v3"
SCOPE = "https://www.googleapis.com/auth/androidpublisher"
# Where the collector keeps a review's package name (listener.googleplay.RAW_KEY; responder does
# not import listener); and the id it gives the developer's answer, so the two agree.
RAW_KEY = "dangol:googleplay"
REPLY_SUFFIX = ":reply"


class GooglePlayOptions(Options):
    """A service account's JSON key, its content or its file (environment only)."""

    service_account_json: SecretStr | None = None
    service_account_file: str | None = None
    # Other addresses than Google's (tests point them at a local server); the token endpoint
    # defaults to the key's own `token_uri`.
    api_base: str = API_BASE
    token_url: str | None = None
    timeout_seconds: float = Field(default=30, gt=0)

    def complete(self) -> bool:
        return bool(self.service_account_json or self.service_account_file)


class GooglePlaySender:
    """Replies to a review of one of the apps the service account may answer for."""

    dry_run = False
    Options = GooglePlayOptions

    def __init__(self, client: httpx.Client, tokens: TokenSource, *, api_base: str = API_BASE) -> None:
        self.client, self.tokens = client, tokens
        self.api_base = api_base.rstrip("/")

    @classmethod
    def from_options(cls, options: GooglePlayOptions) -> GooglePlaySender:
        """An httpx client and the service account's token exchange."""
        content = options.service_account_json.get_secret_value() if options.service_account_json else None
        info = load_service_account(content, options.service_account_file)
        client = httpx.Client(timeout=options.timeout_seconds)
        return cls(
            client,
            GoogleServiceAccount(client, info, scope=SCOPE, token_url=options.token_url),
            api_base=options.api_base,
        )

    @staticmethod
    def address(target: ReplyTarget) -> tuple[str, str]:
        """(package name, review id) of the review; SendError when the stored post lacks either."""
        where = target.raw.get(RAW_KEY) if isinstance(target.raw, dict) else None
        package = where.get("app_id") if isinstance(where, dict) else None
        review = target.external_id
        if not isinstance(package, str) or not package:
            raise SendError(f"cannot answer Google Play review {review}: the stored review does not name its app")
        if not review or review.endswith(REPLY_SUFFIX):
            raise SendError(f"cannot answer Google Play post {review!r}: it is not a review")
        return package, review

    def _url(self, package: str, review: str, suffix: str = "") -> str:
        return f"{self.api_base}/applications/{quote(package, safe='')}/reviews/{quote(review, safe=':')}{suffix}"

    def send(self, target: ReplyTarget, text: str) -> Sent:
        """Post (or replace) the developer reply; its id is the review's with ":reply", as the collector names it."""
        package, review = self.address(target)
        limit = limit_for("googleplay")
        if limit is not None and len(text) > limit:
            raise SendError(f"a Google Play reply is at most {limit} characters; this one is {len(text)}")
        what = f"Google Play reply to review {review} of {package}"
        response = call(
            self.client, self.tokens, "POST", self._url(package, review, ":reply"),
            json={"replyText": text}, what=what, posts=True,
        )  # fmt: skip
        if response.status_code == 200:
            return Sent(external_id=review + REPLY_SUFFIX)
        raise _refusal(response, what)

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        """`reviews.get`: the review's developer comment, when it is this text."""
        package, review = self.address(target)
        what = f"could not check Google Play review {review} of {package}"
        response = call(self.client, self.tokens, "GET", self._url(package, review), what=what, posts=False)
        if response.status_code != 200:
            raise _refusal(response, what)
        found = body_of(response)
        for comment in found.get("comments", []) if isinstance(found, dict) else []:
            developer: Any = comment.get("developerComment") if isinstance(comment, dict) else None
            if isinstance(developer, dict) and str(developer.get("text") or "").strip() == text.strip():
                return review + REPLY_SUFFIX
        return None


def _refusal(response: httpx.Response, what: str) -> SendError:
    status = response.status_code
    reason, message = google_error(response)
    said = f"HTTP {status} {reason}: {message}".strip()
    if status == 404:
        return SendError(
            f"{what}: Google Play does not know this review for the app (deleted, or not a Developer API review id); "
            f"not sent ({said})"
        )
    if status in (401, 403):
        return SendError(
            f"{what}: the service account may not reply for this app; invite it in the Play Console "
            f"(Users and permissions: reply to reviews) ({said})"
        )
    if status >= 500:
        return SendOutcomeUnknown(f"{what}: Google Play answered {said}; the reply may have been posted")
    return SendError(f"{what}: Google Play refused it ({said})")
