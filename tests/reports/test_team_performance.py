"""Team performance: the weekly report's per-team table and the admin's per-agent figures equal the
figures computed again from the tables by the test (tests/reports/team_week.py), on SQLite and
PostgreSQL; no agent's figures reach the report, and an agent may not read them."""

from __future__ import annotations

import pytest

from dangol.core.errors import Forbidden
from reports.team_performance import for_viewer
from reports.weekly import build_weekly, render_html
from storage.models import Staff
from tests.reports.team_week import WEEK, as_dict, expected_figures, seed_team_week


@pytest.fixture
def team_settings(settings):
    assert settings.brand.timezone == "Asia/Seoul", "team_week.py places its events in Seoul's week"
    return settings


def test_the_weekly_report_has_each_teams_figures_as_computed_from_the_tables(session, team_settings) -> None:
    world = seed_team_week(session)
    teams, _agents = expected_figures(session, world.week)
    report = build_weekly(session=session, settings=team_settings, week=WEEK)
    got = {t.key: as_dict(t.figures) for t in report.teams}
    assert got.keys() == teams.keys() == {"support", "billing"}
    for key, figures in teams.items():
        assert got[key] == pytest.approx(figures), key
    # The world was built so that every figure has something to measure (no vacuous equality).
    support = got["support"]
    assert support["handled"] == 3 and support["approvals_returned"] == 1
    assert support["reopen_rate"] == pytest.approx(1 / 3)
    assert support["sla_attainment"] == pytest.approx(2 / 3) and got["billing"]["resolution_median"] is not None


def test_the_admin_reads_each_agents_figures_as_computed_from_the_tables(session, team_settings) -> None:
    world = seed_team_week(session)
    teams, agents = expected_figures(session, world.week)
    admin = Staff(username="boss", role="admin")
    performance = for_viewer(admin, session=session, week=world.week)
    got = {a.username: as_dict(a.figures) for a in performance.agents}
    assert got.keys() == agents.keys() == {"anakang", "benoh"}
    for name, figures in agents.items():
        assert got[name] == pytest.approx(figures), name
    for row in performance.teams:
        assert as_dict(row.figures) == pytest.approx(teams[row.key]), row.key
    # ana closed a billing item: it is hers (team shown is her own), and billing's, once each.
    assert got["anakang"]["handled"] == 4 and [a.team for a in performance.agents] == ["Billing", "Support"]


@pytest.mark.parametrize("role", ["agent", "pr_reviewer", "product"])
def test_no_other_role_may_read_agents_figures(session, role) -> None:
    world = seed_team_week(session)
    with pytest.raises(Forbidden, match="team.performance"):
        for_viewer(Staff(username="someone", role=role), session=session, week=world.week)


def test_the_report_file_names_no_agent(session, team_settings) -> None:
    seed_team_week(session)
    page = render_html(build_weekly(session=session, settings=team_settings, week=WEEK))
    assert 'id="team-performance"' in page and "<td>Support</td>" in page and "<td>Billing</td>" in page
    assert "anakang" not in page and "benoh" not in page
