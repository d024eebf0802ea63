"""Drafting, PR approval and exactly-once sending (dry-run by default; fakes for the platform)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from dangol.core.errors import ActionError, Conflict, Forbidden, SendError
from dangol.core.settings import Implementation
from responder.approval import needs_approval, review, submit_reply
from responder.queue import route_new
from responder.senders.base import ReplyTarget, Sent
from responder.senders.dry_run import DryRunSender
from responder.senders.mastodon import MastodonSender
from responder.sending import deliver, send_reply, sender_for
from storage.audit import approval_reasons, list_events
from storage.models import Author, Post, QueueItem, Reply, Staff
from tests.responder.conftest import NOW


class FakeSender:
    """Records what it was asked to post; can fail, and can 'find' an earlier post."""

    dry_run = False

    def __init__(self, *, fail: bool = False, existing: str | None = None) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail, self.existing = fail, existing

    def send(self, target: ReplyTarget, text: str) -> Sent:
        if self.fail:
            raise SendError("platform said no")
        self.sent.append((target.external_id, text))
        return Sent(external_id=f"posted-{len(self.sent)}")

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        return self.existing


@pytest.fixture
def item(session, settings, seed_post, make_staff):
    settings.responder.assignment = "manual"
    seed_post("my order never arrived", followers=10)
    route_new(session=session, settings=settings, now=NOW)
    return session.exec(select(QueueItem)).one()


@pytest.fixture
def risky(session, settings, seed_post):
    settings.responder.assignment = "manual"
    seed_post("I am calling my lawyer about this", followers=10)
    route_new(session=session, settings=settings, now=NOW)
    return session.exec(select(QueueItem).where(QueueItem.team == "pr")).one()


def test_ordinary_reply_goes_straight_out_as_a_dry_run(session, settings, item, make_staff):
    amy = make_staff("amy")
    reply = submit_reply(
        item.id, "Sorry! Please DM us your order number.", actor=amy, session=session, settings=settings
    )
    session.refresh(item)
    assert (reply.status, reply.dry_run, reply.external_id.startswith("dry-run:")) == ("sent", True, True)
    assert (item.status, item.assignee_id, item.first_responded_at is not None) == ("replied", amy.id, True)
    assert item.sla_paused_at is not None  # waiting on the customer now


def test_reply_with_a_real_sender_records_its_external_id(session, settings, item, make_staff):
    fake = FakeSender()
    reply = submit_reply(item.id, "On it!", actor=make_staff("amy"), session=session, settings=settings, sender=fake)
    assert (reply.external_id, reply.dry_run, fake.sent) == ("posted-1", False, [("ext1", "On it!")])


def test_reply_too_long_for_x_is_refused_with_the_limit(session, settings, item, make_staff):
    with pytest.raises(ActionError, match="x allows at most 280"):
        submit_reply(item.id, "a" * 281, actor=make_staff("amy"), session=session, settings=settings)


def test_legal_threat_waits_for_a_pr_reviewer(session, settings, risky, make_staff):
    reply = submit_reply(risky.id, "We're sorry.", actor=make_staff("amy"), session=session, settings=settings)
    session.refresh(risky)
    assert (reply.status, risky.status) == ("pending_approval", "pending_approval")
    reasons = list_events(session=session, action="reply.submit")[0].after["approval_reasons"]
    assert "a routing rule requires approval" in reasons and "mentions lawyer" in reasons


def test_high_follower_author_needs_approval(session, settings, seed_post, make_staff):
    settings.responder.assignment = "manual"
    seed_post("late again", followers=80_000)
    route_new(session=session, settings=settings, now=NOW)
    item = session.exec(select(QueueItem)).one()
    reply = submit_reply(item.id, "Sorry!", actor=make_staff("amy"), session=session, settings=settings)
    assert reply.status == "pending_approval"
    # What the Approvals page shows the reviewer: the reasons recorded when it was submitted.
    assert approval_reasons(session=session, reply_ids=[reply.id, reply.id + 1]) == {
        reply.id: ["author has 80,000 followers (>= 50,000)"]
    }
    post, author = session.get(Post, item.post_id), session.get(Author, session.get(Post, item.post_id).author_id)
    # Told as people read numbers: "80,000", not "80000".
    assert needs_approval(item, post, author, None, settings.responder) == ["author has 80,000 followers (>= 50,000)"]


def test_reviewer_edits_and_approves_then_it_is_sent(session, settings, risky, make_staff):
    reply = submit_reply(risky.id, "We're sorry.", actor=make_staff("amy"), session=session, settings=settings)
    pr = make_staff("pia", role="pr_reviewer")
    fake = FakeSender()
    done = review(
        reply.id,
        "approve",
        actor=pr,
        session=session,
        comment="softer",
        edited_text="We are so sorry. DM us?",
        settings=settings,
        sender=fake,
    )
    assert (done.status, done.reviewer_id, done.review_comment, fake.sent[0][1]) == (
        "sent",
        pr.id,
        "softer",
        "We are so sorry. DM us?",
    )


def test_rejection_tells_the_author_why_and_reopens_the_draft(session, settings, risky, make_staff):
    reply = submit_reply(risky.id, "Sue us then.", actor=make_staff("amy"), session=session, settings=settings)
    pia = make_staff("pia", role="pr_reviewer")
    with pytest.raises(ActionError, match="say why"):
        review(reply.id, "reject", actor=pia, session=session)
    done = review(reply.id, "reject", actor=pia, session=session, comment="tone")
    session.refresh(risky)
    assert (done.status, done.review_comment, risky.status) == ("rejected", "tone", "in_progress")


def test_nobody_approves_their_own_reply_and_agents_cannot_review(session, settings, risky, make_staff):
    boss = make_staff("boss", role="admin")
    reply = submit_reply(risky.id, "Sorry.", actor=boss, session=session, settings=settings)
    with pytest.raises(Forbidden, match="person who wrote it"):
        review(reply.id, "approve", actor=boss, session=session)
    with pytest.raises(Forbidden, match="role 'agent' may not"):
        review(reply.id, "approve", actor=make_staff("amy"), session=session)


def test_failed_send_is_recorded_and_raised(session, settings, item, make_staff):
    with pytest.raises(SendError):
        submit_reply(
            item.id, "Hi", actor=make_staff("amy"), session=session, settings=settings, sender=FakeSender(fail=True)
        )
    reply = session.exec(select(Reply)).one()
    assert (reply.status, reply.error) == ("failed", "platform said no")


def _stuck_reply(session, item, amy) -> Reply:
    """A reply whose worker died after recording "sending" (the platform may or may not have it)."""
    reply = Reply(
        queue_item_id=item.id,
        post_id=item.post_id,
        author_staff_id=amy.id,
        text="Hi",
        status="sending",
        idempotency_key="k1",
    )
    session.add(reply)
    item.status, item.assignee_id = "in_progress", amy.id
    session.commit()
    return reply


def test_retry_of_a_stuck_send_finds_the_posted_reply_instead_of_posting_again(session, settings, item, make_staff):
    amy = make_staff("amy")
    reply = _stuck_reply(session, item, amy)
    fake = FakeSender(existing="already-there")
    done = send_reply(reply.id, actor=amy, session=session, settings=settings, sender=fake)
    assert (done.status, done.external_id, fake.sent) == ("sent", "already-there", [])


def test_retry_of_a_stuck_send_that_cannot_be_found_is_failed_for_a_person(session, settings, item, make_staff):
    amy = make_staff("amy")
    reply = _stuck_reply(session, item, amy)
    fake = FakeSender(existing=None)
    done = deliver(reply.id, actor=amy, session=session, settings=settings, sender=fake)
    assert (done.status, fake.sent) == ("failed", [])
    assert "check before resending" in done.error


def test_resending_a_failed_reply_asks_the_platform_first(session, settings, item, make_staff):
    # A client that reported a timeout as a refusal although the post went through: the resend finds it.
    amy = make_staff("amy")
    with pytest.raises(SendError):
        submit_reply(item.id, "Hi", actor=amy, session=session, settings=settings, sender=FakeSender(fail=True))
    reply = session.exec(select(Reply)).one()
    there = FakeSender(existing="went-through")
    done = send_reply(reply.id, actor=amy, session=session, settings=settings, sender=there)
    assert (done.status, done.external_id, there.sent) == ("sent", "went-through", [])
    # Not there: the resend posts it, once.
    other = session.exec(select(Reply)).one()
    other.status = "failed"
    session.commit()
    fresh = FakeSender()
    assert send_reply(other.id, actor=amy, session=session, settings=settings, sender=fresh).status == "sent"
    assert len(fresh.sent) == 1


def test_a_failed_reply_is_not_resent_when_the_platform_cannot_be_asked(session, settings, item, make_staff):
    class Unreachable(FakeSender):
        def find_existing(self, target: ReplyTarget, text: str) -> str | None:
            raise SendError("connection refused")

    amy = make_staff("amy")
    with pytest.raises(SendError):
        submit_reply(item.id, "Hi", actor=amy, session=session, settings=settings, sender=FakeSender(fail=True))
    reply = session.exec(select(Reply)).one()
    sender = Unreachable()
    with pytest.raises(SendError, match="not resent"):
        send_reply(reply.id, actor=amy, session=session, settings=settings, sender=sender)
    assert sender.sent == [] and session.exec(select(Reply)).one().status == "failed"


def test_sent_reply_is_never_sent_twice(session, settings, item, make_staff):
    amy = make_staff("amy")
    fake = FakeSender()
    reply = submit_reply(item.id, "Hi", actor=amy, session=session, settings=settings, sender=fake)
    send_reply(reply.id, actor=amy, session=session, settings=settings, sender=fake)
    assert len(fake.sent) == 1


def test_sending_is_a_dry_run_unless_enabled_and_credentials_are_set(settings):
    settings.responder.senders = {"acme_mastodon": Implementation(use="mastodon", api_base_url="http://127.0.0.1:9")}
    assert isinstance(sender_for("mastodon", settings.responder), DryRunSender)
    settings.responder.send = True
    assert isinstance(sender_for("mastodon", settings.responder), DryRunSender)  # no token
    settings.responder.senders["acme_mastodon"] = Implementation(
        use="mastodon", api_base_url="http://127.0.0.1:9", access_token="t0ken-abc"
    )
    assert isinstance(sender_for("mastodon", settings.responder), MastodonSender)
    assert isinstance(sender_for("x", settings.responder), DryRunSender)


class SlowToShow(FakeSender):
    """A platform whose search does not show a reply yet (as real ones lag): only the database can
    keep a second copy from being posted."""

    def find_existing(self, target: ReplyTarget, text: str) -> str | None:
        return None


def test_two_reviewers_approving_at_once_send_the_reply_once(engine, session, settings, risky, make_staff):
    reply = submit_reply(risky.id, "We're sorry.", actor=make_staff("amy"), session=session, settings=settings)
    pia, ray = make_staff("pia", role="pr_reviewer"), make_staff("ray", role="pr_reviewer")
    session.commit()
    platform = SlowToShow()
    with Session(engine, expire_on_commit=False) as other:
        # Both pages were drawn with the reply pending; then both reviewers click Approve. (Held, so
        # the second session's read is the one it acts on, as in one transaction.)
        seen = other.get(Reply, reply.id)
        assert seen is not None and seen.status == "pending_approval"
        review(reply.id, "approve", actor=pia, session=session, settings=settings, sender=platform)
        with pytest.raises(Conflict, match="reviewed by someone else meanwhile"):
            review(
                reply.id, "approve", actor=other.get(Staff, ray.id), session=other, settings=settings, sender=platform
            )
        other.rollback()
    assert len(platform.sent) == 1
    session.expire_all()
    assert (session.get(Reply, reply.id).status, session.get(Reply, reply.id).reviewer_id) == ("sent", pia.id)


def test_two_people_sending_a_failed_reply_again_at_once_post_it_once(engine, session, settings, item, make_staff):
    amy, bo = make_staff("amy"), make_staff("bo")
    with pytest.raises(SendError):
        submit_reply(item.id, "Hi", actor=amy, session=session, settings=settings, sender=FakeSender(fail=True))
    reply = session.exec(select(Reply)).one()
    platform = SlowToShow()
    with Session(engine, expire_on_commit=False) as other:
        seen = other.get(Reply, reply.id)  # held: the read the second click acts on
        assert seen is not None and seen.status == "failed"  # both see it failed, both click "Send again"
        send_reply(reply.id, actor=amy, session=session, settings=settings, sender=platform)
        with pytest.raises(Conflict, match="being sent by someone else"):
            send_reply(reply.id, actor=other.get(Staff, bo.id), session=other, settings=settings, sender=platform)
        other.rollback()
    assert len(platform.sent) == 1
    session.expire_all()
    assert session.get(Reply, reply.id).status == "sent"


def test_a_reply_being_sent_right_now_is_not_settled_under_the_running_attempt(session, settings, item, make_staff):
    # A second person's "Send again" while the first send waits on the platform: asking the platform
    # then finds nothing, and failing the reply would let a third try post it twice.
    from datetime import timedelta

    from dangol.core.types import utcnow

    amy = make_staff("amy")
    reply = _stuck_reply(session, item, amy)
    reply.attempted_at = utcnow() - timedelta(seconds=20)
    session.commit()
    asked = SlowToShow()
    with pytest.raises(Conflict, match="being sent right now"):
        send_reply(reply.id, actor=amy, session=session, settings=settings, sender=asked)
    assert session.get(Reply, reply.id).status == "sending" and asked.sent == []
    # An attempt that has run past any request timeout is a dead worker's: settled as before.
    reply.attempted_at = utcnow() - timedelta(minutes=6)
    session.commit()
    done = send_reply(reply.id, actor=amy, session=session, settings=settings, sender=asked)
    assert (done.status, asked.sent) == ("failed", [])


def test_a_send_attempt_whose_process_died_on_this_host_is_settled_at_once(session, settings, item, make_staff):
    import socket
    import subprocess
    import sys

    from dangol.core.types import utcnow

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    amy = make_staff("amy")
    reply = _stuck_reply(session, item, amy)
    reply.attempted_at, reply.attempted_by = utcnow(), f"{socket.gethostname()}:{gone.stdout.strip()}"
    session.commit()
    there = FakeSender(existing="already-there")
    done = send_reply(reply.id, actor=amy, session=session, settings=settings, sender=there)
    assert (done.status, done.external_id, there.sent) == ("sent", "already-there", [])


def test_each_send_attempt_records_when_it_began(session, settings, item, make_staff):
    from dangol.core.types import utcnow

    before = utcnow()
    amy = make_staff("amy")
    reply = submit_reply(item.id, "Hi", actor=amy, session=session, settings=settings, sender=FakeSender())
    assert reply.status == "sent" and before <= reply.attempted_at <= utcnow()
