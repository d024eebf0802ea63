"""The routing-rules table, read in rule order (responder.routing edits it and audits each edit)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from storage.models import RoutingRule


def rules_in_order(*, session: Session) -> list[RoutingRule]:
    """Every stored rule by position (ties, which edits never make, by id)."""
    return list(session.exec(select(RoutingRule).order_by(col(RoutingRule.position), col(RoutingRule.id))))


def has_rules(*, session: Session) -> bool:
    """True once any rule is stored (config.toml's rules are then no longer in force)."""
    return session.exec(select(RoutingRule).limit(1)).first() is not None


def rules_after(*, session: Session, position: int) -> list[RoutingRule]:
    """The rules placed after `position`."""
    return list(session.exec(select(RoutingRule).where(col(RoutingRule.position) > position)))
