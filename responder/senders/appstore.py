"""Responses to App Store reviews with the App Store Connect API's `customerReviewResponses`.

    POST https://api.appstoreconnect.apple.com/v1/customerReviewResponses
    {"data": {"type": "customerReviewResponses", "attributes": {"responseBody": <text>},
              "relationships": {"review": {"data": {"type": "customerReviews", "id": <review id>}}}}}

Authorised by a JWT Dangol signs itself (ES256) with an App Store Connect API key: the `.p8`
private key, its key id and the team's issuer id. A review has one response; posting again
replaces it. The review id sent is the post's id as the public reviews feed gave it (see
docs/sources.md: Apple does not document that the two ids agree).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from pydantic import Field, SecretStr

from dangol.core.errors import SendError, SendOutcomeUnknown
from dangol.core.registry import Options
from responder.senders.base import ReplyTarget, Sent
from responder.senders.oauth import AppStoreConnectToken, TokenSource, body_of, call

API_BASE = "https://api.appstoreconnect.apple.com"
# App Store Connect ids are opaque strings; the feed's are digits. Anything else (an empty id, a
# brand answer's "…:reply") is not a review this API can know.
REVIEW_ID = re.compile(r"[A-Za-z0-9-]{1,100}")


class AppStoreOptions(Options):
    """An App Store Connect API key: the `.p8` key (its content or its file), its key id, the issuer id."""

    key_id: str | None = None
    issuer_id: str | None = None
    private_key: SecretStr | None = None
    private_key_file: str | None = None
    # Another address than Apple's (tests point it at a local server).
    api_base: str = API_BASE
    timeout_seconds: float = Field(default=30, gt=0)

    def complete(self) -> bool:
        return bool(self.key_id and self.issuer_id and (self.private_key or self.private_key_file))


class AppStoreSender:
    """Responds to reviews of the apps the key's team owns."""

    dry_run = False
    Options = AppStoreOptions

    def __init__(self, client: httpx.Client, tokens: TokenSource, *, api_base: str = API_BASE) -> None:
        self.client, self.tokens = client, tokens
        self.api_base = api_base.rstrip("/")

    @classmethod
    def from_options(cls, options: AppStoreOptions) -> AppStoreSender:
        """An httpx client and the key that signs each token."""
        assert options.key_id and options.issuer_id  # complete()
        if options.private_key:
            pem = options.private_key.get_secret_value()
        else:
            try:
                pem = Path(options.private_key_file or "").read_text(encoding="utf-8")
            except OSError as exc:
                raise SendError(f"the App Store Connect key file cannot be read: {exc.strerror}") from exc
        tokens = AppStoreConnectToken(key_id=options.key_id, issuer_id=options.issuer_id, private_key=pem)
        return cls(httpx.Client(timeout=options.timeout_seconds), tokens, api_base=options.api_base)

    @staticmethod
    def review_id(target: ReplyTarget) -> str:
        if not REVIEW_ID.fullmatch(target.external_id or ""):
            raise SendError(
                f"cannot answer App Store post {target.external_id!r}: it has no App Store review id to answer"
            )
        return target.external_id

    def send(self, target: ReplyTarget, text: str) -> Sent:
        """Create (or replace) the review's response; its id comes back."""
        review = self.review_id(target)
        body = {
            "data": {
                "type": "customerReviewResponses",
                "attributes": {"responseBody": text},
                "relationships": {"review": {"data": {"type": "customerReviews", "id": review}}},
            }
        }
        what = f"App Store response to review {review}"
        response = call(
            self.client, self.tokens, "POST", f"{self.api_base}/v1/customerReviewResponses",
            json=body, what=what, posts=True,
        )  # fmt: skip
        if response.status_code in (200, 201):
            created = body_of(response)
            data = created.get("data") if isinstance(created, dict) else None
            if isinstance(data, dict) and isinstance(data.get("id"), str):
                return Sent(external_id=data["id"])
            raise SendOutcomeUnknown(f"{what}: App Store Connect answered without the response's id")
        raise _refusal(response, what)

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        """The review's response (`GET /v1/customerReviews/<id>/response`), when it is this text."""
        review = self.review_id(target)
        what = f"could not check the App Store response to review {review}"
        url = f"{self.api_base}/v1/customerReviews/{review}/response"
        response = call(self.client, self.tokens, "GET", url, what=what, posts=False)
        if response.status_code == 404:
            return None  # no response yet
        if response.status_code != 200:
            raise _refusal(response, what)
        found = body_of(response)
        data = found.get("data") if isinstance(found, dict) else None
        attributes = data.get("attributes") if isinstance(data, dict) else None
        if isinstance(attributes, dict) and str(attributes.get("responseBody") or "").strip() == text.strip():
            return str(data["id"])  # type: ignore[index]
        return None


def _refusal(response: httpx.Response, what: str) -> SendError:
    """Apple's errors: `{"errors": [{"status", "code", "title", "detail"}]}`."""
    status = response.status_code
    doc = body_of(response)
    errors = doc.get("errors") if isinstance(doc, dict) else None
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    said = f"HTTP {status} {first.get('code', '')}: {first.get('detail') or first.get('title') or ''}".strip()
    if status == 401:
        return SendError(
            f"{what}: App Store Connect refused the token; check the key id, issuer id and .p8 key, "
            f"and that the key is not revoked ({said})"
        )
    if status == 403:
        return SendError(f"{what}: the API key's role may not respond to reviews (needs Customer Support, "
                         f"App Manager or Admin) ({said})")  # fmt: skip
    if status == 404:
        return SendError(
            f"{what}: App Store Connect does not know this review (deleted, or the feed's id is not its id); "
            f"not sent ({said})"
        )
    if status >= 500:
        return SendOutcomeUnknown(f"{what}: App Store Connect answered {said}; the response may have been posted")
    return SendError(f"{what}: App Store Connect refused it ({said})")
