"""Replying from the Item page and reviewing on the Approvals page, through the responder's functions."""

from sqlmodel import Session, select

from dangol.core.errors import SendError
from dashboard.safe import md
from responder.senders.base import ReplyTarget, Sent
from responder.suggest import suggest
from storage.models import QueueItem, Reply

from .conftest import app_as, button, current_url_path, nav_pages, shown

ANSWER = "Sorry about the cold coffee, Hana. We have refunded order A-1001."


def write_reply(db, monkeypatch, item: str, text: str):
    at = app_as(db, "agent1", monkeypatch, page="Item", item_id=db.items[item])
    at.text_area(key=f"reply_text_{db.items[item]}").input(text)
    return at


def test_agent_sends_a_dry_run_reply_and_the_item_is_replied(dashboard_db, monkeypatch) -> None:
    at = write_reply(dashboard_db, monkeypatch, "complaint", ANSWER)
    at = button(at, "Send (dry-run)").click().run()
    assert any("dry run: nothing was posted" in s for s in shown(at.success))
    with Session(dashboard_db.engine) as session:
        reply = session.exec(select(Reply)).one()
        item = session.get(QueueItem, dashboard_db.items["complaint"])
    assert (reply.status, reply.dry_run, reply.text) == ("sent", True, ANSWER)
    assert item.status == "replied" and item.first_responded_at is not None


def test_the_button_says_send_for_approval_and_no_second_reply_is_offered_while_it_waits(
    dashboard_db, monkeypatch
) -> None:
    item_id = dashboard_db.items["complaint"]
    at = write_reply(dashboard_db, monkeypatch, "complaint", "Our lawyer will contact you.").run()
    assert any("mentions lawyer" in c for c in shown(at.caption))
    at = button(at, "Send for approval").click().run()
    assert "Sent for approval" in shown(at.success)
    with Session(dashboard_db.engine) as session:
        assert session.exec(select(Reply.status)).one() == "pending_approval"
    # The send would refuse a second draft now: neither the box nor a send button is drawn, and
    # the page says why.
    assert not [t for t in at.text_area if t.key == f"reply_text_{item_id}"]
    assert not [b for b in at.button if b.label.startswith("Send")]
    assert any("waiting for a PR reviewer's approval" in i for i in shown(at.info))
    review = app_as(dashboard_db, "reviewer1", monkeypatch, page="Approvals")
    review.text_input[0].input("Too harsh; no lawyers.")
    button(review, "Reject").click().run()
    with Session(dashboard_db.engine) as session:
        assert session.exec(select(Reply.status)).one() == "rejected"
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=item_id)
    assert at.text_area(key=f"reply_text_{item_id}").value == ""  # returned: write again, from an empty box
    assert button(at, "Send (dry-run)")


def test_a_closed_item_offers_no_reply_box_and_no_close_button(dashboard_db, monkeypatch) -> None:
    item_id = dashboard_db.items["complaint"]
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=item_id)
    at = button(at, "Close").click().run()
    labels = [b.label for b in at.button]
    assert "Close" not in labels and "Close as spam" not in labels and "Send (dry-run)" not in labels
    assert not [t for t in at.text_area if t.key == f"reply_text_{item_id}"]
    assert any("opens again by itself if the customer writes again" in i for i in shown(at.info))
    with Session(dashboard_db.engine) as session:
        assert session.get(QueueItem, item_id).status == "closed"


def test_risky_reply_goes_to_a_reviewer_who_approves_it(dashboard_db, monkeypatch) -> None:
    at = write_reply(dashboard_db, monkeypatch, "press", "Thanks for asking; our press office will email you.")
    [why] = [c for c in shown(at.caption) if c.startswith("Needs approval")]
    at = button(at, "Send for approval").click().run()
    assert "Sent for approval" in shown(at.success)
    review = app_as(dashboard_db, "reviewer1", monkeypatch, page="Approvals")
    assert any("reporter" in m for m in shown(review.markdown))
    assert why in shown(review.caption)  # the reviewer reads why it came to them, as the agent was told
    review = button(review, "Approve").click().run()
    with Session(dashboard_db.engine) as session:
        reply = session.exec(select(Reply)).one()
    assert (reply.status, reply.reviewer_id) == ("sent", dashboard_db.staff["reviewer1"])


def test_a_reviewer_opens_the_item_of_a_reply_waiting_for_approval(dashboard_db, monkeypatch) -> None:
    at = write_reply(dashboard_db, monkeypatch, "press", "Thanks for asking; our press office will email you.")
    button(at, "Send for approval").click().run()
    review = app_as(dashboard_db, "reviewer1", monkeypatch, page="Approvals")
    review = button(review, f"Open item #{dashboard_db.items['press']}").click().run()
    assert not review.exception
    assert current_url_path(review) == "item" and review.query_params.get("id") == str(dashboard_db.items["press"])


def test_rejection_without_a_comment_is_refused_with_the_reason(dashboard_db, monkeypatch) -> None:
    at = write_reply(dashboard_db, monkeypatch, "press", "No comment.")
    button(at, "Send for approval").click().run()
    review = button(app_as(dashboard_db, "reviewer1", monkeypatch, page="Approvals"), "Reject").click().run()
    assert any("say why the reply is rejected" in e for e in shown(review.error))
    with Session(dashboard_db.engine) as session:
        assert session.exec(select(Reply.status)).one() == "pending_approval"


def test_agent_is_not_offered_the_approvals_page(dashboard_db, monkeypatch) -> None:
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Approvals")
    assert "Approvals" not in nav_pages(at)
    assert [h.value for h in at.header] == ["Queue"]


def test_picking_a_suggestion_fills_the_reply_box_for_editing(dashboard_db, monkeypatch) -> None:
    item_id = dashboard_db.items["complaint"]
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=item_id)
    options = at.radio(key=f"suggestion_{item_id}").options
    assert options, "the responder offered no suggestion"
    with Session(dashboard_db.engine) as session:
        suggestions = suggest(item_id, session=session)
    # Each shown whole, so suggestions that differ only in their last sentence are told apart.
    assert len(options) == len(suggestions) and len(set(options)) == len(options)
    assert all(o.endswith(md(s.text)) for o, s in zip(options, suggestions, strict=True)), options
    at = button(at, "Use this suggestion").click().run()
    assert at.text_area(key=f"reply_text_{item_id}").value == suggestions[0].text


class OutagePlatform:
    """The platform's side of sending, as a scripted sender: down for the first `down` sends, then
    up; it remembers what it was asked. (Each real sender's own failures are tested against a
    loopback server in tests/responder.)"""

    dry_run = False

    def __init__(self, down: int) -> None:
        self.down, self.calls, self.posted = down, [], []

    def send(self, target: ReplyTarget, text: str) -> Sent:
        self.calls.append("send")
        if len(self.calls) - self.calls.count("find_existing") <= self.down:
            raise SendError("X refused the reply to fx1: 503 Service Unavailable")
        self.posted.append(text)
        return Sent(external_id="1900")

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        self.calls.append("find_existing")
        return None


def test_a_reply_the_platform_refused_is_kept_and_sent_again_from_the_item_page(dashboard_db, monkeypatch) -> None:
    platform = OutagePlatform(down=1)
    monkeypatch.setenv("DANGOL_RESPONDER__SEND", "true")
    monkeypatch.setattr("responder.sending.sender_for", lambda *_: platform)
    item_id = dashboard_db.items["complaint"]
    at = button(write_reply(dashboard_db, monkeypatch, "complaint", ANSWER), "Send").click().run()
    # Not "Refused": the agent's reply was taken and kept; the platform was down.
    assert not at.error
    [told] = shown(at.warning)[:1]
    assert told.startswith("Reply #1 was not sent: X refused the reply to fx1: 503 Service Unavailable.")
    assert "Send again" in told
    with Session(dashboard_db.engine) as session:
        assert session.exec(select(Reply.status)).one() == "failed"
    assert any(w.startswith("Not sent: X refused the reply") for w in shown(at.warning))
    at = button(at, "Send again").click().run()
    assert "Reply sent" in shown(at.success)
    # Sent once: the platform was asked for an earlier copy before it was posted again.
    assert platform.calls == ["send", "find_existing", "send"] and platform.posted == [ANSWER]
    with Session(dashboard_db.engine) as session:
        reply = session.exec(select(Reply)).one()
        assert (reply.status, reply.external_id) == ("sent", "1900")
        assert session.get(QueueItem, item_id).status == "replied"
    assert not [b for b in at.button if b.label == "Send again"]


def test_an_approved_reply_the_platform_refused_stays_approved_and_the_reviewer_is_told(
    dashboard_db, monkeypatch
) -> None:
    monkeypatch.setenv("DANGOL_RESPONDER__SEND", "true")
    monkeypatch.setattr("responder.sending.sender_for", lambda *_: OutagePlatform(down=1))
    at = write_reply(dashboard_db, monkeypatch, "press", "Thanks for asking; our press office will email you.")
    button(at, "Send for approval").click().run()
    review = button(app_as(dashboard_db, "reviewer1", monkeypatch, page="Approvals"), "Approve").click().run()
    assert not review.error
    assert any(w.startswith("Reply #1 was not sent: X refused") for w in shown(review.warning))
    with Session(dashboard_db.engine) as session:
        reply = session.exec(select(Reply)).one()
    assert (reply.status, reply.reviewer_id) == ("failed", dashboard_db.staff["reviewer1"])


def test_a_reply_the_platform_never_answered_about_is_told_as_maybe_posted(dashboard_db, monkeypatch) -> None:
    from dangol.core.errors import SendOutcomeUnknown

    class Silent(OutagePlatform):
        def send(self, target: ReplyTarget, text: str) -> Sent:
            raise SendOutcomeUnknown("X did not answer within 30 s")

    monkeypatch.setenv("DANGOL_RESPONDER__SEND", "true")
    monkeypatch.setattr("responder.sending.sender_for", lambda *_: Silent(down=0))
    at = button(write_reply(dashboard_db, monkeypatch, "complaint", ANSWER), "Send").click().run()
    assert not at.error
    [told] = shown(at.warning)[:1]
    assert told.startswith("Reply #1: the platform did not answer (X did not answer within 30 s); it may be posted")
    with Session(dashboard_db.engine) as session:
        assert session.exec(select(Reply.status)).one() == "sending"  # settled by "Send again", never re-posted blindly
    assert button(at, "Send again")


def test_a_reply_being_sent_right_now_shows_so_without_a_send_again_button(dashboard_db, monkeypatch) -> None:
    from dangol.core.types import utcnow

    item_id = dashboard_db.items["complaint"]
    with Session(dashboard_db.engine) as session:
        session.add(
            Reply(
                queue_item_id=item_id,
                post_id=session.get(QueueItem, item_id).post_id,
                text=ANSWER,
                status="sending",
                idempotency_key="k-now",
                attempted_at=utcnow(),
                dry_run=False,
            )  # fmt: skip
        )
        session.commit()
    at = app_as(dashboard_db, "agent1", monkeypatch, page="Item", item_id=item_id)
    assert any(i.startswith("Being sent since") for i in shown(at.info))
    assert not [b for b in at.button if b.label == "Send again"]
