"""Personal API tokens: stored hashed, revocable, audited; acting with the owner's current role;
errors as JSON; the rate limit per token; the OpenAPI docs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from dangol.api.ratelimit import RateLimiter
from dangol.cli import app as cli
from dangol.core.errors import Forbidden
from dangol.core.permissions import ROLES
from responder.accounts.api_tokens import create_token, revoke_token
from storage.models import ApiToken, AuditEvent, Staff
from tests.api.conftest import Api


def test_a_token_is_stored_only_as_its_hash_and_its_creation_audited(api: Api) -> None:
    before = api.last_event_id()
    owner = api.session.get(Staff, api.staff["agent"].id)
    row, token = create_token(session=api.session, actor=owner, owner=owner, name="crm-sync")  # type: ignore[arg-type]
    api.session.commit()
    assert token.startswith("dgl_") and len(token) > 40
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with Session(api.engine) as session:
        stored = [repr(r.model_dump()) for r in session.exec(select(ApiToken))]
        stored += [repr(e.model_dump()) for e in session.exec(select(AuditEvent))]
    assert not any(token in text for text in stored)  # neither the table nor the trail holds a token
    assert api.events_after(before) == [("agent1", "api_token.create")]
    assert api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).json()["username"] == "agent1"


def test_tokens_are_personal_and_only_an_admin_revokes_another_s(api: Api) -> None:
    agent, lead, admin = (api.session.get(Staff, api.staff[r].id) for r in ("agent", "lead", "admin"))
    with pytest.raises(Forbidden, match="personal"):
        create_token(session=api.session, actor=admin, owner=agent, name="x")  # type: ignore[arg-type]
    row, _ = create_token(session=api.session, actor=agent, owner=agent, name="mine")  # type: ignore[arg-type]
    api.session.commit()
    with pytest.raises(Forbidden, match="role 'lead' may not"):
        revoke_token(session=api.session, actor=lead, token_id=row.id or 0)
    before = api.last_event_id()
    revoke_token(session=api.session, actor=admin, token_id=row.id or 0)
    api.session.commit()
    assert api.events_after(before) == [("admin1", "api_token.revoke")]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing header 'Authorization: Bearer <token>'"),
        ("Bearer dgl_not-a-token", "unknown API token"),
        ("Basic YWdlbnQ6cGFzcw==", "missing header"),
    ],
)
def test_a_request_without_a_known_token_is_401_with_a_message(api: Api, header: str | None, message: str) -> None:
    response = api.client.get("/api/v1/queue", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "unauthorized" and message in response.json()["message"]


def test_a_revoked_token_is_refused_from_the_next_request(api: Api) -> None:
    assert api.get("agent", "/api/v1/queue").status_code == 200  # type: ignore[attr-defined]
    token_id = api.session.exec(select(ApiToken).where(ApiToken.staff_id == api.staff["agent"].id)).one().id
    agent = api.session.get(Staff, api.staff["agent"].id)
    revoke_token(session=api.session, actor=agent, token_id=token_id or 0)
    api.session.commit()
    response = api.get("agent", "/api/v1/queue")
    assert response.status_code == 401 and "revoked" in response.json()["message"]  # type: ignore[attr-defined]


def test_the_token_acts_with_its_owner_s_current_role_and_not_once_deactivated(api: Api) -> None:
    agent = api.session.get(Staff, api.staff["agent"].id)
    assert agent is not None
    assert api.get("agent", "/api/v1/me").json()["role"] == "agent"  # type: ignore[attr-defined]
    agent.role = "product"
    api.session.commit()
    refused = api.client.post(f"/api/v1/items/{api.item_id}/claim", headers=api.auth("agent"))
    assert refused.status_code == 403
    assert "role 'product' may not claim, release and assign queue items (queue.claim)" in refused.json()["message"]
    agent.active = False
    api.session.commit()
    gone = api.get("agent", "/api/v1/me")
    assert gone.status_code == 401 and "no longer log in" in gone.json()["message"]  # type: ignore[attr-defined]


def test_an_expired_token_is_refused(api: Api) -> None:
    row = api.session.exec(select(ApiToken).where(ApiToken.staff_id == api.staff["lead"].id)).one()
    from tests.api.conftest import CLOCK

    row.expires_at = CLOCK
    api.session.commit()
    response = api.get("lead", "/api/v1/me")
    assert response.status_code == 401 and "expired" in response.json()["message"]  # type: ignore[attr-defined]


def test_each_token_has_its_own_rate_limit_and_the_window_ends(make_api) -> None:
    now = [0.0]
    api = make_api(limiter=RateLimiter(2, clock=lambda: now[0]))
    assert [api.get("agent", "/api/v1/me").status_code for _ in range(2)] == [200, 200]
    limited = api.get("agent", "/api/v1/me")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
    assert limited.json()["error"] == "rate_limited"
    assert api.get("lead", "/api/v1/me").status_code == 200  # another token counts on its own
    now[0] = 59.5
    assert api.get("agent", "/api/v1/me").headers["retry-after"] == "1"
    now[0] = 60.0
    assert api.get("agent", "/api/v1/me").status_code == 200


def test_unknown_routes_and_bad_parameters_answer_json(api: Api) -> None:
    missing = api.get("agent", "/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"  # type: ignore[attr-defined]
    bad = api.get("agent", "/api/v1/queue", params={"page": "zero"})
    assert bad.status_code == 422 and "page" in bad.json()["message"]  # type: ignore[attr-defined]
    too_many = api.get("agent", "/api/v1/queue", params={"limit": 101})
    assert too_many.status_code == 422 and "limit must be between 1 and 100" in too_many.json()["message"]  # type: ignore[attr-defined]


def test_the_openapi_docs_list_every_endpoint(api: Api) -> None:
    assert api.client.get("/docs").status_code == 200
    paths = set(api.client.get("/openapi.json").json()["paths"])
    assert {
        "/api/v1/queue", "/api/v1/items/{item_id}", "/api/v1/customers", "/api/v1/customers/{customer_id}",
        "/api/v1/topics", "/api/v1/alerts", "/api/v1/reports/{week}", "/api/v1/feeds/{topic}.atom",
        "/api/v1/feeds/{topic}.json", "/api/v1/items/{item_id}/claim", "/api/v1/items/{item_id}/reply",
        "/api/v1/items/{item_id}/close", "/api/v1/items/{item_id}/labels", "/api/v1/links/{link_id}/decision",
        "/api/v1/customers/by-external-id/{external_id}",
    } <= paths  # fmt: skip


def test_the_docs_page_loads_swagger_ui_from_the_api_itself_not_a_cdn(api: Api) -> None:
    """A self-hosted install may have no internet, and a CDN would learn of every visit: the page's
    script, style and icon are served by the API."""
    import re

    page = api.client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r"""(?:src=|href=|url: ?)["']([^"']+)["']""", page.text)
    assert urls and not [u for u in urls if "://" in u or u.startswith("//")], urls
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        served = api.client.get(f"/docs/static/{name}")
        assert served.status_code == 200 and len(served.content) > 10_000, name


def test_tokens_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    from storage.engine import make_engine, session_scope

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        session.add(Staff(username="amy", role="agent"))
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n')
    run = CliRunner()
    created = run.invoke(cli, ["--config", str(config), "api", "token", "create", "--user", "amy", "--name", "crm"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    listed = run.invoke(cli, ["--config", str(config), "api", "token", "list"])
    assert "amy" in listed.stdout and "crm" in listed.stdout and "live" in listed.stdout
    assert token not in listed.stdout
    revoked = run.invoke(cli, ["--config", str(config), "api", "token", "revoke", "1"])
    assert revoked.exit_code == 0, revoked.output
    again = run.invoke(cli, ["--config", str(config), "api", "token", "revoke", "1"])
    assert again.exit_code == 1 and "already revoked" in again.output
    nobody = run.invoke(cli, ["--config", str(config), "api", "token", "create", "--user", "bo", "--name", "x"])
    assert nobody.exit_code == 1 and "no staff member named 'bo'" in nobody.output
    with Session(engine) as session:
        events = [(e.actor, e.action) for e in session.exec(select(AuditEvent))]
        stored = session.exec(select(ApiToken)).one()
    engine.dispose()
    assert events == [("system:cli", "api_token.create"), ("system:cli", "api_token.revoke")]
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()


def test_every_role_may_hold_a_token() -> None:
    from dangol.core.permissions import PERMISSIONS

    assert all("api.token" in PERMISSIONS[role] for role in ROLES)
