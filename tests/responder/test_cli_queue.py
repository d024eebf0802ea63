"""`dangol queue list|claim|suggest|reply|close` and `dangol audit`, acting as a staff member."""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import Session
from typer.testing import CliRunner

from dangol.cli import app
from dangol.core.settings import load_settings
from responder.queue import route_new
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Analysis, Author, Customer, Post, Staff
from tests.conftest import REPO
from tests.responder.conftest import NOW


def _setup(tmp_path: Path, text: str = "order #A-1234 never came") -> list[str]:
    """A database with one queued complaint and two staff; returns the CLI's leading arguments."""
    url = f"sqlite:///{tmp_path}/cli.db"
    config = tmp_path / "config.toml"
    config.write_text((REPO / "config.toml").read_text().replace('url = "sqlite:///var/dangol.db"', f'url = "{url}"'))
    settings = load_settings(config)
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        author = Author(platform="x", platform_id="1", handle="kim", display_name="Kim")
        s.add_all([author, Staff(username="amy"), Staff(username="pat", role="product")])
        s.flush()
        post = Post(
            platform="x",
            external_id="77",
            author_id=author.id,
            text=text,
            created_at=NOW,
            collected_at=NOW,
        )
        s.add(post)
        s.flush()
        s.add(
            Analysis(
                post_id=post.id,
                language="en",
                sentiment="negative",
                is_complaint=True,
                risk=0.3,
                primary_topic="delivery",
            )
        )
        settings.responder.assignment = "manual"
        route_new(session=s, settings=settings, now=NOW)
        s.commit()
    engine.dispose()
    return ["--config", str(config)]


def test_agent_lists_claims_replies_and_the_audit_shows_it(tmp_path):
    base, runner = _setup(tmp_path), CliRunner()
    listed = runner.invoke(app, [*base, "queue", "list"])
    assert listed.exit_code == 0, listed.output
    assert "1 item · page 1 of 1" in listed.output and "#1" in listed.output and "order #A-1234" in listed.output
    header, row = listed.output.splitlines()[1:3]
    assert header.split() == ["item", "pri", "status", "team", "sla", "platform", "posts", "text"]
    assert row.split()[:7] == ["#1", "p2", "new", "support", "breached", "x", "1"], row
    claimed = runner.invoke(app, [*base, "queue", "claim", "1", "--as", "amy"])
    assert claimed.exit_code == 0 and "assigned to amy" in claimed.output
    suggested = runner.invoke(app, [*base, "queue", "suggest", "1"])
    assert "template:delivery:en" in suggested.output and "A-1234" in suggested.output
    replied = runner.invoke(app, [*base, "queue", "reply", "1", "--use", "1", "--as", "amy"])
    assert replied.exit_code == 0, replied.output
    assert "sent (dry run: nothing was posted)" in replied.output
    audit = runner.invoke(app, [*base, "audit", "--actor", "amy"])
    assert "queue.claim" in audit.output and "reply.sent" in audit.output
    assert "system:router" not in audit.output


def test_wrong_id_and_forbidden_actions_are_clear_errors(tmp_path):
    base, runner = _setup(tmp_path), CliRunner()
    missing = runner.invoke(app, [*base, "queue", "close", "42", "--as", "amy"])
    assert missing.exit_code == 1 and "no queue item with id 42" in missing.output
    stranger = runner.invoke(app, [*base, "queue", "claim", "1", "--as", "nobody"])
    assert "no staff member named 'nobody'" in stranger.output
    product = runner.invoke(app, [*base, "queue", "close", "1", "--as", "pat"])
    assert product.exit_code == 1 and "role 'product' may not close items" in product.output
    runner.invoke(app, [*base, "queue", "close", "1", "--as", "amy"])
    again = runner.invoke(app, [*base, "queue", "close", "1", "--as", "amy"])
    assert "cannot move an item from 'closed' to 'closed'; allowed: in_progress, new" in again.output
    assert all("Traceback" not in r.output for r in (missing, stranger, product, again))


def test_only_an_admin_may_erase_a_customer_from_the_command_line(tmp_path):
    base, runner = _setup(tmp_path), CliRunner()
    engine = make_engine(f"sqlite:///{tmp_path}/cli.db")
    with Session(engine) as s:
        customer = Customer(external_ref="C-1", name="Kim Minji", email="kim@example.com", created_at=NOW)
        s.add_all([customer, Staff(username="root", role="admin")])
        s.commit()
        customer_id = customer.id
    for agent in ("amy", "pat"):
        refused = runner.invoke(app, [*base, "customers", "erase", str(customer_id), "--as", agent, "--yes"])
        assert refused.exit_code == 1 and "may not erase a customer's data" in refused.output, refused.output
    with Session(engine) as s:
        assert s.get(Customer, customer_id).name == "Kim Minji"  # type: ignore[union-attr]
    done = runner.invoke(app, [*base, "customers", "erase", str(customer_id), "--as", "root", "--yes"])
    assert done.exit_code == 0, done.output
    with Session(engine) as s:
        assert s.get(Customer, customer_id).name != "Kim Minji"  # type: ignore[union-attr]
    engine.dispose()


def test_terminal_control_sequences_in_a_post_never_reach_the_terminal(tmp_path):
    hostile = "order #A-1234 never came \x1b[2J\x1b]0;pwned\x07 \x9b31m and \x08\x08 back"
    base, runner = _setup(tmp_path, hostile), CliRunner()
    for args in (["queue", "list"], ["queue", "suggest", "1"]):
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == 0, result.output
        assert not any(c in result.output for c in "\x1b\x07\x08\x9b"), repr(result.output)
    assert "A-1234" in runner.invoke(app, [*base, "queue", "list"]).output


def test_a_korean_post_is_cut_to_the_terminals_width_not_to_a_count_of_characters(tmp_path):
    from rich.cells import cell_len

    korean = (
        "마루커피 앱 업데이트 이후로 스탬프 화면 누르면 앱이 꺼져요. 주문도 못 하고 쿠폰도 못 쓰고 정말 불편합니다. "
        * 2
    )
    base, runner = _setup(tmp_path, korean), CliRunner()
    for columns in (100, 140):
        listed = runner.invoke(app, [*base, "queue", "list"], env={"COLUMNS": str(columns)})
        assert listed.exit_code == 0, listed.output
        row = listed.output.splitlines()[2]
        # Hangul takes two columns: 70 characters of it took ~130 and wrapped the row.
        assert columns - 2 <= cell_len(row) <= columns and row.endswith("…"), (cell_len(row), row)
    wide = runner.invoke(app, [*base, "queue", "list"], env={"COLUMNS": "400"})
    assert korean.strip() in wide.output  # whole where it fits


class RefusingPlatform:
    """The platform's side of sending: it refuses the first reply, then takes replies; it has no
    earlier copy. (Each real sender is tested against a loopback server in test_senders.py.)"""

    dry_run = False

    def __init__(self) -> None:
        self.calls: list[str] = []

    def send(self, target, text):  # noqa: ANN001, ANN201 - the Sender protocol
        from dangol.core.errors import SendError
        from responder.senders.base import Sent

        self.calls.append("send")
        if self.calls.count("send") == 1:
            raise SendError("X refused the reply to 77: 503 Service Unavailable")
        return Sent(external_id="1900")

    def find_existing(self, target, text):  # noqa: ANN001, ANN201 - the Sender protocol
        self.calls.append("find_existing")
        return None


def test_a_reply_the_platform_refused_is_kept_and_resent_by_its_id(tmp_path, monkeypatch):
    platform = RefusingPlatform()
    monkeypatch.setattr("responder.sending.sender_for", lambda *_: platform)
    monkeypatch.setenv("DANGOL_RESPONDER__SEND", "true")
    base, runner = _setup(tmp_path), CliRunner()
    refused = runner.invoke(app, [*base, "queue", "reply", "1", "Sorry, we are tracing it.", "--as", "amy"])
    assert refused.exit_code == 1 and "Traceback" not in refused.output
    assert "reply 1 was not sent: X refused the reply to 77: 503 Service Unavailable" in refused.output
    assert "dangol queue resend 1 --as amy" in refused.output
    resent = runner.invoke(app, [*base, "queue", "resend", "1", "--as", "amy"])
    assert resent.exit_code == 0, resent.output
    assert resent.output.strip() == "reply 1 sent: 1900"
    assert platform.calls == ["send", "find_existing", "send"]
    product = runner.invoke(app, [*base, "queue", "resend", "1", "--as", "pat"])
    assert product.exit_code == 1 and "role 'product' may not" in product.output


def test_an_id_too_large_for_any_row_is_a_clear_error_not_a_traceback(tmp_path):
    base, runner = _setup(tmp_path), CliRunner()
    huge = "99999999999999999999"
    for args in (
        ["queue", "claim", huge, "--as", "amy"],
        ["queue", "suggest", huge],
        ["queue", "reply", huge, "Hi", "--as", "amy"],
        ["queue", "resend", huge, "--as", "amy"],
        ["queue", "close", huge, "--as", "amy"],
        ["queue", "list", "--page", huge],
        ["customers", "export", huge],
        ["customers", "erase", huge, "--as", "amy", "--yes"],
        ["api", "token", "revoke", huge],
    ):
        result = runner.invoke(app, [*base, *args])
        assert result.exit_code == 2, (args, result.output)
        said = " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())  # rich's error box, unwrapped
        assert "less than or equal to 2147483647" in said, args
