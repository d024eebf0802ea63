"""Spike alerts in the sidebar, for every role that may see them: those of the last week, each with
a button to the page it is about."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from dangol.core.permissions import allowed
from dangol.core.types import utcnow
from dashboard.context import Ctx, read
from dashboard.navigation import open_paths, scope_button
from dashboard.safe import md
from dashboard.times import utc_minute
from storage.alerts import alerts_between
from storage.models import Alert, Staff

SHOWN = 5
RECENT = timedelta(days=7)  # older episodes are in the weekly reports and on the Reports page
KIND_NAMES = {"volume": "volume spike", "negative_share": "negative-share spike"}


def sidebar(ctx: Ctx, actor: Staff) -> None:
    """The newest alerts of the last week, open ones first."""
    if not allowed(actor, "alert.view"):
        return
    now = utcnow()
    alerts = read(ctx, lambda s: alerts_between(session=s, since=now - RECENT, until=now))
    if not alerts:
        return
    newest = sorted(alerts, key=lambda a: (a.ended_at is None, a.started_at, a.id or 0), reverse=True)[:SHOWN]
    paths = open_paths(actor)
    st.subheader("Alerts")
    for alert in newest:
        _alert(alert, paths)


def _alert(alert: Alert, paths: set[str]) -> None:
    when = f"ended {utc_minute(alert.ended_at)}" if alert.ended_at else f"open since {utc_minute(alert.started_at)}"
    summary = alert.explanation.get("summary", "") if isinstance(alert.explanation, dict) else ""
    st.caption(f"⚠ {md(KIND_NAMES.get(alert.kind, alert.kind))} · {md(when)}  \n{md(summary)}")
    # "View", as the Inbox's buttons to the same pages say "Open".
    scope_button(st, alert.scope, paths, key=f"sidebar_alert_{alert.id}", verb="View")
