"""A week of team work written straight into the tables (items, replies, audit events, at chosen
times), and the team-performance figures computed again from those tables by this test code alone.

`expected_figures` reads every queue item, reply and audit event and applies the definitions in the
README ("Team performance") in plain Python with numpy's percentile; it shares no code with
`storage.team_performance` or `reports.team_performance`, so the two can disagree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlmodel import Session, select

from reports.period import Week, parse_week
from storage.models import AuditEvent, Author, Post, QueueItem, Reply, Staff, Team

WEEK = "2026-W47"
TIMEZONE = "Asia/Seoul"


@dataclass
class TeamWeek:
    week: Week
    staff: dict[str, Staff]


def _team(session: Session, key: str) -> Team:
    team = session.exec(select(Team).where(Team.key == key)).first()
    if team is None:
        team = Team(key=key, name=key.title())
        session.add(team)
        session.flush()
    return team


def seed_team_week(session: Session) -> TeamWeek:
    """Two agents (support and billing), items of both teams, and events inside and outside WEEK."""
    week = parse_week(WEEK, TIMEZONE)
    support, billing = _team(session, "support"), _team(session, "billing")
    staff = {}
    for name, team in (("anakang", support), ("benoh", billing)):
        staff[name] = Staff(username=name, role="agent", team_id=team.id)
        session.add(staff[name])
    session.flush()
    ana, ben = staff["anakang"], staff["benoh"]
    author = Author(platform="x", platform_id="team-week", handle="teamweek")
    session.add(author)
    session.flush()
    t0 = week.start + timedelta(days=1, hours=2)
    keys = iter(range(1, 1000))

    def item(team: str, created: datetime, due_after: timedelta | None = timedelta(hours=1), **kw: Any) -> QueueItem:
        n = next(keys)
        post = Post(platform="x", external_id=f"tw{n}", author_id=author.id or 0, text=f"team week {n}",
                    created_at=created, collected_at=created)  # fmt: skip
        session.add(post)
        session.flush()
        row = QueueItem(post_id=post.id or 0, cluster_key=f"tw{n}", team=team, created_at=created,
                        first_response_due_at=created + due_after if due_after else None, **kw)  # fmt: skip
        session.add(row)
        session.flush()
        return row

    def reply(row: QueueItem, by: Staff, at: datetime, status: str = "sent", reviewer: Staff | None = None) -> None:
        session.add(
            Reply(queue_item_id=row.id or 0, post_id=row.post_id, author_staff_id=by.id, text="hi",
                  status=status, reviewer_id=reviewer.id if reviewer else None, idempotency_key=f"k{next(keys)}",
                  created_at=at - timedelta(minutes=5), sent_at=at if status == "sent" else None)
        )  # fmt: skip
        if status == "sent" and (row.first_responded_at is None or at < row.first_responded_at):
            row.first_responded_at = at

    def event(row: QueueItem, actor: str, action: str, at: datetime, before: str, after: str) -> None:
        session.add(AuditEvent(at=at, actor=actor, action=action, entity_type="queue_item", entity_id=str(row.id),
                               before={"status": before}, after={"status": after}))  # fmt: skip

    h = timedelta(hours=1)
    # Support: answered in 30 min (met), closed by ana, then the customer wrote again (a reopen).
    one = item("support", t0)
    reply(one, ana, t0 + h / 2)
    reply(one, ben, t0 + 3 * h)  # a later reply: ben handled it too, but the first response is ana's
    event(one, "anakang", "queue.closed", t0 + 5 * h, "replied", "closed")
    event(one, "system:router", "queue.customer_replied", t0 + 6 * h, "closed", "new")
    # Support: answered in 90 min (missed); one reply sent back by the reviewer, one approved and sent.
    two = item("support", t0)
    reply(two, ana, t0 + 90 * timedelta(minutes=1), reviewer=ben)
    reply(two, ana, t0 + 2 * h, status="rejected", reviewer=ben)
    reply(two, ana, t0 + 3 * h, status="pending_approval")
    # Support, queued two days before (the week before), first answered this week within its 3 days.
    three = item("support", t0 - timedelta(days=2), due_after=timedelta(days=3))
    reply(three, ana, t0 + h)
    event(three, "anakang", "queue.closed", t0 + 7 * h, "replied", "closed")
    # Billing: no deadline; closed by ben, reopened by ben, closed again by ana.
    four = item("billing", t0, due_after=None)
    reply(four, ben, t0 + 45 * timedelta(minutes=1))
    event(four, "benoh", "queue.closed", t0 + 2 * h, "replied", "closed")
    event(four, "benoh", "queue.in_progress", t0 + 3 * h, "closed", "in_progress")
    event(four, "anakang", "queue.closed", t0 + 4 * h, "in_progress", "closed")
    # Billing: closed from the command line (no staff member): the team's, nobody's own.
    five = item("billing", t0)
    event(five, "system:cli", "queue.closed", t0 + h, "new", "closed")
    # Billing: reopened before ben's reply, so not a reopen after his handling; answered late.
    six = item("billing", t0)
    event(six, "system:router", "queue.customer_replied", t0 + h, "closed", "new")
    reply(six, ben, t0 + 2 * h)
    # Outside the week: answered and closed the next week; a status change that is no reopen.
    seven = item("support", week.end + h)
    reply(seven, ana, week.end + 2 * h)
    event(seven, "anakang", "queue.closed", week.end + 3 * h, "replied", "closed")
    event(two, "anakang", "queue.escalated", t0 + 4 * h, "in_progress", "escalated")
    session.commit()
    return TeamWeek(week, staff)


def _pct(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def expected_figures(session: Session, week: Week) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(per team key, per username): the figures, computed from every row of the three tables."""
    since, until = week.start, week.end
    items = {i.id: i for i in session.exec(select(QueueItem))}
    replies = list(session.exec(select(Reply)))
    events = [e for e in session.exec(select(AuditEvent)) if e.entity_type == "queue_item"]
    names = {s.username: s.id for s in session.exec(select(Staff))}
    users = {v: k for k, v in names.items()}

    def inside(t: datetime | None) -> bool:
        return t is not None and since <= t < until

    # (owner kind, owner) -> item id -> times handled / last close time
    handled: dict[tuple[str, str], dict[int, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    closed: dict[tuple[str, str], dict[int, datetime]] = defaultdict(dict)
    for r in replies:
        if r.status == "sent" and inside(r.sent_at):
            team = items[r.queue_item_id].team
            handled["team", team][r.queue_item_id].append(r.sent_at)
            if r.author_staff_id:
                handled["agent", users[r.author_staff_id]][r.queue_item_id].append(r.sent_at)
    for e in events:
        if e.action == "queue.closed" and inside(e.at):
            iid = int(e.entity_id)
            owners = [("team", items[iid].team)] + ([("agent", e.actor)] if e.actor in names else [])
            for owner in owners:
                handled[owner][iid].append(e.at)
                closed[owner][iid] = max(e.at, closed[owner].get(iid, e.at))
    done_before = ("replied", "closed")
    open_after = ("new", "assigned", "in_progress")
    reopens = [
        (int(e.entity_id), e.at)
        for e in events
        if e.before.get("status") in done_before and e.after.get("status") in open_after
    ]
    firsts: dict[tuple[str, str], list[QueueItem]] = defaultdict(list)
    for i in items.values():
        if inside(i.first_responded_at):
            sent = sorted((r for r in replies if r.queue_item_id == i.id and r.status == "sent"),
                          key=lambda r: (r.sent_at, r.id))  # fmt: skip
            firsts["team", i.team].append(i)
            if sent and sent[0].author_staff_id:
                firsts["agent", users[sent[0].author_staff_id]].append(i)
    asked: dict[tuple[str, str], list[Reply]] = defaultdict(list)
    for r in replies:
        if inside(r.created_at) and (r.reviewer_id is not None or r.status == "pending_approval"):
            asked["team", items[r.queue_item_id].team].append(r)
            if r.author_staff_id:
                asked["agent", users[r.author_staff_id]].append(r)
    result: dict[str, dict[str, dict[str, Any]]] = {"team": {}, "agent": {}}
    for owner in set(handled) | set(firsts) | set(asked):
        answered = firsts.get(owner, [])
        response = [(i.first_responded_at - i.created_at).total_seconds() / 60 for i in answered]
        resolution = [(at - items[iid].created_at).total_seconds() / 60 for iid, at in closed.get(owner, {}).items()]
        due = [i for i in answered if i.first_response_due_at is not None]
        done = {iid: max(times) for iid, times in handled.get(owner, {}).items()}
        reopened = [iid for iid, last in done.items() if any(r == iid and at > last for r, at in reopens)]
        result[owner[0]][owner[1]] = {
            "handled": len(done),
            "first_response_median": _pct(response, 50),
            "first_response_p90": _pct(response, 90),
            "resolution_median": _pct(resolution, 50),
            "resolution_p90": _pct(resolution, 90),
            "sla_attainment": (sum(i.first_responded_at <= i.first_response_due_at for i in due) / len(due))
            if due
            else None,
            "approvals_requested": len(asked.get(owner, [])),
            "approvals_returned": sum(r.status == "rejected" for r in asked.get(owner, [])),
            "reopen_rate": len(reopened) / len(done) if done else None,
        }
    return result["team"], result["agent"]


FIELDS = (
    "handled",
    "first_response_median",
    "first_response_p90",
    "resolution_median",
    "resolution_p90",
    "sla_attainment",
    "approvals_requested",
    "approvals_returned",
    "reopen_rate",
)


def as_dict(figures: Any) -> dict[str, Any]:
    """The figures object's values under the names `expected_figures` uses."""
    return {name: getattr(figures, name) for name in FIELDS}
