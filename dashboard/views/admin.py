"""Admin page: staff (create, role, team, unlock), teams, routing rules, topics."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from dangol.core.permissions import ACTIONS, PERMISSIONS, ROLES, allowed
from dangol.core.types import utcnow
from dashboard.context import Ctx, act, read
from dashboard.safe import md
from dashboard.times import utc_minute
from responder.topic_admin import TopicForm
from storage.models import Staff
from storage.topics import TopicEntry


def render(ctx: Ctx, actor: Staff) -> None:
    """Each section shows only when the role has its admin action; every change re-checks it."""
    st.header("Admin")
    if allowed(actor, "admin.staff"):
        _staff(ctx)
    if allowed(actor, "admin.teams"):
        _teams(ctx)
    if allowed(actor, "admin.rules"):
        _rules(ctx)
    if allowed(actor, "admin.topics"):
        _topics(ctx)
    with st.expander("What each role may do"):
        st.dataframe(
            pd.DataFrame(
                [{"action": a, "meaning": m, **{r: a in PERMISSIONS[r] for r in ROLES}} for a, m in ACTIONS.items()]
            ),
            hide_index=True,
        )


def _who_is_on(people: list[Staff], seen: dict[int, Any]) -> None:
    """Who is available, who is away, and when each was last seen (a dashboard login used, else
    their last login): the people auto-assignment can give work to are the available ones."""
    active = [p for p in people if p.active]
    on = [p.username for p in active if p.available and p.last_login_at is not None]
    st.caption(f"On now: {md(', '.join(on) or 'nobody')} · away: {sum(not p.available for p in active)}")
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "username": p.username,
                    "availability": "away"
                    if not p.available
                    else ("available" if p.last_login_at is not None else "never logged in"),
                    "since": utc_minute(p.available_since),
                    "last seen": utc_minute(
                        max((t for t in (seen.get(p.id or 0), p.last_login_at) if t is not None), default=None)
                    ),
                }
                for p in active
            ]
        ),
        hide_index=True,
        key="who_is_on",
    )


def _staff(ctx: Ctx) -> None:
    from responder.accounts.staff import list_staff, list_teams
    from storage.dashboard_sessions import last_seen

    st.subheader("Staff")
    teams = read(ctx, lambda s: {t.id: t.key for t in list_teams(session=s)})
    people = read(ctx, lambda s: list_staff(session=s))
    seen = read(ctx, lambda s: last_seen(session=s))
    _who_is_on(people, seen)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": p.id,
                    "username": p.username,
                    "role": p.role,
                    "team": teams.get(p.team_id, ""),
                    "languages": ",".join(p.languages),
                    "active": p.active,
                    "last login": utc_minute(p.last_login_at),
                }
                for p in people
            ]
        ),
        hide_index=True,
    )
    with st.form("staff_add", clear_on_submit=True):
        st.caption("Add a staff member")
        cols = st.columns(4)
        username = cols[0].text_input("Username")
        role = cols[1].selectbox("Role", ROLES)
        team = cols[2].text_input("Team key")
        languages = cols[3].text_input("Languages (en,ko)")
        password = st.text_input("Initial password", type="password")
        if st.form_submit_button("Add staff member"):
            from responder.accounts.staff import create_staff

            act(
                ctx,
                "admin.staff",
                lambda s, a: create_staff(
                    session=s,
                    username=username,
                    password=password,
                    role=role,
                    team=team.strip() or None,
                    languages=languages.split(","),
                    actor=a.username,
                ),
                f"Added {md(username)}",
            )
    names = {p.id: p.username for p in people}
    with st.form("staff_change"):
        st.caption("Change a staff member")
        cols = st.columns(4)
        who = cols[0].selectbox("Staff member", list(names), format_func=lambda i: names[i])
        role = cols[1].selectbox("New role", ["(keep)", *ROLES])
        active = cols[2].selectbox("Active", ["(keep)", "yes", "no"])
        unlock_now = cols[3].checkbox("Unlock account")
        if st.form_submit_button("Apply change") and who is not None:
            _change(ctx, int(who), role, active, unlock_now)
    _login_blocks(ctx)


def _login_blocks(ctx: Ctx) -> None:
    """Usernames and client addresses with failed logins in the last day, and any block running."""
    from responder.accounts.staff import lift_block
    from storage import login_throttles as throttles

    st.subheader("Failed logins and blocks")
    rows = read(ctx, lambda s: throttles.current(s))
    if not rows:
        st.caption("No failed logins in the last day.")
        return
    now = utcnow()
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "who": r.key,
                    "failures since the last block": r.failures,
                    "blocks in a row": r.blocks,
                    "blocked until": utc_minute(r.blocked_until if r.blocked_until and r.blocked_until > now else None),
                    "last failure": utc_minute(r.last_failure_at),
                }
                for r in rows
            ]
        ),
        hide_index=True,
    )
    with st.form("login_unblock"):
        key = st.selectbox("Lift the block of", [r.key for r in rows])
        if st.form_submit_button("Lift block") and key:
            act(ctx, "admin.staff", lambda s, a: lift_block(session=s, actor=a, key=key), f"Lifted {md(key)}")


def _change(ctx: Ctx, staff_id: int, role: str, active: str, unlock_now: bool) -> None:
    from responder.accounts.staff import unlock, update_staff

    def run(session: Any, who: Staff) -> None:
        update_staff(
            session=session,
            actor=who,
            staff_id=staff_id,
            role=None if role == "(keep)" else role,
            active=None if active == "(keep)" else active == "yes",
        )
        if unlock_now:
            unlock(session=session, actor=who, staff_id=staff_id)

    act(ctx, "admin.staff", run, "Staff member updated")


def _teams(ctx: Ctx) -> None:
    from responder.accounts.staff import list_teams, save_team

    st.subheader("Teams")
    teams = read(ctx, lambda s: list_teams(session=s))
    st.dataframe(pd.DataFrame([{"key": t.key, "name": t.name} for t in teams]), hide_index=True)
    with st.form("team_add", clear_on_submit=True):
        cols = st.columns(2)
        key = cols[0].text_input("Team key")
        name = cols[1].text_input("Team name")
        if st.form_submit_button("Add team"):
            act(
                ctx,
                "admin.teams",
                lambda s, a: save_team(session=s, actor=a, key=key, name=name.strip() or None),
                f"Team {md(key)} saved",
            )


def _rules(ctx: Ctx) -> None:
    from responder.routing import add_rule, delete_rule, list_rules, seed_from_config, update_rule

    st.subheader("Routing rules")
    rules = read(ctx, lambda s: list_rules(session=s, responder=ctx.settings.responder))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "id": r.id or "config",
                    "name": r.name,
                    "when": json.dumps(r.when, ensure_ascii=False),
                    "then": json.dumps(r.then, ensure_ascii=False),
                    "enabled": r.enabled,
                }
                for r in rules
            ]
        ),
        hide_index=True,
    )
    if rules and all(r.id is None for r in rules):
        st.caption("These rules come from config.toml; copy them into the database to edit them here.")
        if st.button("Copy config rules for editing", key="seed_rules"):
            act(
                ctx,
                "admin.rules",
                lambda s, a: seed_from_config(actor=a, session=s, responder=ctx.settings.responder),
                "Rules copied",
            )
        return
    with st.form("rule_add", clear_on_submit=True):
        st.caption('Add a rule: conditions and actions as JSON, e.g. {"topic": "billing"} → {"team": "billing"}')
        name = st.text_input("Rule name")
        when = st.text_input("When (JSON)", value="{}")
        then = st.text_input("Then (JSON)", value="{}")
        if st.form_submit_button("Add rule"):
            act(
                ctx,
                "admin.rules",
                lambda s, a: add_rule(
                    name, _json(when), _json(then), actor=a, session=s, segments=list(ctx.settings.segments)
                ),
                "Rule added",
            )
    ids = {r.id: r.name for r in rules if r.id is not None}
    if ids:
        with st.form("rule_change"):
            rule_id = st.selectbox("Rule", list(ids), format_func=lambda i: f"#{i} {ids[i]}")
            cols = st.columns(3)
            enable = cols[0].form_submit_button("Enable")
            disable = cols[1].form_submit_button("Disable")
            remove = cols[2].form_submit_button("Delete")
        if (enable or disable) and rule_id is not None:
            act(
                ctx,
                "admin.rules",
                lambda s, a: update_rule(int(rule_id), actor=a, session=s, enabled=enable),
                "Rule updated",
            )
        if remove and rule_id is not None:
            act(ctx, "admin.rules", lambda s, a: delete_rule(int(rule_id), actor=a, session=s), "Rule deleted")


def _json(text: str) -> dict[str, Any]:
    from dangol.core.errors import ConfigError

    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise ConfigError(f'not valid JSON: {exc.msg}; write an object such as {{"topic": "billing"}}') from exc
    if not isinstance(value, dict):
        raise ConfigError('conditions and actions must be JSON objects, such as {"team": "billing"}')
    return value


def _topics(ctx: Ctx) -> None:
    from responder.topic_admin import known_teams
    from storage.topics import list_topics

    st.subheader("Complaint topics")
    st.caption(
        "Topics start from config.toml; what you add or change here is stored in the database and wins over "
        "the file. The worker uses it from its next batch, no restart. Retire a topic by disabling it: "
        "posts already filed under it keep it."
    )
    entries = read(ctx, lambda s: list_topics(session=s, catalog=ctx.settings.topic_catalog))
    teams = read(ctx, lambda s: known_teams(session=s, catalog=ctx.settings.topic_catalog))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "key": e.key,
                    "name": e.topic.name,
                    "team": e.topic.team,
                    "languages": ",".join(e.topic.languages) or "all",
                    "examples": len(e.topic.examples),
                    "source": e.source,
                    "enabled": e.enabled,
                    "updated by": e.updated_by,
                }
                for e in entries
            ]
        ),
        hide_index=True,
    )
    with st.form("topic_add"):
        st.caption("Add a topic")
        key = st.text_input("Key (lowercase, e.g. parking)", key="topic_add_key")
        fields = _topic_fields("topic_add", None, teams)
        if st.form_submit_button("Add topic"):
            _save_topic(ctx, key, fields, new=True)
    if entries:
        _edit_topic(ctx, entries, teams)


def _edit_topic(ctx: Ctx, entries: list[TopicEntry], teams: list[str]) -> None:
    by_key = {e.key: e for e in entries}
    picked = st.selectbox(
        "Topic to edit", list(by_key), format_func=lambda k: f"{k}: {by_key[k].topic.name}", key="admin_topic_pick"
    )
    entry = by_key[picked or entries[0].key]
    # The form's name carries the key, so its fields start from the picked topic's values.
    with st.form(f"topic_edit_{entry.key}"):
        fields = _topic_fields(f"topic_edit_{entry.key}", entry, teams)
        cols = st.columns(2)
        save = cols[0].form_submit_button("Save topic")
        toggle = cols[1].form_submit_button("Enable topic" if not entry.enabled else "Disable topic")
    if save:
        _save_topic(ctx, entry.key, fields, new=False)
    if toggle:
        from responder.topic_admin import set_topic_enabled

        act(
            ctx,
            "admin.topics",
            lambda s, a: set_topic_enabled(
                session=s, catalog=ctx.settings.topic_catalog, actor=a, key=entry.key, enabled=not entry.enabled
            ),
            f"Topic {md(entry.key)} {'enabled' if not entry.enabled else 'disabled'}",
        )


def _topic_fields(prefix: str, entry: TopicEntry | None, teams: list[str]) -> TopicForm:
    """The form fields shared by adding and editing (an edit starts from the topic's values)."""
    topic = entry.topic if entry is not None else None
    team = topic.team if topic is not None else "support"
    cols = st.columns(2)
    name = cols[0].text_input("Name", value=topic.name if topic else "", key=f"{prefix}_name")
    team = cols[1].selectbox("Team", teams, index=teams.index(team) if team in teams else 0, key=f"{prefix}_team")
    description = st.text_input("Description", value=topic.description if topic else "", key=f"{prefix}_description")
    examples = st.text_area(
        "Examples, one per line", value="\n".join(topic.examples) if topic else "", key=f"{prefix}_examples"
    )
    languages = ",".join(topic.languages) if topic else ""
    languages = st.text_input("Languages (e.g. en,ko; empty: all)", value=languages, key=f"{prefix}_languages")
    return TopicForm(name, description, examples.splitlines(), team or "", languages.split(","))


def _save_topic(ctx: Ctx, key: str, form: TopicForm, *, new: bool) -> None:
    from responder.topic_admin import add_topic, edit_topic

    save = add_topic if new else edit_topic
    act(
        ctx,
        "admin.topics",
        lambda s, a: save(session=s, catalog=ctx.settings.topic_catalog, actor=a, key=key, form=form),
        f"Topic {md(key.strip())} {'added' if new else 'saved'}",
    )
