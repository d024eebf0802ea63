"""Spike alerts in the sidebar, for every role that may see them."""

from __future__ import annotations

import streamlit as st

from dangol.core.permissions import allowed
from dashboard.context import Ctx, read
from dashboard.safe import md
from storage.alerts import recent_alerts
from storage.models import Staff


def sidebar(ctx: Ctx, actor: Staff) -> None:
    """The newest alerts, open ones first."""
    if not allowed(actor, "alert.view"):
        return
    alerts = read(ctx, lambda s: recent_alerts(session=s, limit=5))
    if not alerts:
        return
    st.subheader("Alerts")
    for alert in alerts:
        state = "open" if alert.ended_at is None else "ended"
        summary = alert.explanation.get("summary", "") if isinstance(alert.explanation, dict) else ""
        st.caption(f"⚠ {md(alert.kind)} · {md(alert.scope)} · {state}: {md(summary)}")
