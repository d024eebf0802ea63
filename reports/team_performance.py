"""Team performance for one ISO week: per team and per agent, how much was handled, how fast, within
SLA or not, how many replies went to review and came back, and how many items were reopened.

The rows come from `storage.team_performance`; this module groups them and computes the figures
(README, "Team performance", defines each). Per-agent figures are for people who may see everyone's
(`team.performance`: admins): `for_viewer` checks that before anything is read. The weekly report,
which every role may read and download, gets `team_rows` only: no agent's figures are in it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from sqlmodel import Session

from dangol.core.permissions import Actor, require
from reports.period import Week
from reports.tails import percentile
from storage import team_performance as q
from storage.staff import all_staff, all_teams


@dataclass(frozen=True, slots=True)
class Figures:
    """One team's or one agent's week (times in minutes; None where there is nothing to measure)."""

    handled: int
    first_responses: int
    first_response_median: float | None
    first_response_p90: float | None
    resolved: int
    resolution_median: float | None
    resolution_p90: float | None
    sla_due: int  # first responses that had a deadline
    sla_met: int  # … answered by it
    approvals_requested: int
    approvals_returned: int
    reopened: int  # handled items reopened after the handling

    @property
    def sla_attainment(self) -> float | None:
        return self.sla_met / self.sla_due if self.sla_due else None

    @property
    def reopen_rate(self) -> float | None:
        return self.reopened / self.handled if self.handled else None


@dataclass(frozen=True, slots=True)
class TeamRow:
    """A team's figures, over every item routed to the team (QueueItem.team)."""

    key: str
    name: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class AgentRow:
    """An agent's figures, over what the agent did; `team` is the agent's own team."""

    staff_id: int
    username: str
    display_name: str
    team: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class TeamPerformance:
    """The week's figures per team and per agent."""

    week: str
    teams: list[TeamRow]
    agents: list[AgentRow]


@dataclass(frozen=True, slots=True)
class _Rows:
    handling: list[q.Handling]
    first: list[q.FirstResponse]
    approvals: list[q.ApprovalRequest]
    reopenings: list[tuple[int, datetime]]


def _read(session: Session, week: Week) -> _Rows:
    since, until = week.start, week.end
    handling = q.handling_events(session=session, since=since, until=until)
    items = sorted({h.item_id for h in handling})
    return _Rows(
        handling=handling,
        first=q.first_responses(session=session, since=since, until=until),
        approvals=q.approval_requests(session=session, since=since, until=until),
        reopenings=q.reopenings(session=session, item_ids=items, since=since),
    )


class _Owned(Protocol):
    """What every row carries to say whose it is."""

    @property
    def team(self) -> str: ...
    @property
    def staff_id(self) -> int | None: ...


K = TypeVar("K", bound=Hashable)


def _minutes(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds() / 60)


def _figures(rows: _Rows, owner: Callable[[_Owned], K | None]) -> dict[K, Figures]:
    """Figures per owner; `owner(row)` says whose a row is (None: nobody's in this grouping)."""
    last_handled: dict[K, dict[int, datetime]] = defaultdict(dict)
    last_closed: dict[K, dict[int, q.Handling]] = defaultdict(dict)
    for h in rows.handling:
        if (key := owner(h)) is None:
            continue
        seen = last_handled[key]
        seen[h.item_id] = max(h.at, seen.get(h.item_id, h.at))
        if h.kind == "close" and (h.item_id not in last_closed[key] or last_closed[key][h.item_id].at < h.at):
            last_closed[key][h.item_id] = h
    reopened_at: dict[int, list[datetime]] = defaultdict(list)
    for item_id, at in rows.reopenings:
        reopened_at[item_id].append(at)
    first: dict[K, list[q.FirstResponse]] = defaultdict(list)
    for f in rows.first:
        if (key := owner(f)) is not None:
            first[key].append(f)
    approvals: dict[K, list[q.ApprovalRequest]] = defaultdict(list)
    for a in rows.approvals:
        if (key := owner(a)) is not None:
            approvals[key].append(a)
    result = {}
    for key in set(last_handled) | set(first) | set(approvals):
        handled = last_handled.get(key, {})
        closes = last_closed.get(key, {}).values()
        answers = first.get(key, [])
        response = [_minutes(f.created_at, f.responded_at) for f in answers]
        resolution = [_minutes(c.item_created_at, c.at) for c in closes]
        due = [f for f in answers if f.due_at is not None]
        asked = approvals.get(key, [])
        result[key] = Figures(
            handled=len(handled),
            first_responses=len(answers),
            first_response_median=percentile(response, 0.5),
            first_response_p90=percentile(response, 0.9),
            resolved=len(resolution),
            resolution_median=percentile(resolution, 0.5),
            resolution_p90=percentile(resolution, 0.9),
            sla_due=len(due),
            sla_met=sum(1 for f in due if f.due_at is not None and f.responded_at <= f.due_at),
            approvals_requested=len(asked),
            approvals_returned=sum(1 for a in asked if a.returned),
            reopened=sum(1 for i, at in handled.items() if any(r > at for r in reopened_at.get(i, ()))),
        )
    return result


def _by_team(row: _Owned) -> str:
    return row.team


def _by_agent(row: _Owned) -> int | None:
    return row.staff_id


def _team_rows(session: Session, rows: _Rows) -> list[TeamRow]:
    names = {t.key: t.name for t in all_teams(session=session)}
    figures = _figures(rows, _by_team)
    return [
        TeamRow(str(k), names.get(str(k), str(k)), f) for k, f in sorted(figures.items(), key=lambda kv: str(kv[0]))
    ]


def team_rows(*, session: Session, week: Week) -> list[TeamRow]:
    """Per-team figures of the week, by team key (the weekly report's section: no agent in it)."""
    return _team_rows(session, _read(session, week))


def for_viewer(actor: Actor, *, session: Session, week: Week) -> TeamPerformance:
    """Per-team and per-agent figures of the week, for a viewer allowed to see every agent's."""
    require(actor, "team.performance")  # before anything is read
    rows = _read(session, week)
    teams = {t.id: t.name for t in all_teams(session=session)}
    staff = {s.id: s for s in all_staff(session=session)}
    agents = [
        AgentRow(k, s.username, s.display_name, teams.get(s.team_id, "") if s.team_id else "", f)
        for k, f in _figures(rows, _by_agent).items()
        if (s := staff.get(k)) is not None
    ]
    agents.sort(key=lambda a: (a.team, a.username))  # by name, not by any figure: the table is no ranking
    return TeamPerformance(week=week.label, teams=_team_rows(session, rows), agents=agents)
