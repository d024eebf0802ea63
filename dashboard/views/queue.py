"""Queue page: filters, most urgent first with SLA countdowns, pages, bulk actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from dangol.core.permissions import allowed
from dangol.core.types import PLATFORMS, SENTIMENTS, utcnow
from dashboard.context import Ctx, act, live_actor, read
from dashboard.live import live
from dashboard.navigation import open_item
from dashboard.safe import md, short
from responder.queue import Cursor, QueueFilters, QueuePage, list_queue
from responder.statuses import OPEN_STATUSES, STATUSES
from storage.models import Staff
from storage.queue import SLA_STATES, SORTS, QueueRow, count_newer, newest_item_id, queue_facets, queue_rows
from storage.topics import list_topics

ANY = "(any)"


def countdown(due: datetime | None, breached: bool, now: datetime) -> str:
    """'12m left', '3h 5m left', '7d 17h left', 'overdue 40m' or 'no SLA'."""
    if due is None:
        return "breached" if breached else "no SLA"
    seconds = int((due - now).total_seconds())
    span = abs(seconds) // 60
    hours = span // 60
    if hours >= 24:
        text = f"{hours // 24}d {hours % 24}h"
    elif hours:
        text = f"{hours}h {span % 60}m"
    else:
        text = f"{span}m"
    return f"overdue {text}" if seconds < 0 or breached else f"{text} left"


@st.cache_data(ttl=600, show_spinner=False)
def _facets(url: str, echo: bool, topics: tuple[str, ...]) -> dict[str, list[str]]:
    # The choices change rarely; no need to ask the database on every click.
    from sqlmodel import Session

    from dashboard.context import _engine

    with Session(_engine(url, echo)) as session:
        return queue_facets(session=session, topics=list(topics))


def _choice(value: str) -> str | None:
    return None if value == ANY else value


# Query parameter → the filter widget it fills (a shared /queue?topic=delivery&sla=breached link).
URL_FILTERS = {
    "team": "f_team",
    "topic": "f_topic",
    "sentiment": "f_sentiment",
    "platform": "f_platform",
    "language": "f_language",
    "sla": "f_sla",
    "segment": "f_segment",
}
ASSIGNEE_PARAMS = {"(unassigned)": "unassigned", "(me)": "me"}
# The list's order (/queue?sort=due): priority first, as the worker ranks items, is the default.
SORT_LABELS = {
    "priority": "Most urgent (priority, then longest waiting)",
    "due": "SLA deadline, soonest first",
    "oldest": "Longest waiting first",
    "newest": "Newest first",
}
assert set(SORT_LABELS) == set(SORTS), "every sort the queue query knows, and only those, has a label"


def filters_form(ctx: Ctx, actor: Staff) -> QueueFilters:
    """The filter form; values persist in session state between runs and show in the URL."""
    # Retired topics stay offered: items filed under them are still in the queue.
    topics = read(
        ctx, lambda s: tuple(entry.key for entry in list_topics(session=s, catalog=ctx.settings.topic_catalog))
    )
    facets = _facets(ctx.settings.database.url, ctx.settings.database.echo, topics)
    staff = read(ctx, lambda s: _staff(s))
    segments = {key: segment.name for key, segment in ctx.settings.segments.items()}
    choices = {
        "team": facets["team"], "topic": facets["topic"], "sentiment": list(SENTIMENTS), "platform": list(PLATFORMS),
        "language": facets["language"], "sla": list(SLA_STATES), "segment": list(segments),
    }  # fmt: skip
    names = [ANY, "(unassigned)", "(me)", *staff]
    _filters_from_url(choices, names)
    with st.form("queue_filters"):
        cols = st.columns(4)
        status = cols[0].multiselect("Status", STATUSES, key="f_status")
        team = cols[1].selectbox("Team", [ANY, *facets["team"]], key="f_team")
        topic = cols[2].selectbox("Topic", [ANY, *facets["topic"]], key="f_topic")
        sentiment = cols[3].selectbox("Sentiment", [ANY, *SENTIMENTS], key="f_sentiment")
        cols = st.columns(4)
        platform = cols[0].selectbox("Platform", [ANY, *PLATFORMS], key="f_platform")
        language = cols[1].selectbox("Language", [ANY, *facets["language"]], key="f_language")
        assignee = cols[2].selectbox("Assignee", names, key="f_assignee")
        sla = cols[3].selectbox("SLA", [ANY, *SLA_STATES], key="f_sla")
        cols = st.columns(4)
        segment = cols[0].selectbox(
            "Customer segment", [ANY, *segments], format_func=lambda k: segments.get(k, k), key="f_segment"
        )
        cols[1].selectbox("Sort", list(SORT_LABELS), format_func=SORT_LABELS.__getitem__, key="f_sort")
        if st.form_submit_button("Apply filters"):
            _turn_to(1, None)
    _filters_to_url()
    assignee_id = actor.id if assignee == "(me)" else staff.get(assignee)
    return QueueFilters(
        status=list(status),
        team=_choice(team),
        topic=_choice(topic),
        sentiment=_choice(sentiment),
        platform=_choice(platform),
        language=_choice(language),
        assignee_id=assignee_id,
        unassigned=assignee == "(unassigned)",
        sla=_choice(sla),
        segment=_choice(segment),
    )


def _filters_from_url(choices: dict[str, list[str]], names: list[str]) -> None:
    """Fill the filter widgets from the URL before they are drawn (values the form does not offer
    are ignored); a filter the URL changes starts again from the first page."""
    from dashboard.navigation import from_url

    # The default is set here, not as the widget's `default`: a widget given both warns.
    st.session_state.setdefault("f_status", list(OPEN_STATUSES))
    before = {key: st.session_state.get(key) for key in (*URL_FILTERS.values(), "f_status", "f_assignee", "f_sort")}
    from_url("status", "f_status", STATUSES, many=True)
    from_url("sort", "f_sort", list(SORT_LABELS))
    for param, key in URL_FILTERS.items():
        from_url(param, key, choices[param])
    params = {value: name for name, value in ASSIGNEE_PARAMS.items()}
    from_url("assignee", "f_assignee_param", [*params, *names[3:]])
    if "f_assignee_param" in st.session_state:
        wanted = st.session_state.pop("f_assignee_param")
        st.session_state["f_assignee"] = params.get(wanted, wanted)
    if before != {key: st.session_state.get(key) for key in before}:
        _turn_to(1, None)


def _filters_to_url() -> None:
    from dashboard.navigation import to_url

    to_url("status", st.session_state.get("f_status", []), default=list(OPEN_STATUSES))
    to_url("sort", st.session_state.get("f_sort"), default="priority")
    for param, key in URL_FILTERS.items():
        to_url(param, st.session_state.get(key), default=ANY)
    assignee = st.session_state.get("f_assignee", ANY)
    to_url("assignee", ASSIGNEE_PARAMS.get(assignee, assignee), default=ANY)


def _staff(session: object) -> dict[str, int]:
    from responder.accounts.staff import list_staff

    return {s.username: s.id for s in list_staff(session=session, include_inactive=False)}  # type: ignore[arg-type, misc]


def render(ctx: Ctx, actor: Staff) -> None:
    """The queue page: the filters, then the list, which redraws itself (dashboard.live) and marks
    the items that arrived since the person last looked."""
    st.header("Queue")
    if not allowed(actor, "queue.claim"):
        st.info(f"Read-only: queue actions are not part of your role ({md(actor.role)}).")
    filters = filters_form(ctx, actor)
    _start_look(ctx, actor)
    # On a full run the fragment runs inline and hands back its rows; its timed reruns leave the
    # bulk form below as it is (a half-made selection survives a refresh).
    rows = live(ctx, _live_list)(ctx, actor, filters)
    if rows and allowed(actor, "queue.bulk"):  # the server checks again on every click
        bulk_form(ctx, actor, rows)


# Per browser session: {"seen": the newest item id when the person last looked (items above it are
# new), "shown": the newest item id the list has shown in this visit}.
LOOK = "queue_look"


def _start_look(ctx: Ctx, actor: Staff) -> None:
    """On arriving at the queue (not on reruns within the visit): what is new is counted from what
    the last visit showed; on the first visit of this login, nothing is new."""
    from dashboard.navigation import arrived

    look = st.session_state.get(LOOK)
    if look is not None and not arrived():
        return
    newest = read(ctx, lambda s: newest_item_id(session=s))
    st.session_state[LOOK] = {"seen": newest if look is None else look["shown"], "shown": newest}
    _leave_item(ctx, actor)


def _leave_item(ctx: Ctx, actor: Staff) -> None:
    # Back on the queue: not on the item any more (else they would linger until the stale timeout).
    item_id = st.session_state.pop("presence_item", None)
    if item_id is not None and actor.id is not None:
        from responder.presence import leave
        from storage.engine import session_scope

        with session_scope(ctx.engine) as session:
            leave(session=session, staff_id=actor.id, item_id=item_id)


def _mark_seen(newest: int) -> None:
    st.session_state[LOOK]["seen"] = newest


def _live_list(ctx: Ctx, actor: Staff, filters: QueueFilters) -> list[QueueRow]:
    """The list, its new-items marker and the pager (a fragment: dashboard.live)."""
    actor = live_actor(ctx, actor)
    look = st.session_state[LOOK]
    size = ctx.settings.dashboard.page_size
    number = int(st.session_state.get("queue_page", 1))
    cursor = st.session_state.get("queue_cursor")
    now = utcnow()
    sort = st.session_state.get("f_sort", "priority")
    page, rows, fresh, newest = read(ctx, lambda s: _page(s, filters, sort, number, cursor, size, now, look["seen"]))
    look["shown"] = newest
    if fresh:
        marker = st.container(horizontal=True, vertical_alignment="center")
        marker.info(f"{fresh} new since you looked", icon="🆕")
        marker.button("Mark as seen", key="queue_mark_seen", on_click=_mark_seen, args=(newest,))
    st.caption(page.describe())
    for row in rows:
        _row(row, actor, now, new=row.item_id > look["seen"])
    _pager(page)
    return rows


def _page(
    session: Any,
    filters: QueueFilters,
    sort: str,
    number: int,
    cursor: Cursor | None,
    size: int,
    now: datetime,
    seen: int,
) -> tuple[QueuePage, list[QueueRow], int, int]:
    # The responder's queue query chooses the page; the rows add what a queue line shows; the
    # count of new items obeys the same filters, so it counts what the list can show.
    page = list_queue(filters, session=session, sort=sort, page=number, cursor=cursor, page_size=size, now=now)
    fresh = count_newer(filters, session=session, after_id=seen, now=now)
    return page, queue_rows(session=session, items=page.items), fresh, newest_item_id(session=session)


def _row(row: QueueRow, actor: Staff, now: datetime, *, new: bool = False) -> None:
    with st.container(border=True):
        # The open button sits beside the columns, as wide as its label: a column of its own
        # (a share of the row) cut it to "Open…" in a 1,024-pixel window.
        head = st.container(horizontal=True, wrap=False)
        top = head.columns([1, 2, 2, 2, 2])
        top[0].markdown(f"**P{row.priority}**" + (" :blue-badge[new]" if new else ""))
        top[1].markdown(f"{md(row.status)} · {md(row.team)}")
        top[2].markdown(f"⏱ {md(countdown(row.due_at, row.sla_breached, now))}")
        top[3].markdown(f"{md(row.platform)} · @{md(row.handle)}")
        labels = " · ".join(md(x) for x in (row.sentiment, row.topic, row.language) if x)
        top[4].markdown(labels or "not analyzed")
        # A callback runs before the next script run, so the page switch cannot be lost mid-run.
        head.button(f"Open #{row.item_id}", key=f"open_{row.item_id}", on_click=open_item, args=(row.item_id,))
        st.text(short(row.snippet, 280))
        if row.assignee_id is not None and row.assignee_id != actor.id:
            st.caption(f"🔒 someone else is working on this: {md(row.assignee)}")
        if row.posted_since is not None:
            mood = "not analyzed yet" if row.posted_since == "unknown" else row.posted_since
            st.caption(f"↩ they posted again since ({md(mood)}): open the item to read it")
        if row.tags:
            st.caption("tags: " + ", ".join(md(t) for t in row.tags))


def _turn_to(number: int, cursor: Cursor | None) -> None:
    """Remember which page to show next run: its number (for display) and the cursor that finds it."""
    st.session_state["queue_page"] = number
    st.session_state["queue_cursor"] = cursor


def _pager(page: QueuePage) -> None:
    if page.previous is None and page.next is None:
        return
    cols = st.columns(3)
    # Pages are found by cursor (the sort key of the row beside them), so paging stays fast deep in
    # a large queue and no item is skipped or shown twice while others are closed meanwhile.
    if cols[0].button("◀ Previous page", disabled=page.previous is None, key="prev_page"):
        _turn_to(page.page - 1, page.previous)
        st.rerun()
    cols[1].caption(f"page {page.page} / {page.pages}{'' if page.total_is_exact else '+'}")
    if cols[2].button("Next page ▶", disabled=page.next is None, key="next_page"):
        _turn_to(page.page + 1, page.next)
        st.rerun()


BULK_ACTIONS = {"Assign to…": "assign", "Close as spam": "mark_spam", "Close": "close", "Add tag": "add_tag"}


PENDING = "bulk_pending"


def bulk_form(ctx: Ctx, actor: Staff, rows: list[QueueRow]) -> None:
    """Bulk assign, close as spam, close or tag the chosen items of this page, confirmed with the count."""
    if st.session_state.get(PENDING):
        _confirm_bulk(ctx)
        return
    options = {f"#{r.item_id} @{r.handle}: {short(r.snippet, 60)}": r.item_id for r in rows}
    staff = read(ctx, lambda s: _staff(s))
    with st.form("bulk"):
        st.subheader("Bulk action")
        chosen = st.multiselect("Items", list(options), key="bulk_items")
        action = st.selectbox("Action", list(BULK_ACTIONS), key="bulk_action")
        assignee = st.selectbox("Assignee (for Assign)", list(staff) or ["(nobody)"], key="bulk_assignee")
        tag = st.text_input("Tag (for Add tag)", key="bulk_tag")
        submitted = st.form_submit_button("Apply to chosen items")
    if not submitted:
        return
    ids = [options[c] for c in chosen]
    if not ids:
        st.warning("Choose at least one item.")
        return
    kwargs: dict[str, object] = {}
    if BULK_ACTIONS[action] == "assign":
        kwargs["staff_id"] = staff.get(assignee)
    if BULK_ACTIONS[action] == "add_tag":
        if not tag.strip():
            st.warning("Type the tag to add.")
            return
        kwargs["tag"] = tag.strip()

    # Nothing changes yet: the next run asks "Close 3 items?" with the count, and only that click acts.
    st.session_state[PENDING] = {"ids": ids, "action": action, "kwargs": kwargs}
    st.rerun()


def _confirm_bulk(ctx: Ctx) -> None:
    from responder.queue import bulk

    pending = st.session_state[PENDING]
    ids, action, kwargs = pending["ids"], pending["action"], pending["kwargs"]
    items = "item" if len(ids) == 1 else "items"
    st.warning(f"{md(action)} {len(ids)} {items}: " + ", ".join(f"#{i}" for i in ids) + "?")
    cols = st.columns(2)
    if cols[1].button("Cancel", key="bulk_cancel"):
        del st.session_state[PENDING]
        st.rerun()
    if not cols[0].button(f"Confirm: {action.rstrip('…')} {len(ids)} {items}", key="bulk_confirm", type="primary"):
        return
    del st.session_state[PENDING]

    def run(session: object, who: Staff) -> object:
        result = bulk(ids, BULK_ACTIONS[action], actor=who, session=session, **kwargs)  # type: ignore[arg-type]
        report_bulk(action, len(result.done), result.failed)
        return result

    act(ctx, "queue.bulk", run)


def report_bulk(action: str, done: int, failed: dict[int, str]) -> None:
    """Say how many items the bulk action changed and why any others were refused."""
    from dashboard.context import flash

    flash("success", f"{md(action)}: done for {done} item(s)")
    if failed:
        flash("error", "Refused: " + md("; ".join(f"#{i}: {reason}" for i, reason in failed.items())))
