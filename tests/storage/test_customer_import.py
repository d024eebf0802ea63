"""The customer CSV import: a bad row is reported with its line and left out, never fatal."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from storage.customers import ImportResult, import_customers_csv
from storage.models import Customer


def imported(session: Session, path: Path, lines: list[str]) -> tuple[ImportResult, list[str]]:
    """The import of a CSV of `lines` (header first), committed; its result and each problem
    without the file's path."""
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    result = import_customers_csv(path, session=session)
    session.commit()
    return result, [problem.removeprefix(f"{path}:") for problem in result.problems]


def test_a_cell_with_a_nul_character_refuses_its_row_only(session: Session, tmp_path: Path) -> None:
    # PostgreSQL refuses NUL in text: one such cell used to stop the whole import with a DataError.
    lines = [
        "external_ref,name,email,order_numbers",
        "c1,Kim\x00 Minji,kim@example.com,A-1",
        "c2,Lee Jiwoo,lee@example.com,A-2\x00",
        "c3,Park Seoyeon,park@example.com,A-3",
    ]
    result, problems = imported(session, tmp_path / "customers.csv", lines)
    assert problems == [
        "2: column 'name' holds a NUL character; remove it",
        "3: column 'order_numbers' holds a NUL character; remove it",
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
    lines = [
        "external_ref,name,email,x_handle,order_numbers",
        f"c1,Kim,{over},,",
        f"c2,Lee,lee@example.com,,A-{over}",
        f"{widest},{widest},{widest},{widest[:100]},{widest}",
        f"c4,Park,park@example.com,,{many_orders}",
    ]
    _, problems = imported(session, tmp_path / "customers.csv", lines)
    assert problems == [
        "2: column 'email' is 501 characters long; a customer field holds at most 500",
        "3: an order number is 503 characters long; a customer field holds at most 500",
    ]
    assert sorted(session.exec(select(Customer.external_ref)).all()) == sorted(["c4", widest])
