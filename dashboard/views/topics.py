"""Topics page (product teams): trend per topic, representative posts, affected customers, CSV."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import altair as alt
import pandas as pd
import streamlit as st

from dangol.core.permissions import allowed
from dangol.core.types import utcnow, web_link
from dashboard import aggregates
from dashboard.context import Ctx, act, read
from dashboard.navigation import from_url, to_url
from dashboard.safe import md
from dashboard.times import utc_days
from storage.models import Staff
from storage.read_models import topic_customers

if TYPE_CHECKING:
    from reports.feeds import TopicFeed

WINDOWS = {"7 days": 7, "28 days": 28, "90 days": 90}


def render(ctx: Ctx, actor: Staff) -> None:
    """Complaint volume by topic over time, then one topic in detail."""
    from reports.feeds import build_topic_feed
    from storage.topics import list_topics

    st.header("Complaint topics")
    cols = st.columns([3, 1])
    days = WINDOWS[cols[0].selectbox("Window", list(WINDOWS), key="topic_window")]
    today = utcnow().date()
    ending = cols[1].date_input("Ending on (UTC)", value=today, max_value=today, key="topic_ending")
    # One window for the chart, the summary, the list, the customers and the CSV, so their counts agree.
    since, until = aggregates.window(days, ending)
    db = ctx.settings.database
    counts = aggregates.topic_days(db.url, db.echo, since, until)
    entries = read(ctx, lambda s: list_topics(session=s, catalog=ctx.settings.topic_catalog))
    # Retired topics stay listed after the others: their past complaints are still worth reading.
    names = {e.key: e.topic.name if e.enabled else f"{e.topic.name} (retired)" for e in entries}
    if counts:
        chart = (
            alt.Chart(chart_frame(counts, names, since, until))
            .mark_line(point=True)
            .encode(
                x=utc_days(),
                y="complaints:Q",
                color="topic:N",
                tooltip=["day", "topic", "complaints"],
            )
        )
        st.altair_chart(chart, width="stretch")
    else:
        st.info("No complaints in this window: choose a longer window or an earlier end date.")
    if not entries:
        st.caption("No topics are configured ([topics] in config.toml, or the Admin page).")
        return
    # The window's most complained-about topics first, so the page opens on the one to read.
    keys = busiest_first([e.key for e in entries if e.enabled], counts) + [e.key for e in entries if not e.enabled]
    from_url("topic", "topic_pick", keys)  # /topics?topic=delivery, from a feed, an alert or a report
    key = st.selectbox("Topic", keys, format_func=lambda k: names[k], key="topic_pick")
    to_url("topic", key)
    # The summary and the list cover the chosen window too, not only the chart.
    feed = read(ctx, lambda s: build_topic_feed(session=s, settings=ctx.settings, key=key, now=until, days=days))
    st.subheader(md(feed.name))
    st.caption(md(feed.summary))
    _feed_links(ctx, feed)
    for item in feed.items[:10]:
        with st.container(border=True):
            size = f" · {item.cluster_size} similar posts" if item.cluster_size > 1 else ""
            st.caption(f"{md(item.post.platform)} @{md(item.post.handle)} · reach {item.post.reach:,}{size}")
            st.text(item.post.shared_text)
            url = web_link(item.post.url)
            if url:
                st.link_button("Open original ↗", url)
    # Names, tiers and histories are customer data: only roles that may view customers see them.
    affected = (
        read(ctx, lambda s: topic_customers(session=s, topic=key, since=since, until=until))
        if allowed(actor, "customer.view")
        else []
    )
    if affected:
        st.caption("Affected known customers")
        st.dataframe(
            pd.DataFrame([{"customer": c.name, "tier": c.tier, "posts": n} for c, n in affected]), hide_index=True
        )
    if allowed(actor, "topic.export"):
        _csv_export(ctx, key, since, until)


def busiest_first(keys: list[str], counts: list[tuple[str, str, int]]) -> list[str]:
    """`keys` ordered by their complaints in `counts` ((day, topic, complaints) rows), most first;
    topics with as many (none, say) keep their order."""
    totals: Counter[str] = Counter()
    for _, topic, complaints in counts:
        totals[topic] += complaints
    return sorted(keys, key=lambda key: -totals[key])


def _csv_export(ctx: Ctx, key: str, since: datetime, until: datetime) -> None:
    """Prepare (audited, as a privacy-relevant export of people's posts), then download."""
    from reports.feeds import export_topic

    ready = f"topic_csv_{key}_{since:%Y%m%d%H}_{until:%Y%m%d%H}"
    why = "The CSV lists people's public posts with their handles; each export is recorded in the audit trail."
    if st.button("Prepare CSV", key=f"prepare_{ready}", help=why):
        data = act(
            ctx,
            "topic.export",
            lambda s, a: export_topic(key, session=s, actor=a, since=since, until=until),
            rerun=False,
        )
        if data is not None:
            st.session_state[ready] = data
    if st.session_state.get(ready):
        st.download_button("Download CSV", st.session_state[ready], file_name=f"topic-{key}.csv", mime="text/csv")


def chart_frame(
    counts: list[tuple[str, str, int]], names: dict[str, str], since: datetime, until: datetime
) -> pd.DataFrame:
    """The chart's (day, topic, complaints) rows from (day, topic key, complaints) `counts`: topics
    named as the selector below names them (the key only where no topic has it now, as "other")."""
    named = [(day, names.get(key, key), complaints) for day, key, complaints in counts]
    return every_day(pd.DataFrame(named, columns=["day", "topic", "complaints"]), since, until)


def every_day(frame: pd.DataFrame, since: datetime, until: datetime) -> pd.DataFrame:
    """The (day, topic, complaints) rows with a 0 for every day of the window a topic had none, so the
    chart does not draw a line across days that never happened."""
    days = pd.date_range(since.date(), (until - timedelta(seconds=1)).date(), freq="D").strftime("%Y-%m-%d")
    grid = pd.MultiIndex.from_product([days, sorted(frame["topic"].unique())], names=["day", "topic"])
    # Summed per (day, topic): two topic keys can carry the same name (nothing stops an admin naming them alike).
    full = frame.groupby(["day", "topic"])["complaints"].sum().reindex(grid, fill_value=0)
    return full.reset_index()


def _feed_links(ctx: Ctx, feed: TopicFeed) -> None:
    """The topic's feed as the worker publishes it, and the same feed to download now."""
    import json

    from reports.feeds import atom_document, json_feed

    where = f"{ctx.settings.reports.feeds_dir}/{feed.key}"
    st.caption(f"Published by the worker as {md(where)}.atom and {md(where)}.json; subscribe in any feed reader.")
    cols = st.columns(2)
    atom = atom_document(feed, ctx.settings)
    cols[0].download_button("Atom feed", atom, file_name=f"{feed.key}.atom", mime="application/atom+xml")
    data = json.dumps(json_feed(feed, ctx.settings), ensure_ascii=False, indent=2)
    cols[1].download_button("JSON feed", data, file_name=f"{feed.key}.json", mime="application/feed+json")
