"""Item page: the post and its author, the customer's history, the analysis explained, label
correction, suggested replies to pick and edit, send or send for approval, internal notes."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dangol.core.errors import NotFound
from dangol.core.permissions import allowed
from dangol.core.statuses import ItemStatus, ReplyStatus
from dangol.core.types import MAX_ROW_ID, SENTIMENTS, utcnow, web_link
from dashboard.context import Ctx, act, live_actor, read
from dashboard.live import live
from dashboard.reply_outcome import report_reply, sent_or_kept
from dashboard.safe import author_md, md, short
from dashboard.times import utc_minute
from dashboard.views.queue import countdown
from dashboard.views.scores import render_scores
from responder.labels import correct_labels
from responder.memory import ItemContext, item_context
from responder.statuses import TRANSITIONS
from storage.models import Staff

HISTORY_ROWS = 20
POSTED_SINCE_ROWS = 3  # the author's later posts shown with the post; the rest are in the history


def render(ctx: Ctx, actor: Staff) -> None:
    """The item page for the URL's `?id=` (a link), else st.session_state['item_id'], or the id typed in."""
    st.header("Item")
    shown_id = _url_id() or int(st.session_state.get("item_id") or 1)
    typed = st.number_input("Item id", min_value=1, max_value=MAX_ROW_ID, step=1, value=shown_id)
    item_id = int(typed)
    st.session_state["item_id"] = item_id
    st.query_params["id"] = str(item_id)  # the address bar names the item shown, ready to share
    view = read(ctx, lambda s: _context(s, item_id))
    if view is None:
        st.info(f"There is no queue item #{item_id}. Open one from the Queue page.")
        return
    _arrive(ctx, actor, item_id)
    # Status, holder, the buttons and who else is here redraw themselves (dashboard.live), so a
    # colleague's claim or close shows without a click; the page around them stays as it is.
    live(ctx, _live_summary)(ctx, actor, item_id)
    left, right = st.columns([3, 2])
    with left:
        _post(view)
        live(ctx, _live_replies)(ctx, actor, item_id)
        if allowed(actor, "queue.reply"):
            _reply(ctx, actor, view)
        _notes(ctx, actor, view)
    with right:
        _analysis(view)
        _labels(ctx, actor, view)
        if allowed(actor, "customer.view"):  # names, tiers and histories are customer data
            _customer(view)
            if view.customer is not None and view.customer.id is not None:
                render_scores(ctx, view.customer.id)


def _url_id() -> int | None:
    raw = st.query_params.get("id", "")
    # A link with an id no row can have (0, or beyond MAX_ROW_ID) opens the page without it.
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ROW_ID else None


def _context(session: Any, item_id: int) -> ItemContext | None:
    try:
        return item_context(item_id, session=session)
    except NotFound:
        return None


PRESENCE_ITEM = "presence_item"  # the item this browser session last beat on


def _arrive(ctx: Ctx, actor: Staff, item_id: int) -> None:
    """Another item was typed in: leave the one before at once (not after the stale timeout)."""
    before = st.session_state.get(PRESENCE_ITEM)
    if before is not None and before != item_id and actor.id is not None:
        from responder.presence import leave
        from storage.engine import session_scope

        with session_scope(ctx.engine) as session:
            leave(session=session, staff_id=actor.id, item_id=before)
    st.session_state[PRESENCE_ITEM] = item_id


def _typing(item_id: int) -> bool:
    """The reply box holds unsent text. Streamlit learns the box's text when the box is committed
    (focus leaves it, or Ctrl+Enter), not per keystroke: "typing" starts then and lasts while the
    text stays unsent. A sent reply's text is cleared on the run after the send (clear_reply_…)."""
    text = st.session_state.get(f"reply_text_{item_id}")
    return bool(str(text or "").strip()) and not st.session_state.get(f"clear_reply_{item_id}")


def _live_summary(ctx: Ctx, actor: Staff, item_id: int) -> None:
    """The heartbeat (this person is here, viewing or typing), then status, holder, buttons and
    who else has the item open (a fragment: dashboard.live)."""
    from responder.presence import describe, heartbeat, others_here, sweep
    from storage.engine import session_scope

    actor = live_actor(ctx, actor)
    now = utcnow()
    settings = ctx.settings.dashboard
    if actor.id is not None:
        # Two short transactions, not one: a sweep locks stale rows, a beat one row of its own;
        # together two pages' transactions could wait on each other (PostgreSQL).
        with session_scope(ctx.engine) as session:
            sweep(session=session, settings=settings, now=now)
        with session_scope(ctx.engine) as session:
            heartbeat(session=session, staff_id=actor.id, item_id=item_id, typing=_typing(item_id), now=now)

    def load(session: Any) -> tuple[Any, Staff | None, list[Any]]:
        from responder.queue import get_item

        item = get_item(item_id, session=session)
        holder = session.get(Staff, item.assignee_id) if item.assignee_id else None
        here = others_here(session=session, item_id=item_id, staff_id=actor.id or 0, settings=settings, now=now)
        return item, holder, here

    item, holder, here = read(ctx, load)
    _summary(ctx, actor, item, holder)
    if here:
        st.caption("👥 " + md(describe(here)))


def _live_replies(ctx: Ctx, actor: Staff, item_id: int) -> None:
    """The replies so far, redrawn so a colleague's sent reply shows (a fragment: dashboard.live)."""
    from storage.replies import replies_to_item

    actor = live_actor(ctx, actor)
    _replies_so_far(ctx, actor, read(ctx, lambda s: replies_to_item(item_id, session=s)))


def _summary(ctx: Ctx, actor: Staff, item: Any, holder: Staff | None) -> None:
    clock = item.running_deadline.replace("_", " ")  # "first response" until someone answers, then "resolution"
    st.markdown(
        f"**#{item.id}** · status **{md(item.status)}** · P{item.priority} · team {md(item.team)} · "
        f"⏱ {clock} {md(countdown(item.due_at, item.sla_breached, utcnow()))}"
    )
    if holder is not None and holder.id != actor.id:
        st.warning(f"🔒 Someone else is working on this: {md(holder.display_name or holder.username)}")
    elif holder is not None:
        st.caption("You are working on this item.")
    # Only the buttons the role may use: a button that is then refused teaches people to distrust them.
    can_claim, can_close = allowed(actor, "queue.claim"), allowed(actor, "queue.close")
    # A row that wraps: each button as wide as its label and shortcut hint, at any window width.
    bar = st.container(horizontal=True, wrap=True)
    if can_claim and holder is None and bar.button("Claim", key="claim", shortcut="Alt+A"):
        from responder.assignment import claim

        act(ctx, "queue.claim", lambda s, a: claim(item.id, actor=a, session=s), "Claimed")  # type: ignore[arg-type]
    if can_claim and holder is not None and holder.id == actor.id and bar.button("Release", key="release"):
        from responder.assignment import release

        act(ctx, "queue.claim", lambda s, a: release(item.id, actor=a, session=s), "Released")  # type: ignore[arg-type]
    # Only the moves its status allows: "Close" on a closed item would only be refused.
    moves = TRANSITIONS.get(item.status, frozenset())
    can_close_it, can_spam_it = can_close and ItemStatus.CLOSED in moves, can_close and ItemStatus.SPAM in moves
    if can_close_it and bar.button("Close", key="close_item", shortcut="Alt+X"):
        from responder.queue import close

        act(ctx, "queue.close", lambda s, a: close(item.id, actor=a, session=s), "Closed")  # type: ignore[arg-type]
    if can_spam_it and bar.button("Close as spam", key="spam_item"):
        from responder.queue import mark_spam

        act(ctx, "queue.close", lambda s, a: mark_spam(item.id, actor=a, session=s), "Marked as spam")  # type: ignore[arg-type]
    if bar.button(
        "Next item",
        key="next_item",
        shortcut="Alt+N",
        help="Your most urgent open item, else the most urgent unassigned one you can answer (your team first)",
    ):
        _open_next(ctx, actor, item.id)  # type: ignore[arg-type]
    with bar.popover("Shortcuts"):
        st.markdown(SHORTCUTS_HELP)
    if not (can_claim or can_close):
        st.info(f"Queue actions are not part of your role ({md(actor.role)}): you can read this item only.")


SHORTCUTS_HELP = """\
| keys | what |
|---|---|
| Alt+N | next item (yours first, then unassigned ones you can answer) |
| Alt+A | claim this item |
| Ctrl+Enter (⌘+Enter) | send the reply |
| Alt+X | close this item |
"""


def _open_next(ctx: Ctx, actor: Staff, current: int) -> None:
    """Open the item the actor should work on next (responder.queue.next_item_for)."""
    from dashboard.navigation import open_item
    from responder.queue import next_item_for

    def pick(session: Any) -> int | None:
        return next_item_for(actor, session=session, current=current)

    next_id = read(ctx, pick)
    if next_id is None:
        st.info("No other open item is yours or unassigned.")
        return
    open_item(next_id)
    st.rerun()


def _post(view: ItemContext) -> None:
    post, author = view.post, view.author
    st.subheader("Post")
    followers = f" · {author.followers:,} followers" if author.followers is not None else ""
    st.markdown(f"{md(post.platform)} · {author_md(author.handle, author.display_name)}{followers}")
    if post.created_at:
        st.caption(f"posted {utc_minute(post.created_at)}")
    if post.title:
        st.text(post.title)
    st.text(post.text)
    url = web_link(post.url)
    if url:
        st.link_button("Open the original post ↗", url)
    _posted_since(view)
    if author.bio:
        with st.expander("Author bio"):
            st.text(author.bio)


def _posted_since(view: ItemContext) -> None:
    later = view.posted_since
    if not later:
        return
    with st.container(border=True):
        st.markdown(f"**They posted again since** ({len(later)}, oldest first)")
        for p in later[:POSTED_SINCE_ROWS]:
            st.caption(f"{utc_minute(p.created_at)} · {md(p.sentiment or 'not analyzed yet')}")
            st.text(short(p.text, 400))
        if len(later) > POSTED_SINCE_ROWS:
            st.caption(f"and {len(later) - POSTED_SINCE_ROWS} more: see the customer's history")


def _analysis(view: ItemContext) -> None:
    st.subheader("Why it is here")
    analysis = view.analysis
    if analysis is None:
        st.info("Not analyzed yet.")
        return
    st.markdown(
        f"intent **{md(analysis.intent)}** · sentiment **{md(analysis.sentiment)}** · "
        f"topic **{md(analysis.primary_topic)}** · language {md(analysis.language)} · risk **{analysis.risk:.2f}**"
    )
    # Staff corrections are the labels in force (reports, feeds and retraining read them): every
    # role sees them here, with who made them.
    for fb in view.feedback:
        who = view.note_authors.get(fb.staff_id or 0, "a former staff member")
        when = f" on {fb.created_at:%Y-%m-%d}" if fb.created_at else ""
        st.caption(f"✎ {md(fb.kind)} corrected to **{md(fb.new_value)}** (was {md(fb.old_value)}) by {md(who)}{when}")
    if analysis.sentiment_probs:
        probs = pd.DataFrame({"probability": analysis.sentiment_probs}).rename_axis("sentiment")
        st.bar_chart(probs, horizontal=True, height=140)
    if analysis.topics:
        scores = pd.DataFrame({"score": analysis.topics}).rename_axis("topic").sort_values("score")
        st.bar_chart(scores, horizontal=True, height=40 + 24 * len(scores))
    if analysis.risk_breakdown:
        st.caption(
            "Risk breakdown: risk is the product of the multipliers (negativity × reach × customer value × "
            "urgency); each runs from its floor, at value 0, to 1"
        )
        st.dataframe(risk_table(analysis.risk_breakdown), hide_index=True)
    cluster = (view.item.routing or {}).get("cluster")
    if view.item.cluster_size > 1 and isinstance(cluster, dict):
        audience = int((cluster.get("reach") or {}).get("audience") or 0)
        st.caption(
            f"The cluster's {view.item.cluster_size} posts reach about {audience:,} people together: "
            f"cluster risk **{view.item.cluster_risk:.2f}**"
        )


def risk_table(breakdown: dict[str, Any]) -> pd.DataFrame:
    """One row per risk factor: value, floor, multiplier and what the value came from."""
    rows = []
    for factor, parts in breakdown.items():
        parts = parts if isinstance(parts, dict) else {"value": parts}
        evidence = {k: v for k, v in parts.items() if k not in ("value", "floor", "multiplier")}
        rows.append(
            {
                "factor": factor.replace("_", " "),
                "value": _two_places(parts.get("value")),
                "floor": _two_places(parts.get("floor")),
                "multiplier": _two_places(parts.get("multiplier")),
                "from": ", ".join(f"{k}: {_evidence(v)}" for k, v in evidence.items()),
            }
        )
    return pd.DataFrame(rows)


def _two_places(value: Any) -> Any:
    # Two decimals leave the narrow column room for the evidence ("followers: 137, …").
    return round(value, 2) if isinstance(value, float) else value


def _evidence(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return "n/a" if value is None else str(value)


def _labels(ctx: Ctx, actor: Staff, view: ItemContext) -> None:
    if not allowed(actor, "queue.label") or view.analysis is None:
        return
    from storage.topics import topics_in_force

    # The form starts from the labels in force: the latest staff correction, else the model's.
    current = {"sentiment": view.analysis.sentiment, "topic": view.analysis.primary_topic}
    for fb in view.feedback:  # oldest first
        current[fb.kind] = fb.new_value
    topics = ["other", *read(ctx, lambda s: topics_in_force(session=s, catalog=ctx.settings.topic_catalog))]
    if current["topic"] not in topics:
        # A retired topic stays the form's starting value: otherwise saving only a sentiment
        # correction would also refile the post under the first topic offered.
        topics.append(current["topic"])
    with st.form("labels"):
        st.caption("Correct the labels (kept for retraining)")
        sentiment = st.selectbox(
            "Sentiment",
            SENTIMENTS,
            index=SENTIMENTS.index(current["sentiment"]) if current["sentiment"] in SENTIMENTS else 0,
        )
        topic = st.selectbox("Topic", topics, index=topics.index(current["topic"]))
        if st.form_submit_button("Save correction"):
            post_id = view.post.id or 0
            # Only the labels that differ from those in force are corrections.
            changed = {
                kind: value for kind, value in (("sentiment", sentiment), ("topic", topic)) if value != current[kind]
            }

            def save(session: Any, who: Staff) -> None:
                if changed:  # saved unchanged: nothing to store or audit
                    correct_labels(
                        session=session,
                        actor=who,
                        post_id=post_id,
                        sentiment=changed.get("sentiment"),
                        topic=changed.get("topic"),
                    )

            act(ctx, "queue.label", save, "Correction saved")


def _replies_so_far(ctx: Ctx, actor: Staff, replies: list[Any]) -> None:
    """The replies drafted or sent on the item, with their status and any reviewer's comment; one
    the platform did not take, with why and a button to send it again."""
    st.subheader("Reply")
    for reply in replies:
        st.caption(f"reply #{reply.id} · {md(reply.status)}" + (" · dry run" if reply.dry_run else ""))
        st.text(reply.text)
        if reply.review_comment:
            st.caption(f"reviewer: {md(reply.review_comment)}")
        if reply.status in UNSENT:
            _unsent(ctx, actor, reply)
    if not replies:
        st.caption("No reply yet.")


# A reply the platform refused, or one it never answered about ("sending" after a lost connection).
UNSENT = (ReplyStatus.FAILED, ReplyStatus.SENDING)


def _unsent(ctx: Ctx, actor: Staff, reply: Any) -> None:
    from responder.sending import in_flight

    if in_flight(reply, utcnow()):
        st.info(f"Being sent since {utc_minute(reply.attempted_at)}; the platform has not answered yet.")
        return
    st.warning(f"Not sent: {md(reply.error or 'the platform has not confirmed it')}")
    if allowed(actor, "queue.reply") and st.button(
        "Send again",
        key=f"resend_{reply.id}",
        help="Dangol first looks on the platform for this reply, so the customer never gets it twice.",
    ):
        from responder.sending import send_reply

        reply_id = reply.id

        def send(session: Any, who: Staff) -> Any:
            return sent_or_kept(
                session, lambda: send_reply(reply_id, actor=who, session=session, settings=ctx.settings)
            )

        report_reply(act(ctx, "queue.reply", send, rerun=False))


def _reply(ctx: Ctx, actor: Staff, view: ItemContext) -> None:
    key = f"reply_text_{view.item.id}"
    why_not = _why_no_reply(view.item)
    if why_not:
        # No box to write in that the send would then refuse (responder.approval.DRAFTABLE).
        st.session_state.pop(f"clear_reply_{view.item.id}", None)
        st.info(why_not)
        return
    suggestions = _suggestions(ctx, view.item.id)  # type: ignore[arg-type]
    if suggestions:
        # Whole, not cut short: the template and the short reply of one tone share their opening
        # sentences and differ at the end, so cut to a line they read as the same suggestion twice.
        labels = [f"{i + 1}. {s.text}" for i, s in enumerate(suggestions)]
        picked = st.radio(
            "Suggested replies",
            range(len(labels)),
            format_func=lambda i: md(labels[i]),
            key=f"suggestion_{view.item.id}",
        )
        if st.button("Use this suggestion", key="use_suggestion"):
            st.session_state[key] = suggestions[int(picked)].text
            st.session_state[f"reply_source_{view.item.id}"] = suggestions[int(picked)].source
            st.rerun()
        explanation = getattr(suggestions[int(picked)], "explanation", "")
        if explanation:
            st.caption(md(explanation))
    if st.session_state.pop(f"clear_reply_{view.item.id}", False):
        # Set before the box is drawn: the browser would otherwise send the sent text back.
        st.session_state[key] = ""
    text = st.text_area("Your reply", key=key, height=140)
    # Judged on the typed text too ("lawyer" in the reply needs a reviewer): the button says where
    # the reply goes before the click.
    reasons = _approval_reasons(ctx, view, text)
    if reasons:
        st.caption("Needs approval: " + md("; ".join(reasons)))
    label = "Send for approval" if reasons else ("Send" if ctx.settings.responder.send else "Send (dry-run)")
    if st.button(label, key="send_reply", type="primary", shortcut="Mod+Enter"):
        if not text.strip():
            st.warning("Write or pick a reply first.")
            return
        source = st.session_state.get(f"reply_source_{view.item.id}", "staff")
        _submit(ctx, view.item.id, text.strip(), source)  # type: ignore[arg-type]


def _why_no_reply(item: Any) -> str | None:
    """Why no reply can be written on the item as it stands, in the words the Item page shows;
    None when one can (responder.approval.DRAFTABLE)."""
    from responder.approval import DRAFTABLE

    status = item.status
    if status in DRAFTABLE:
        return None
    if status == ItemStatus.PENDING_APPROVAL:
        return (
            "A reply to this item is waiting for a PR reviewer's approval (Approvals page). If the "
            "reviewer returns it, you can write another here."
        )
    if status == ItemStatus.SNOOZED:
        until = f" until {utc_minute(item.snoozed_until)}" if item.snoozed_until else ""
        return f"This item is snoozed{until}; it comes back to the queue then."
    again = "It opens again by itself if the customer writes again in the thread."
    if status == ItemStatus.REPLIED:
        return f"This item has been answered. {again}"
    if status == ItemStatus.SPAM:
        return "This item was closed as spam."
    return f"This item is {md(status)}. {again}"


def _suggestions(ctx: Ctx, item_id: int) -> list[Any]:
    from responder.suggest import suggest

    cache = st.session_state.setdefault("suggestions", {})
    if item_id not in cache:
        cache[item_id] = read(ctx, lambda s: suggest(item_id, session=s))
    return list(cache[item_id])


def _approval_reasons(ctx: Ctx, view: ItemContext, text: str) -> list[str]:
    from responder.approval import needs_approval

    return list(needs_approval(view.item, view.post, view.author, view.analysis, ctx.settings.responder, text))


def _submit(ctx: Ctx, item_id: int, text: str, source: str) -> None:
    from responder.approval import submit_reply

    def send(session: Any, who: Staff) -> Any:
        return sent_or_kept(
            session,
            lambda: submit_reply(item_id, text, actor=who, session=session, settings=ctx.settings, source=source),
        )

    reply = act(ctx, "queue.reply", send, rerun=False)
    if reply is not None:
        st.session_state[f"clear_reply_{item_id}"] = True
    report_reply(reply)


def _notes(ctx: Ctx, actor: Staff, view: ItemContext) -> None:
    st.subheader("Internal notes")
    for note in view.notes:
        who = view.note_authors.get(note.staff_id, "system") if note.staff_id is not None else "system"
        st.caption(f"{md(who)} · {note.created_at:%Y-%m-%d %H:%M}")
        st.text(note.text)
    if not allowed(actor, "queue.note"):
        return
    with st.form("note", clear_on_submit=True):
        text = st.text_area("New note (never sent to the customer)")
        if st.form_submit_button("Add note") and text.strip():
            from responder.queue import add_note

            item_id = view.item.id
            act(ctx, "queue.note", lambda s, a: add_note(item_id, text.strip(), actor=a, session=s), "Note added")  # type: ignore[arg-type]


def _customer(view: ItemContext) -> None:
    st.subheader("Customer")
    if view.customer is None:
        st.caption("Not linked to a known customer.")
        return
    customer = view.customer
    st.markdown(f"**{md(customer.name)}** · tier {md(customer.tier)}")
    history = view.history
    timeline = pd.DataFrame(
        [
            {
                "when": utc_minute(p.created_at),
                "platform": p.platform,
                "sentiment": p.sentiment or "",
                "text": short(p.text, 100),
            }
            for p in history.posts[:HISTORY_ROWS]
        ]
    )
    if not timeline.empty:
        st.caption("History (newest first)")
        st.dataframe(timeline, hide_index=True)
    others = [i for i in history.items if i.id != view.item.id]  # this item is no history of its own
    if others:
        st.caption("Other queue items: " + ", ".join(f"#{i.id} {md(i.status)}" for i in others[:50]))
