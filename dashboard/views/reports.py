"""Reports page: the weekly sentiment report in the page, and as an HTML download."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from dangol.core.permissions import allowed
from dashboard.context import Ctx, read
from dashboard.navigation import from_url, to_url
from dashboard.safe import md
from dashboard.times import utc_days, utc_minutes
from reports.charts import SENTIMENT_COLORS
from storage.models import Staff

if TYPE_CHECKING:
    from reports.brands import BrandRow
    from reports.ratings import RatingRow
    from reports.team_performance import Figures
    from reports.weekly import WeeklyReport


def render(ctx: Ctx, actor: Staff) -> None:
    """Pick a week (default: the last complete one) and read it."""
    from reports.weekly import build_weekly, render_html

    st.header("Weekly report")
    from_url("week", "report_week")  # /reports?week=2026-W47, from the e-mailed report
    week = st.text_input("ISO week (e.g. 2026-W47; empty = last complete week)", key="report_week").strip()
    to_url("week", week or None)
    from dangol.core.errors import DangolError

    try:
        report = read(ctx, lambda s: build_weekly(session=s, settings=ctx.settings, week=week or None))
    except DangolError as exc:
        st.error(md(exc))
        return
    st.subheader(f"{md(report.brand)} · {md(report.week)}")
    cols = st.columns(4)
    cols[0].metric("Posts", f"{report.total_posts:,}")
    cols[1].metric("Analyzed", f"{report.analyzed_posts:,}")
    net = report.net_sentiment
    change = report.net_change
    cols[2].metric(
        "Net sentiment",
        "–" if net is None else f"{net:+.2f}",
        None if change is None else f"{change:+.2f} on last week's {report.previous_net:+.2f}",
        help="(positive − negative) / analyzed posts, from −1 to +1; the arrow is the change from the week before.",
    )
    response = report.response
    sla = response.sla_attainment
    cols[3].metric(
        "SLA attainment",
        "–" if sla is None else f"{sla:.0%}",
        help=f"Of the queue items queued this week, those first answered within their SLA: {response.sla_met:,} met, "
        f"{response.sla_missed:,} missed, {response.sla_pending:,} still within their deadline (not counted yet).",
    )
    trend = pd.DataFrame([{"week": p.week, **p.counts} for p in report.trend]).set_index("week")
    if not trend.empty:
        st.caption("Sentiment by week")
        # All three always, so the legend and the colours stay the same week to week.
        trend = trend.reindex(columns=list(SENTIMENT_COLORS), fill_value=0)
        st.bar_chart(trend, color=list(SENTIMENT_COLORS.values()))
    if report.complaint_topics:
        st.caption("Complaints by topic")
        st.dataframe(
            pd.DataFrame(
                [
                    {"topic": t.name, "this week": t.count, "previous": t.previous, "change": t.change}
                    for t in report.complaint_topics
                ]
            ),
            hide_index=True,
        )
    _store_ratings(report)
    _share_of_voice(report)
    for title, posts in (
        ("Notable negative posts", report.notable_negative),
        ("Notable positive posts", report.notable_positive),
    ):
        if posts:
            st.caption(title)
            for p in posts:
                st.text(f"{p.platform} @{p.handle} (reach {p.reach:,}): {p.shared_text}")
    for alert in report.alerts:
        st.warning(f"{md(alert.kind)} spike in {md(alert.scope)}: {md(alert.summary)}")
    _team_performance(ctx, actor, report)
    _recent_charts(ctx)
    st.download_button(
        "Download report (HTML)", render_html(report), file_name=f"weekly-{report.week}.html", mime="text/html"
    )


def rating_columns(row: RatingRow) -> dict[str, object]:
    """One row of the store-ratings table, formatted as the weekly report formats it."""
    from reports.ratings import STARS
    from reports.weekly import format_stars

    stars: dict[str, object] = {f"{s}★": row.stars[s] for s in STARS}
    return {
        "week": row.week,
        "store": row.store,
        "app": row.app_label,
        "version": row.version_label,
        "reviews": row.reviews,
        **stars,
        "average": format_stars(row.average),
    }


def _store_ratings(report: WeeklyReport) -> None:
    """App Store and Google Play star ratings per week, app and version (the report's table)."""
    if not report.ratings:
        return
    st.subheader("Store ratings")
    st.caption("Reviews per app and the version they were written on; 'all versions' first, then each version")
    st.dataframe(pd.DataFrame([rating_columns(r) for r in report.ratings]), hide_index=True)


def brand_columns(row: BrandRow) -> dict[str, object]:
    """One row of the share-of-voice table, formatted as the weekly report formats it."""

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value * 100:.1f}%"

    return {
        "week": row.week,
        "brand": row.name,
        "mentions": row.mentions,
        "share": pct(row.mention_share),
        "reach": row.reach,
        "reach share": pct(row.reach_share),
        "net sentiment": "–" if row.net is None else f"{row.net:+.2f}",
    }


def _share_of_voice(report: WeeklyReport) -> None:
    """Share of voice and net sentiment per brand per week, and competitors' complaints per topic."""
    if len(report.brands_this_week) < 2:
        return  # one brand configured: nothing to compare
    st.subheader("Share of voice")
    st.caption(
        "Posts about each brand by people other than our accounts (spam left out). Share: of mentions (a post "
        "about two brands counts for both); reach share: each post weighs its author's followers plus its "
        "engagement. Net sentiment: (positive − negative) / analyzed posts."
    )
    st.dataframe(pd.DataFrame([brand_columns(b) for b in report.brands]), hide_index=True)
    st.subheader("Competitor complaints")
    st.caption("This week's posts about a competitor only that are complaints or negative, per topic")
    if report.competitor_complaints:
        rows = [
            {"competitor": c.name, "topic": c.topic_name, "complaints": c.complaints, "negative": c.negative,
             "posts": c.posts}
            for c in report.competitor_complaints
        ]  # fmt: skip
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    else:
        st.caption("None this week.")


def _figure_columns(f: Figures) -> dict[str, object]:
    """One row of the performance tables: the same figures, formatted as the report formats them."""
    from reports.weekly import format_minutes

    def pct(value: float | None) -> str:
        return "–" if value is None else f"{value * 100:.1f}%"

    return {
        "handled": f.handled,
        "first response median": format_minutes(f.first_response_median),
        "first response p90": format_minutes(f.first_response_p90),
        "resolution median": format_minutes(f.resolution_median),
        "resolution p90": format_minutes(f.resolution_p90),
        "SLA attainment": pct(f.sla_attainment),
        "approvals requested": f.approvals_requested,
        "approvals returned": f.approvals_returned,
        "reopen rate": pct(f.reopen_rate),
    }


def _team_performance(ctx: Ctx, actor: Staff, report: WeeklyReport) -> None:
    """The week's figures per team (as in the report every role reads); per agent for admins only."""
    from reports.period import parse_week
    from reports.team_performance import for_viewer

    st.subheader("Team performance")
    if report.teams:
        st.caption("Per team")
        teams = [{"team": t.name, **_figure_columns(t.figures)} for t in report.teams]
        st.dataframe(pd.DataFrame(teams), hide_index=True)
    else:
        st.caption("No replies, closes or approvals this week.")
    # An agent never sees a colleague's figures: the rows are not even read without the permission
    # (for_viewer checks it again on the server).
    if not allowed(actor, "team.performance"):
        return
    week = parse_week(report.week, report.timezone)
    performance = read(ctx, lambda s: for_viewer(actor, session=s, week=week))
    if performance.agents:
        st.caption("Per agent (admins only; ordered by team and name)")
        agents = [{"agent": a.username, "team": a.team, **_figure_columns(a.figures)} for a in performance.agents]
        st.dataframe(pd.DataFrame(agents), hide_index=True)


def _recent_charts(ctx: Ctx) -> None:
    """The last 28 days at a glance: sentiment per day, SLA attainment per day, spikes."""
    import altair as alt

    from dashboard import aggregates
    from storage.alerts import alerts_between

    db = ctx.settings.database
    since, until = aggregates.window(28)
    st.subheader("Last 28 days")
    sentiment = aggregates.sentiment_days(db.url, db.echo, since, until)
    if sentiment:
        frame = pd.DataFrame(sentiment, columns=["day", "sentiment", "posts"])
        colors = alt.Scale(domain=list(SENTIMENT_COLORS), range=list(SENTIMENT_COLORS.values()))
        st.altair_chart(
            alt.Chart(frame, title="Sentiment per day")
            .mark_area()
            .encode(
                x=utc_days(span=(since, until)),
                y=alt.Y("posts:Q", stack="normalize", title="share"),
                color=alt.Color("sentiment:N", scale=colors),
                tooltip=["day", "sentiment", "posts"],
            ),
            width="stretch",
        )
    sla = aggregates.sla_days(db.url, db.echo, since, until)
    if sla:
        frame = pd.DataFrame(sla, columns=["day", "in time", "late"]).melt(
            "day", var_name="first response", value_name="items"
        )
        st.altair_chart(
            alt.Chart(frame, title="First responses in time vs late")
            .mark_bar()
            .encode(
                x=utc_days(span=(since, until)),
                y="items:Q",
                color="first response:N",
                tooltip=["day", "first response", "items"],
            ),
            width="stretch",
        )
    alerts = read(ctx, lambda s: alerts_between(session=s, since=since, until=until))
    if alerts:
        frame = pd.DataFrame(
            [
                {"started": a.started_at, "scope": a.scope, "observed": a.observed, "expected": a.expected}
                for a in alerts
            ]
        )
        st.altair_chart(
            alt.Chart(frame, title="Spikes: observed vs expected")
            .mark_point(filled=True, size=80, clip=True)  # an episode begun before the window
            .encode(
                x=utc_minutes("started", "started (UTC)", span=(since, until)),
                y="observed:Q",
                color="scope:N",
                tooltip=["scope", "observed", "expected"],
            ),
            width="stretch",
        )
