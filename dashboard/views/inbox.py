"""Inbox page: your notifications newest first, with links to what they are about; mark read;
your availability; where your notifications go and your quiet hours. Everything here is about the
logged-in person only, and every change goes through an audited responder action."""

from __future__ import annotations

import streamlit as st

from dangol.core.links import item_url, scope_url
from dangol.core.notifications import CHANNELS, KINDS
from dashboard.context import Ctx, act, live_actor, read
from dashboard.live import live
from dashboard.navigation import open_item, open_paths, scope_button
from dashboard.safe import md
from dashboard.times import utc_minute
from storage.alerts import alert_scopes
from storage.models import Notification, Staff
from storage.notifications import inbox, unread_count

SHOWN = 100  # the newest notifications listed; older ones stay in the table


def unread(ctx: Ctx, actor: Staff) -> int:
    """The actor's unread count (the navigation's title shows it)."""
    return read(ctx, lambda s: unread_count(session=s, staff_id=actor.id or 0))


def watch_unread(ctx: Ctx, actor: Staff) -> None:
    """Run the whole app again when the unread count changes, so the menu's "Inbox (N)" follows a
    notification that arrives while the person stays on one page (a fragment on the refresh timer;
    the menu itself is drawn only on a full run)."""
    shown = unread(ctx, actor)

    def check() -> None:
        fresh = live_actor(ctx, actor)
        if unread(ctx, fresh) != shown:
            st.rerun(scope="app")

    live(ctx, check)()


def render(ctx: Ctx, actor: Staff) -> None:
    from responder.accounts.preferences import mark_read

    count = unread(ctx, actor)
    st.header(f"Inbox · {count} unread" if count else "Inbox")
    _availability(ctx, actor)
    rows = read(ctx, lambda s: inbox(session=s, staff_id=actor.id or 0, limit=SHOWN))
    if count and st.button("Mark all read", key="inbox_all_read"):
        act(ctx, "notifications.self", lambda s, a: mark_read(session=s, actor=a), "Marked all read.")
    if not rows:
        st.info("No notifications yet.")
    scopes = read(ctx, lambda s: alert_scopes(session=s, ids=[n.alert_id for n in rows if n.alert_id is not None]))
    paths = open_paths(actor)
    for note in rows:
        _row(ctx, note, scopes, paths)
    _preferences(ctx, actor)


def _row(ctx: Ctx, note: Notification, scopes: dict[int, str], paths: set[str]) -> None:
    """One notification; `scopes` are its alert's (by alert id), `paths` the pages the reader may open."""
    from responder.accounts.preferences import mark_read

    base = ctx.settings.dashboard.base_url
    when = utc_minute(note.created_at) if note.created_at else ""
    state = "🔵 " if note.read_at is None else ""
    cols = st.columns([6, 1, 1])
    cols[0].markdown(f"{state}**{md(KINDS.get(note.kind, note.kind))}** · {md(when)}  \n{md(note.text)}")
    if note.item_id is not None:
        # A button opens the item in this session; the link is the same address e-mails carry.
        cols[1].button(f"Open #{note.item_id}", key=f"inbox_open_{note.id}", on_click=open_item, args=(note.item_id,))
        cols[0].caption(item_url(base, note.item_id))
    elif note.alert_id is not None and (scope := scopes.get(note.alert_id)) is not None:
        # The page the alert is about, as its e-mail links it (a topic's page, else Sources).
        cols[0].caption(scope_url(base, scope))
        scope_button(cols[1], scope, paths, key=f"inbox_scope_{note.id}", verb="Open")
    if note.read_at is None and cols[2].button("Mark read", key=f"inbox_read_{note.id}"):
        act(ctx, "notifications.self", lambda s, a: mark_read(session=s, actor=a, ids=[note.id or 0]))


def _availability(ctx: Ctx, actor: Staff) -> None:
    from responder.accounts.preferences import set_availability

    since = utc_minute(actor.available_since) if actor.available_since else None
    state = "available" if actor.available else "away"
    st.caption(f"You are {state}" + (f" since {md(since)}" if since else "") + ".")
    label = "Set me away" if actor.available else "Set me available"
    if st.button(label, key="availability"):
        act(
            ctx,
            "availability.self",
            lambda s, a: set_availability(session=s, actor=a, available=not actor.available),
            f"You are now {'away' if actor.available else 'available'}.",
        )


def _preferences(ctx: Ctx, actor: Staff) -> None:
    from responder.accounts.preferences import set_preferences

    with st.expander("Where my notifications go"), st.form("notify_prefs"):
        st.caption("Every notification is in this inbox. E-mail and webhook get the kinds chosen for each.")
        email = st.text_input("E-mail address", value=actor.email or "", key="pref_email")
        webhook = st.text_input("Personal webhook URL", value=actor.webhook_url or "", key="pref_webhook")
        chosen = actor.notify_channels or {}
        kinds = {
            channel: st.multiselect(
                f"Kinds sent by {channel}",
                list(KINDS),
                default=list(chosen.get(channel, list(KINDS))),  # type: ignore[call-overload]
                format_func=lambda k: KINDS[k],
                key=f"pref_kinds_{channel}",
            )
            for channel in CHANNELS
        }
        cols = st.columns(3)
        quiet_start = cols[0].text_input("Quiet hours from (HH:MM)", value=actor.quiet_start or "", key="pref_qs")
        quiet_end = cols[1].text_input("until (HH:MM)", value=actor.quiet_end or "", key="pref_qe")
        timezone = cols[2].text_input(
            f"Time zone (blank: {ctx.settings.brand.timezone})", value=actor.timezone or "", key="pref_tz"
        )
        if st.form_submit_button("Save my notification settings"):
            act(
                ctx,
                "notifications.self",
                lambda s, a: set_preferences(
                    session=s,
                    actor=a,
                    email=email,
                    webhook_url=webhook,
                    channels=kinds,
                    quiet_start=quiet_start,
                    quiet_end=quiet_end,
                    timezone=timezone,
                ),  # fmt: skip
                "Notification settings saved.",
            )
