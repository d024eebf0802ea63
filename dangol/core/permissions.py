"""Roles and what each may do: one explicit table, checked server-side on every action.

The dashboard hides controls a role cannot use, but hiding is only a courtesy: every function
that changes something calls `require(actor, action)` first, with the staff row freshly loaded,
so a role changed mid-session takes effect on the next click.
"""

from __future__ import annotations

from typing import Protocol

from dangol.core.errors import ActionError, Forbidden

ROLES = ("agent", "lead", "pr_reviewer", "product", "admin")

# Every action the product knows, with what it lets a person do (shown on the Admin page).
ACTIONS: dict[str, str] = {
    "queue.view": "see the queue and its items",
    "queue.claim": "claim, release and assign queue items",
    "queue.reassign": "take an item from the colleague who holds it and give it to someone else",
    "queue.reply": "draft and send replies, or send them for approval",
    "queue.bulk": "bulk assign, tag or close many items at once",
    "queue.close": "close items (resolved or spam)",
    "queue.note": "write internal notes",
    "queue.label": "correct sentiment and topic labels",
    "reply.review": "approve, edit or reject replies waiting for approval",
    "customer.view": "search customers and read their history",
    "customer.link": "confirm or reject proposed identity links",
    "customer.merge": "merge customers and undo merges",
    "customer.export": "export a customer's data (privacy request)",
    "customer.erase": "erase a customer's data (privacy request)",
    "customer.import": "create or update customers from the brand's CRM (the API's upsert by external id)",
    "segment.export": "export a segment's members (public handles and scores) as CSV",
    "topic.view": "see complaint topics, trends and representative posts",
    "topic.export": "export a topic's posts as CSV",
    "report.view": "read and download the weekly report",
    "team.performance": "see every team's and every agent's performance figures (the weekly report has teams only)",
    "alert.view": "see spike alerts",
    "source.view": "see source health, budgets and dead letters",
    "admin.staff": "create staff, change roles, unlock accounts",
    "admin.teams": "create and rename teams",
    "admin.rules": "edit routing rules",
    "admin.topics": "view and edit complaint topics",
    "api.token": "create and revoke your own personal API tokens (an admin revokes anyone's with admin.staff)",
    "notifications.self": "read your inbox, mark it read, set your own notification channels and quiet hours",
    "availability.self": "set yourself available or away (away staff are not auto-assigned)",
}

# Every role may hold API tokens: a token acts with its owner's role, so it reaches no further.
# Everyone has an inbox and says whether they are available.
_READ = {"report.view", "alert.view", "topic.view", "api.token", "notifications.self", "availability.self"}
_AGENT = _READ | {
    "queue.view",
    "queue.claim",
    "queue.reply",
    "queue.bulk",
    "queue.close",
    "queue.note",
    "queue.label",
    "customer.view",
    "customer.link",
}
PERMISSIONS: dict[str, frozenset[str]] = {
    "agent": frozenset(_AGENT),
    # A team lead works the queue like an agent, moves work between people, reviews the team's
    # replies and sees each agent's figures; staff, rules and privacy requests stay with admins.
    "lead": frozenset(_AGENT | {"queue.reassign", "reply.review", "team.performance", "source.view"}),
    # PR reviewers read the queue to judge a reply in context, but answer only through review.
    "pr_reviewer": frozenset(_READ | {"queue.view", "queue.note", "reply.review", "customer.view"}),
    # Product teams read complaints by topic; they never act on the queue or on customers.
    "product": frozenset(_READ | {"topic.export", "queue.view"}),
    # Admins hold every action. An agent never sees a colleague's figures (team.performance).
    "admin": frozenset(ACTIONS),
}


class Actor(Protocol):
    """What a permission check needs of a staff member (the Staff table row has it)."""

    username: str
    role: str
    active: bool


def allowed(actor: Actor, action: str) -> bool:
    """True when `actor` is active and its role grants `action`."""
    return actor.active and action in PERMISSIONS.get(actor.role, frozenset())


def require(actor: Actor, action: str) -> None:
    """Raise Forbidden unless `actor`'s role allows `action` (an unknown action is refused too)."""
    if action not in ACTIONS:
        raise Forbidden(f"unknown action {action!r}; known actions: {', '.join(sorted(ACTIONS))}")
    if not actor.active:
        raise Forbidden(f"account {actor.username!r} is deactivated")
    if not allowed(actor, action):
        holders = [role for role in ROLES if action in PERMISSIONS[role]]
        raise Forbidden(
            f"role {actor.role!r} may not {ACTIONS[action]} ({action}); roles allowed: {', '.join(holders)}"
        )


def validate_role(role: str) -> str:
    """`role` if it is one of ROLES; otherwise ActionError naming the valid roles."""
    if role not in ROLES:
        raise ActionError(f"unknown role {role!r}; valid roles: {', '.join(ROLES)}")
    return role
