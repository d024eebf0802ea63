"""The YouTube, Google Play and App Store senders against a loopback server playing each API.

Each test checks what a real platform would check (method, path, bearer token, body) and keys are
made fresh per test run: an RSA service-account key for Google Play, an EC P-256 `.p8` for Apple.
"""

from __future__ import annotations

import base64
import json
import time
from itertools import count

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlmodel import select

from dangol.core.errors import ConfigError, SendError, SendOutcomeUnknown
from dangol.core.registry import parse_options
from dangol.core.settings import Implementation, find_secrets_in_file
from responder.approval import submit_reply
from responder.queue import route_new
from responder.senders.appstore import AppStoreSender
from responder.senders.base import ReplyTarget, senders
from responder.senders.dry_run import DryRunSender
from responder.senders.googleplay import GooglePlayOptions, GooglePlaySender
from responder.senders.oauth import AppStoreConnectToken, GoogleRefreshToken, GoogleServiceAccount
from responder.senders.youtube import YouTubeSender
from responder.sending import send_reply, sender_for
from storage.models import QueueItem, Reply
from tests.conftest import FIXTURES
from tests.responder.conftest import NOW
from tests.responder.platform_server import platform

TOKEN = {"access_token": "ya29.first", "expires_in": 3599, "token_type": "Bearer"}
quota_keys = count()


def _jwt_parts(token: str) -> tuple[dict, dict]:
    def part(segment: str) -> dict:
        return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))

    header, claims, _ = token.split(".")
    return part(header), part(claims)


def _slow(seconds: float, answer: tuple[int, object]):
    """A route that answers after the client has given up: the platform got the request."""

    def route(_request):
        time.sleep(seconds)
        return answer

    return route


# --- YouTube ---------------------------------------------------------------------------------------


def _recorded_replies() -> dict:
    """A real `comments.list?parentId=` answer (python-youtube's recording, MIT)."""
    return json.loads((FIXTURES / "youtube" / "comments_by_parent_paged_1.json").read_text())


def _youtube(base: str, *, timeout: float = 5, channel_id: str | None = None) -> YouTubeSender:
    client = httpx.Client(timeout=timeout)
    tokens = GoogleRefreshToken(
        client, client_id="cid-1", client_secret="csecret-1", refresh_token="1//rtoken", token_url=f"{base}/token"
    )
    sender = senders.get("youtube")(
        client, tokens, api_base=f"{base}/youtube/v3", channel_id=channel_id, quota_key=f"q{next(quota_keys)}"
    )
    assert isinstance(sender, YouTubeSender)
    return sender


def _youtube_routes(created: dict) -> dict:
    return {("POST", "/token"): lambda _r: (200, TOKEN), ("POST", "/youtube/v3/comments"): lambda _r: (200, created)}


def test_youtube_reply_is_inserted_under_the_threads_top_level_comment_with_the_channels_token():
    created = _recorded_replies()["items"][0]
    # The post answered is itself a reply in the thread: YouTube threads are one level deep.
    target = ReplyTarget(platform="youtube", external_id="UgTop.reply2", thread_id="UgTop")
    with platform(_youtube_routes(created)) as (base, seen):
        sent = _youtube(base).send(target, "Sorry! Please DM us.")
    token, insert = seen
    assert token.form() == {
        "grant_type": ["refresh_token"], "client_id": ["cid-1"], "client_secret": ["csecret-1"],
        "refresh_token": ["1//rtoken"],
    }  # fmt: skip
    assert (insert.method, insert.path, insert.query) == ("POST", "/youtube/v3/comments", {"part": ["snippet"]})
    assert insert.headers["Authorization"] == "Bearer ya29.first"
    assert insert.json() == {"snippet": {"parentId": "UgTop", "textOriginal": "Sorry! Please DM us."}}
    assert sent.external_id == created["id"]


def test_youtube_401_refreshes_the_token_once_and_tries_again():
    tokens = iter([TOKEN, TOKEN | {"access_token": "ya29.second"}])
    answers = iter([(401, {"error": {"code": 401, "message": "Invalid Credentials"}}), (200, {"id": "Ug.new"})])
    routes = {
        ("POST", "/token"): lambda _r: (200, next(tokens)),
        ("POST", "/youtube/v3/comments"): lambda _r: next(answers),
    }
    with platform(routes) as (base, seen):
        sent = _youtube(base).send(ReplyTarget(platform="youtube", external_id="UgTop"), "hi")
    inserts = [s for s in seen if s.path.endswith("/comments")]
    assert sent.external_id == "Ug.new"
    assert [s.headers["Authorization"] for s in inserts] == ["Bearer ya29.first", "Bearer ya29.second"]


def test_youtube_token_refused_twice_is_a_clear_failure_and_not_a_loop():
    routes = {("POST", "/token"): lambda _r: (200, TOKEN), ("POST", "/youtube/v3/comments"): lambda _r: (401, {})}
    with platform(routes) as (base, seen):
        with pytest.raises(SendError, match="set a new refresh token"):
            _youtube(base).send(ReplyTarget(platform="youtube", external_id="UgTop"), "hi")
    assert len([s for s in seen if s.path.endswith("/comments")]) == 2


def test_youtube_revoked_refresh_token_says_so_without_the_secret():
    revoked = {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}
    with platform({("POST", "/token"): lambda _r: (400, revoked)}) as (base, seen):
        with pytest.raises(SendError, match="invalid_grant") as caught:
            _youtube(base).send(ReplyTarget(platform="youtube", external_id="UgTop"), "hi")
    assert "rtoken" not in str(caught.value) and len(seen) == 1  # nothing was posted


def _google_error(status: int, reason: str, message: str, domain: str = "youtube.commentThread") -> dict:
    return {"error": {"code": status, "message": message, "errors": [{"reason": reason, "domain": domain}]}}


def test_youtube_quota_exhausted_is_not_tried_again_before_the_reset():
    quota = _google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.",
                          domain="youtube.quota")  # fmt: skip
    routes = _youtube_routes({}) | {("POST", "/youtube/v3/comments"): lambda _r: (403, quota)}
    with platform(routes) as (base, seen):
        sender = _youtube(base)
        with pytest.raises(SendError, match="daily YouTube quota is spent.*midnight Pacific"):
            sender.send(ReplyTarget(platform="youtube", external_id="UgTop"), "hi")
        again = YouTubeSender(sender.client, sender.tokens, api_base=sender.api_base, quota_key=sender.quota_key)
        with pytest.raises(SendError, match="not tried again before"):
            again.send(ReplyTarget(platform="youtube", external_id="UgOther"), "hi")
    assert len([s for s in seen if s.path.endswith("/comments")]) == 1


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (403, _google_error(403, "commentsDisabled", "The video has disabled comments."), "comments are turned off"),
        (404, _google_error(404, "commentNotFound", "The specified comment could not be found."), "no longer exists"),
    ],
)
def test_youtube_comments_turned_off_or_gone_are_permanent_failures(status, body, says):
    routes = _youtube_routes({}) | {("POST", "/youtube/v3/comments"): lambda _r: (status, body)}
    with platform(routes) as (base, _seen):
        with pytest.raises(SendError, match=says) as caught:
            _youtube(base).send(ReplyTarget(platform="youtube", external_id="UgTop"), "hi")
    assert not isinstance(caught.value, SendOutcomeUnknown)


def test_youtube_finds_our_earlier_reply_among_the_threads_replies_by_our_channel():
    page = _recorded_replies()
    ours = page["items"][1]
    page["nextPageToken"] = ""  # one page
    routes = {("POST", "/token"): lambda _r: (200, TOKEN), ("GET", "/youtube/v3/comments"): lambda _r: (200, page)}
    text = ours["snippet"]["textOriginal"]
    with platform(routes) as (base, seen):
        mine = _youtube(base, channel_id=ours["snippet"]["authorChannelId"]["value"])
        target = ReplyTarget(platform="youtube", external_id="UgTop")
        assert mine.find_existing(target, text) == ours["id"]
        assert mine.find_existing(target, "something else") is None
        # The same words by another channel are not our reply.
        assert _youtube(base, channel_id="UCsomeoneelse").find_existing(target, text) is None
    assert seen[-1].query["parentId"] == ["UgTop"]


def test_youtube_timeout_leaves_the_outcome_unknown():
    routes = _youtube_routes({}) | {("POST", "/youtube/v3/comments"): _slow(1.0, (200, {"id": "Ug.late"}))}
    with platform(routes) as (base, _seen):
        with pytest.raises(SendOutcomeUnknown, match="may have been posted"):
            _youtube(base, timeout=0.3).send(ReplyTarget(platform="youtube", external_id="UgTop"), "hi")


def test_youtube_retry_after_a_timeout_finds_the_reply_and_does_not_post_twice(
    session, settings, seed_post, make_staff
):
    """The first POST reaches YouTube but its answer never arrives; the retry asks, finds, records."""
    settings.responder.assignment = "manual"
    seed_post("the app logs me out", platform="youtube", post={"external_id": "UgTop", "thread_id": "UgTop"})
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    posted: list[dict] = []

    def insert(request):
        posted.append(request.json())
        time.sleep(1.0)  # past the client's timeout: the comment exists, the answer is lost
        return 200, {"id": "UgTop.ours", "snippet": request.json()["snippet"]}

    def replies(_request):
        ours = {"authorChannelId": {"value": "UCbrand"}}
        items = [{"id": "UgTop.ours", "snippet": ours | {"textOriginal": p["snippet"]["textOriginal"]}} for p in posted]
        return 200, {"items": items}

    routes = {("POST", "/token"): lambda _r: (200, TOKEN), ("POST", "/youtube/v3/comments"): insert,
              ("GET", "/youtube/v3/comments"): replies}  # fmt: skip
    amy = make_staff("amy")
    with platform(routes) as (base, _seen):
        with pytest.raises(SendOutcomeUnknown):
            submit_reply(item.id, "Sorry! Which version?", actor=amy, session=session, settings=settings,
                         sender=_youtube(base, timeout=0.3, channel_id="UCbrand"))  # fmt: skip
        reply = session.exec(select(Reply)).one()
        assert reply.status == "sending"  # not "failed": a plain resend could post it twice
        done = send_reply(reply.id, actor=amy, session=session, settings=settings,
                          sender=_youtube(base, channel_id="UCbrand"))  # fmt: skip
        send_reply(reply.id, actor=amy, session=session, settings=settings, sender=_youtube(base))
    assert (done.status, done.external_id, done.dry_run) == ("sent", "UgTop.ours", False)
    assert len(posted) == 1


# --- Google Play -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service_account() -> tuple[dict, bytes]:
    """A throwaway service account's JSON key, and its public key to check the assertion with."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    info = {
        "type": "service_account", "project_id": "maru", "private_key_id": "k1", "private_key": pem.decode(),
        "client_email": "dangol@maru.iam.gserviceaccount.com", "token_uri": "https://oauth2.googleapis.com/token",
    }  # fmt: skip
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return info, public


def _play(base: str, info: dict, *, timeout: float = 5) -> GooglePlaySender:
    client = httpx.Client(timeout=timeout)
    tokens = GoogleServiceAccount(client, info, scope="https://www.googleapis.com/auth/androidpublisher",
                                  token_url=f"{base}/token")  # fmt: skip
    return senders.get("googleplay")(client, tokens, api_base=f"{base}/androidpublisher/v3")


REVIEW = ReplyTarget(
    platform="googleplay", external_id="gp:AOqpTOE1", raw={"dangol:googleplay": {"app_id": "com.maru.coffee"}}
)
REPLY_PATH = "/androidpublisher/v3/applications/com.maru.coffee/reviews/gp:AOqpTOE1:reply"
PLAY_REPLIED = {"result": {"replyText": "Sorry!", "lastEdited": {"seconds": "1764500000", "nanos": 0}}}


def test_google_play_reply_goes_to_reviews_reply_with_a_service_account_token(service_account):
    from google.auth import jwt

    info, public = service_account
    routes = {("POST", "/token"): lambda _r: (200, TOKEN), ("POST", REPLY_PATH): lambda _r: (200, PLAY_REPLIED)}
    with platform(routes) as (base, seen):
        sent = _play(base, info).send(REVIEW, "Sorry!")
    token, reply = seen
    grant = token.form()
    assert grant["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(grant["assertion"][0], certs=public, audience="https://oauth2.googleapis.com/token")
    assert (claims["iss"], claims["scope"]) == (
        info["client_email"],
        "https://www.googleapis.com/auth/androidpublisher",
    )
    assert _jwt_parts(grant["assertion"][0])[0]["alg"] == "RS256"
    assert (reply.method, reply.headers["Authorization"], reply.json()) == (
        "POST",
        "Bearer ya29.first",
        {"replyText": "Sorry!"},
    )
    # The id the collector gives the developer's answer, so reading it back later is the same post.
    assert sent.external_id == "gp:AOqpTOE1:reply"


def test_google_play_reply_longer_than_350_characters_is_refused_before_any_call(service_account):
    with pytest.raises(SendError, match="at most 350 characters; this one is 351"):
        _play("http://127.0.0.1:9", service_account[0]).send(REVIEW, "a" * 351)


def test_google_play_review_without_its_app_cannot_be_answered(service_account):
    with pytest.raises(SendError, match="does not name its app"):
        _play("http://127.0.0.1:9", service_account[0]).send(
            ReplyTarget(platform="googleplay", external_id="gp:1"), "hi"
        )


def test_google_play_finds_our_reply_on_the_review(service_account):
    review = {"reviewId": "gp:AOqpTOE1", "comments": [
        {"userComment": {"text": "charged twice", "starRating": 1}},
        {"developerComment": {"text": "Sorry!", "lastModified": {"seconds": "1764500000"}}},
    ]}  # fmt: skip
    path = "/androidpublisher/v3/applications/com.maru.coffee/reviews/gp:AOqpTOE1"
    routes = {("POST", "/token"): lambda _r: (200, TOKEN), ("GET", path): lambda _r: (200, review)}
    with platform(routes) as (base, _seen):
        sender = _play(base, service_account[0])
        assert sender.find_existing(REVIEW, "Sorry!") == "gp:AOqpTOE1:reply"
        assert sender.find_existing(REVIEW, "Something else") is None


def test_google_play_service_account_without_permission_is_told_where_to_grant_it(service_account):
    denied = {"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}}
    routes = {("POST", "/token"): lambda _r: (200, TOKEN), ("POST", REPLY_PATH): lambda _r: (403, denied)}
    with platform(routes) as (base, _seen):
        with pytest.raises(SendError, match="invite it in the Play Console"):
            _play(base, service_account[0]).send(REVIEW, "Sorry!")


def test_google_play_timeout_leaves_the_outcome_unknown(service_account):
    routes = {("POST", "/token"): lambda _r: (200, TOKEN), ("POST", REPLY_PATH): _slow(1.0, (200, PLAY_REPLIED))}
    with platform(routes) as (base, _seen):
        with pytest.raises(SendOutcomeUnknown):
            _play(base, service_account[0], timeout=0.3).send(REVIEW, "Sorry!")


def test_google_play_key_is_refused_as_a_placeholder_or_in_the_config_file():
    with pytest.raises(ConfigError, match="DANGOL_RESPONDER__SENDERS__MARU_PLAY__SERVICE_ACCOUNT_JSON"):
        parse_options(GooglePlayOptions, {"service_account_json": "changeme"}, "responder.senders.maru_play")
    tables = {"p": {"service_account_json": "{}"}, "a": {"private_key": "-----BEGIN", "private_key_file": "k.p8"}}
    found = find_secrets_in_file({"responder": {"senders": tables}})
    assert found == ["responder.senders.p.service_account_json", "responder.senders.a.private_key"]


def test_google_play_sender_is_built_from_a_key_file_in_the_environment(settings, tmp_path, service_account):
    key = tmp_path / "play.json"
    key.write_text(json.dumps(service_account[0]))
    settings.responder.send = True
    settings.responder.senders = {"maru_play": Implementation(use="googleplay")}
    assert isinstance(sender_for("googleplay", settings.responder), DryRunSender)  # no key: nothing leaves
    settings.responder.senders["maru_play"] = Implementation(use="googleplay", service_account_file=str(key))
    assert isinstance(sender_for("googleplay", settings.responder), GooglePlaySender)


# --- App Store -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def p8() -> tuple[str, bytes]:
    """A throwaway App Store Connect key (.p8: EC P-256, PKCS#8) and its public key."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return pem.decode(), public


def _appstore(base: str, pem: str, *, timeout: float = 5) -> AppStoreSender:
    tokens = AppStoreConnectToken(
        key_id="2X9R4HXF34", issuer_id="57246542-96fe-1a63-e053-0824d011072a", private_key=pem
    )
    return senders.get("appstore")(httpx.Client(timeout=timeout), tokens, api_base=base)


def _response_created(text: str) -> dict:
    return {"data": {"type": "customerReviewResponses", "id": "resp-9",
                     "attributes": {"responseBody": text, "state": "PENDING_PUBLISH"}}}  # fmt: skip


def test_app_store_response_is_posted_with_a_short_lived_es256_token(p8):
    from google.auth import jwt

    pem, public = p8
    routes = {
        ("POST", "/v1/customerReviewResponses"): lambda r: (
            201,
            _response_created(r.json()["data"]["attributes"]["responseBody"]),
        )
    }
    with platform(routes) as (base, seen):
        sent = _appstore(base, pem).send(
            ReplyTarget(platform="appstore", external_id="11534456789"), "Thanks, fixed in 2.1"
        )
    [request] = seen
    assert request.json() == {"data": {
        "type": "customerReviewResponses", "attributes": {"responseBody": "Thanks, fixed in 2.1"},
        "relationships": {"review": {"data": {"type": "customerReviews", "id": "11534456789"}}},
    }}  # fmt: skip
    scheme, token = request.headers["Authorization"].split(" ")
    header, _ = _jwt_parts(token)
    claims = jwt.decode(token, certs=public, audience="appstoreconnect-v1")
    assert scheme == "Bearer" and (header["alg"], header["kid"], header["typ"]) == ("ES256", "2X9R4HXF34", "JWT")
    assert claims["iss"] == "57246542-96fe-1a63-e053-0824d011072a" and 0 < claims["exp"] - claims["iat"] <= 20 * 60
    assert sent.external_id == "resp-9"


def test_app_store_post_without_a_review_id_is_refused_clearly(p8):
    with pytest.raises(SendError, match="no App Store review id"):
        _appstore("http://127.0.0.1:9", p8[0]).send(ReplyTarget(platform="appstore", external_id="123:reply"), "hi")


def test_app_store_finds_the_reviews_response_when_it_is_ours(p8):
    missing = {"errors": [{"status": "404", "code": "NOT_FOUND"}]}
    routes = {("GET", "/v1/customerReviews/111/response"): lambda _r: (200, _response_created("Thanks!")),
              ("GET", "/v1/customerReviews/222/response"): lambda _r: (404, missing)}  # fmt: skip
    with platform(routes) as (base, _seen):
        sender = _appstore(base, p8[0])
        assert sender.find_existing(ReplyTarget(platform="appstore", external_id="111"), "Thanks!") == "resp-9"
        assert sender.find_existing(ReplyTarget(platform="appstore", external_id="111"), "Other") is None
        assert sender.find_existing(ReplyTarget(platform="appstore", external_id="222"), "Thanks!") is None


def test_app_store_refused_token_is_re_signed_once_then_explained(p8):
    refused = {
        "errors": [
            {"status": "401", "code": "NOT_AUTHORIZED", "title": "Authentication credentials are missing or invalid."}
        ]
    }
    with platform({("POST", "/v1/customerReviewResponses"): lambda _r: (401, refused)}) as (base, seen):
        with pytest.raises(SendError, match="check the key id, issuer id"):
            _appstore(base, p8[0]).send(ReplyTarget(platform="appstore", external_id="111"), "hi")
    assert len(seen) == 2


def test_app_store_timeout_leaves_the_outcome_unknown(p8):
    routes = {("POST", "/v1/customerReviewResponses"): _slow(1.0, (201, _response_created("hi")))}
    with platform(routes) as (base, _seen):
        with pytest.raises(SendOutcomeUnknown):
            _appstore(base, p8[0], timeout=0.3).send(ReplyTarget(platform="appstore", external_id="111"), "hi")


def test_app_store_sender_is_used_only_with_the_whole_key(settings, p8):
    settings.responder.send = True
    settings.responder.senders = {"maru_asc": Implementation(use="appstore", key_id="2X9R4HXF34", private_key=p8[0])}
    assert isinstance(sender_for("appstore", settings.responder), DryRunSender)  # no issuer id
    settings.responder.senders["maru_asc"] = Implementation(
        use="appstore", key_id="2X9R4HXF34", issuer_id="57246542-96fe-1a63-e053-0824d011072a", private_key=p8[0]
    )
    assert isinstance(sender_for("appstore", settings.responder), AppStoreSender)
