"""Customers from the brand's own records, their known handles and orders, and identity links."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from dangol.errors import ConfigError
from dangol.types import utcnow
from storage.models import Customer, CustomerHandle, CustomerOrder, IdentityLink

HANDLE_COLUMNS = {
    "x_handle": "x",
    "reddit_handle": "reddit",
    "mastodon_handle": "mastodon",
    "bluesky_handle": "bluesky",
    "naver_id": "naver",
}
REQUIRED_COLUMNS = ("external_ref", "name")
TIERS = ("standard", "gold", "vip")


def normalize_handle(handle: str) -> str:
    """Handles compare case-insensitively and without the leading @."""
    return handle.strip().lstrip("@").lower()


@dataclass(slots=True)
class ImportResult:
    created: int = 0
    updated: int = 0
    problems: list[str] = field(default_factory=list)


# A customer export of a few hundred thousand rows is tens of MB; anything far larger is a mistake.
MAX_IMPORT_BYTES = 200 * 10**6


def import_customers_csv(path: Path, *, session: Session) -> ImportResult:
    """Create or update customers from a CSV (keyed by external_ref); bad rows are reported, not fatal.

    Columns: external_ref, name (required); email, phone, tier (standard|gold|vip), x_handle,
    reddit_handle, mastodon_handle, bluesky_handle, naver_id, order_numbers (';'-separated).
    """
    result = ImportResult()
    try:
        size = path.stat().st_size
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read customers file {path}: {exc.strerror}") from exc
    if size > MAX_IMPORT_BYTES:
        handle.close()
        raise ConfigError(
            f"{path} is {size / 1e6:.0f} MB; the import reads at most {MAX_IMPORT_BYTES // 10**6} MB at once: split it"
        )
    try:
        with handle:
            return _import_rows(path, handle, session=session, result=result)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f'{path} is not UTF-8 text (byte {exc.start}): save it as "CSV UTF-8" (Excel) or convert it, '
            "e.g. iconv -f cp949 -t utf-8"
        ) from None


def _import_rows(path: Path, handle: Any, *, session: Session, result: ImportResult) -> ImportResult:
    reader = csv.DictReader(handle)
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
    for line, row in enumerate(reader, start=2):
        problem = _import_row(row, session=session, result=result)
        if problem:
            result.problems.append(f"{path}:{line}: {problem}")
    return result


def _import_row(row: dict[str, str], *, session: Session, result: ImportResult) -> str | None:
    ref, name = (row.get("external_ref") or "").strip(), (row.get("name") or "").strip()
    if not ref or not name:
        return "external_ref and name are required"
    tier = (row.get("tier") or "standard").strip().lower()
    if tier not in TIERS:
        return f"unknown tier {tier!r}; valid: {', '.join(TIERS)}"
    customer = session.exec(select(Customer).where(Customer.external_ref == ref)).first()
    if customer is None:
        customer = Customer(external_ref=ref, name=name, created_at=utcnow())
        result.created += 1
    else:
        result.updated += 1
    customer.name = name
    customer.email = (row.get("email") or "").strip().lower() or None
    customer.phone = (row.get("phone") or "").strip() or None
    customer.tier = tier
    session.add(customer)
    session.flush()
    assert customer.id is not None  # flushed: the database gave it one
    for column, platform in HANDLE_COLUMNS.items():
        value = normalize_handle(row.get(column) or "")
        if value:
            _ensure_handle(session, customer.id, platform, value)
    for order in (row.get("order_numbers") or "").split(";"):
        order = order.strip().upper()
        if order and not session.exec(select(CustomerOrder).where(CustomerOrder.order_number == order)).first():
            session.add(CustomerOrder(customer_id=customer.id, order_number=order))
    return None


def _ensure_handle(session: Session, customer_id: int, platform: str, handle: str) -> None:
    existing = session.exec(
        select(CustomerHandle).where(CustomerHandle.platform == platform, CustomerHandle.handle == handle)
    ).first()
    if existing is None:
        session.add(CustomerHandle(customer_id=customer_id, platform=platform, handle=handle))
    else:
        existing.customer_id = customer_id


@dataclass(slots=True)
class CustomerRecord:
    """A customer with handles and orders, as the linker needs it."""

    customer: Customer
    handles: dict[str, list[str]]
    orders: list[str]


def customer_records(*, session: Session) -> list[CustomerRecord]:
    """Every customer not erased, with known handles and order numbers (three queries in all)."""
    customers = {c.id: c for c in session.exec(select(Customer).where(Customer.erased_at.is_(None)))}  # type: ignore[union-attr]
    handles: dict[int, dict[str, list[str]]] = {}
    for h in session.exec(select(CustomerHandle)):
        handles.setdefault(h.customer_id, {}).setdefault(h.platform, []).append(h.handle)
    orders: dict[int, list[str]] = {}
    for o in session.exec(select(CustomerOrder)):
        orders.setdefault(o.customer_id, []).append(o.order_number)
    return [
        CustomerRecord(customer=c, handles=handles.get(cid, {}), orders=orders.get(cid, []))
        for cid, c in customers.items()
        if cid is not None
    ]


def linked_authors(author_ids: list[int], *, session: Session) -> dict[int, list[IdentityLink]]:
    """Existing links (any status) of these authors, so a decided link is never proposed again."""
    links: dict[int, list[IdentityLink]] = {}
    if author_ids:
        for link in session.exec(select(IdentityLink).where(IdentityLink.author_id.in_(author_ids))):  # type: ignore[attr-defined]
            links.setdefault(link.author_id, []).append(link)
    return links


def applied_customer_ids(author_ids: list[int], *, session: Session) -> dict[int, int]:
    """author id → customer id for links that are applied."""
    rows = session.exec(
        select(IdentityLink.author_id, IdentityLink.customer_id).where(
            IdentityLink.author_id.in_(author_ids),  # type: ignore[attr-defined]
            IdentityLink.status == "applied",
        )
    )
    return dict(rows.all())
