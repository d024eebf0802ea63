"""Access tokens for the store and YouTube senders, and one authorised JSON call over httpx.

Three token sources, each with `get()` (a bearer token, cached while it is good) and `invalidate()`
(forget it, after a 401):

- `GoogleRefreshToken`: an OAuth client's refresh token exchanged at Google's token endpoint
  (`grant_type=refresh_token`); the brand channel's consent, for YouTube.
- `GoogleServiceAccount`: a service account's key signs a JWT (RS256, google-auth's signer) that is
  exchanged for an access token (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`); Google Play.
- `AppStoreConnectToken`: App Store Connect takes the signed JWT itself (ES256, a `.p8` key), no exchange.

The HTTP goes through the sender's own `httpx.Client`, so a test points every call at 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

from dangol.core.errors import SendError, SendOutcomeUnknown
from dangol.core.redact import redact_secrets

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# A token this close to its expiry is renewed first, so it does not lapse on the way.
EARLY_SECONDS = 60
# Apple refuses App Store Connect tokens that live longer than 20 minutes.
APPSTORE_TOKEN_SECONDS = 19 * 60


class TokenSource(Protocol):
    def get(self) -> str:
        """A bearer token good for the next call."""
        ...

    def invalidate(self) -> None:
        """Forget the cached token (the platform answered 401)."""
        ...


class _Cached:
    """A token and when it stops being good (monotonic seconds)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.token: str | None = None
        self.until = 0.0

    def fresh(self) -> str | None:
        return self.token if self.token and self.clock() < self.until - EARLY_SECONDS else None

    def keep(self, token: str, seconds: float) -> str:
        self.token, self.until = token, self.clock() + seconds
        return token

    def invalidate(self) -> None:
        self.token = None


def _exchange(client: httpx.Client, url: str, form: dict[str, str], what: str, secrets: list[str]) -> tuple[str, float]:
    """POST the grant to Google's token endpoint; (access token, seconds it lives)."""
    try:
        response = client.post(url, data=form)
    except httpx.HTTPError as exc:
        # No reply has been posted yet: failing here is safe to retry.
        raise SendError(f"{what}: the token endpoint could not be reached ({type(exc).__name__})") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    if response.status_code != 200 or not isinstance(body.get("access_token"), str):
        # Google's OAuth errors: {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
        detail = redact_secrets(f"{body.get('error', '')} {body.get('error_description', '')}".strip(), secrets)
        raise SendError(f"{what}: the token endpoint answered HTTP {response.status_code} {detail}".rstrip())
    expires = body.get("expires_in")
    return body["access_token"], float(expires) if isinstance(expires, int | float) else 3600.0


class GoogleRefreshToken:
    """An OAuth client (id and secret) and the refresh token the brand's account granted it."""

    def __init__(
        self, client: httpx.Client, *, client_id: str, client_secret: str, refresh_token: str, token_url: str
    ) -> None:
        self.client, self.token_url = client, token_url
        self.form = {
            "grant_type": "refresh_token",
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": refresh_token,
        }
        self.cache = _Cached()

    def get(self) -> str:
        if token := self.cache.fresh():
            return token
        secrets = [self.form["client_secret"], self.form["refresh_token"]]
        token, seconds = _exchange(self.client, self.token_url, self.form, "Google OAuth refresh", secrets)
        return self.cache.keep(token, seconds)

    def invalidate(self) -> None:
        self.cache.invalidate()


def load_service_account(content: str | None, path: str | None) -> dict[str, Any]:
    """A service account's JSON key, from its content or its file; SendError saying what is wrong."""
    try:
        text = content if content else Path(path or "").read_text(encoding="utf-8")
    except OSError as exc:
        raise SendError(f"the service account key file {path!r} cannot be read: {exc.strerror}") from exc
    try:
        info = json.loads(text)
    except ValueError as exc:
        raise SendError("the service account key is not JSON (the key file Google Cloud gives, as is)") from exc
    missing = [k for k in ("client_email", "private_key") if not isinstance(info, dict) or not info.get(k)]
    if missing or info.get("type", "service_account") != "service_account":
        raise SendError(f"the service account key is not a service account's JSON key (missing {missing or 'type'})")
    return dict(info)


class GoogleServiceAccount:
    """A service account's key: a signed JWT assertion, exchanged for an access token."""

    def __init__(self, client: httpx.Client, info: dict[str, Any], *, scope: str, token_url: str | None = None) -> None:
        from google.auth import crypt

        self.client, self.scope = client, scope
        self.email = str(info["client_email"])
        # The assertion's audience is the token endpoint the key names; `token_url` only changes
        # where it is sent (a proxy, a test server).
        self.audience = str(info.get("token_uri") or GOOGLE_TOKEN_URL)
        self.token_url = token_url or self.audience
        try:
            self.signer = crypt.RSASigner.from_service_account_info(info)
        except (ValueError, TypeError) as exc:
            raise SendError("the service account's private_key is not a readable RSA key") from exc
        self.cache = _Cached()

    def assertion(self, now: int | None = None) -> str:
        from google.auth import jwt

        now = int(time.time()) if now is None else now
        claims = {"iss": self.email, "scope": self.scope, "aud": self.audience, "iat": now, "exp": now + 3600}
        return jwt.encode(self.signer, claims).decode()

    def get(self) -> str:
        if token := self.cache.fresh():
            return token
        form = {"grant_type": JWT_BEARER, "assertion": self.assertion()}
        token, seconds = _exchange(self.client, self.token_url, form, f"Google service account {self.email}", [])
        return self.cache.keep(token, seconds)

    def invalidate(self) -> None:
        self.cache.invalidate()


class AppStoreConnectToken:
    """App Store Connect's JWT: ES256 over the team's `.p8` key, with its key id and issuer id."""

    def __init__(self, *, key_id: str, issuer_id: str, private_key: str) -> None:
        from google.auth import crypt

        self.issuer_id = issuer_id
        try:
            self.signer = crypt.ES256Signer.from_string(private_key, key_id)
        except (ValueError, TypeError) as exc:
            raise SendError("the App Store Connect key is not a readable .p8 (EC P-256) private key") from exc
        self.cache = _Cached()

    def token(self, now: int | None = None) -> str:
        from google.auth import jwt

        now = int(time.time()) if now is None else now
        claims = {"iss": self.issuer_id, "iat": now, "exp": now + APPSTORE_TOKEN_SECONDS, "aud": "appstoreconnect-v1"}
        return jwt.encode(self.signer, claims).decode()

    def get(self) -> str:
        return self.cache.fresh() or self.cache.keep(self.token(), APPSTORE_TOKEN_SECONDS)

    def invalidate(self) -> None:
        self.cache.invalidate()


def call(
    client: httpx.Client, tokens: TokenSource, method: str, url: str, *, what: str, posts: bool, **kwargs: Any
) -> httpx.Response:
    """One authorised call; a 401 gets a new token and one more try. A call that `posts` and ends
    without an answer raises SendOutcomeUnknown (the platform may have the reply), any other
    failure to get an answer SendError. The caller judges the status."""
    response = None
    for attempt in (1, 2):
        headers = {"Authorization": f"Bearer {tokens.get()}"}
        try:
            response = client.request(method, url, headers=headers, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # never connected: nothing was sent
            raise SendError(f"{what}: could not connect ({type(exc).__name__})") from exc
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            if posts:
                raise SendOutcomeUnknown(
                    f"{what}: no answer ({type(exc).__name__}); the reply may have been posted"
                ) from exc
            raise SendError(f"{what}: no answer ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise SendError(f"{what}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 401 or attempt == 2:
            break
        tokens.invalidate()  # expired or revoked since it was issued: one fresh token, once
    assert response is not None
    return response


def body_of(response: httpx.Response) -> Any:
    """The JSON body, or None when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return None
