"""The customer CSV import: a bad row is reported with its line and left out, never fatal."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from storage.customers import import_customers_csv
from storage.models import Customer


def test_a_cell_with_a_nul_character_refuses_its_row_only(session: Session, tmp_path: Path) -> None:
    # PostgreSQL refuses NUL in text: one such cell used to stop the whole import with a DataError.
    path = tmp_path / "customers.csv"
    path.write_text(
        "external_ref,name,email,order_numbers\n"
        "c1,Kim\x00 Minji,kim@example.com,A-1\n"
        "c2,Lee Jiwoo,lee@example.com,A-2\x00\n"
        "c3,Park Seoyeon,park@example.com,A-3\n",
        encoding="utf-8",
    )
    result = import_customers_csv(path, session=session)
    session.commit()
    assert result.problems == [
        f"{path}:2: column 'name' holds a NUL character; remove it",
        f"{path}:3: column 'order_numbers' holds a NUL character; remove it",
    ]
    assert (result.created, result.updated) == (1, 0)
    assert session.exec(select(Customer.external_ref)).all() == ["c3"]
