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


def test_a_field_longer_than_a_customer_field_refuses_its_row_and_the_longest_allowed_is_stored(
    session: Session, tmp_path: Path
) -> None:
    # 9,000 random letters in an e-mail exceeded PostgreSQL's index entry limit and stopped the
    # whole import (ProgramLimitExceeded). At the limit, 500 random 4-byte characters (incompressible,
    # the most bytes a field can take) must still fit every index.
    import random

    from storage.customers import MAX_CELL_CHARS

    rng = random.Random(7)
    widest = "".join(chr(rng.randrange(0x1F300, 0x1F5FF)) for _ in range(MAX_CELL_CHARS))
    over = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(MAX_CELL_CHARS + 1))
    many_orders = ";".join(f"A-{n:04d}" for n in range(200))  # 1,399 characters, each order short
    path = tmp_path / "customers.csv"
    path.write_text(
        "external_ref,name,email,x_handle,order_numbers\n"
        f"c1,Kim,{over},,\n"
        f"c2,Lee,lee@example.com,,A-{over}\n"
        f"{widest},{widest},{widest},{widest[:100]},{widest}\n"
        f"c4,Park,park@example.com,,{many_orders}\n",
        encoding="utf-8",
    )
    result = import_customers_csv(path, session=session)
    session.commit()
    assert result.problems == [
        f"{path}:2: column 'email' is 501 characters long; a customer field holds at most 500",
        f"{path}:3: an order number is 503 characters long; a customer field holds at most 500",
    ]
    assert sorted(session.exec(select(Customer.external_ref)).all()) == sorted(["c4", widest])
