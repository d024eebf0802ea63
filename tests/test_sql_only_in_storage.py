"""Every SQL query lives in `storage/` (docs/architecture.md): no other package builds one.

The other packages pass a `Session` around (importing that type is fine) and call `storage`
functions; importing a query builder (`select`, `update`, `col`, `func`, …) from sqlmodel or
SQLAlchemy anywhere else means a query is being written outside storage.
"""

from __future__ import annotations

import ast

from tests.conftest import REPO

PACKAGES = ("dangol", "listener", "nlp", "responder", "reports", "dashboard")
SQL_MODULES = ("sqlmodel", "sqlalchemy", "sqlalchemy.sql", "sqlalchemy.sql.expression", "sqlalchemy.orm")
# What builds a statement or a clause of one; sessions, engines and exceptions are not in it.
BUILDERS = frozenset(
    {
        "select", "update", "delete", "insert", "text", "col", "func", "or_", "and_", "not_",
        "case", "cast", "literal", "tuple_", "exists", "aliased", "joinedload", "selectinload",
    }
)  # fmt: skip
# Files allowed to build queries anyway, each with the reason. Keep it empty.
EXCEPTIONS: dict[str, str] = {}


def _is_sql_module(name: str | None) -> bool:
    return name is not None and (name in SQL_MODULES or name.startswith(("sqlalchemy.sql.", "sqlalchemy.orm.")))


def query_builders(source: str, filename: str = "<source>") -> list[str]:
    """`file:line name` for each query builder the source imports, or reaches as an attribute of an
    imported sqlmodel/SQLAlchemy module (`import sqlalchemy as sa; sa.select`)."""
    tree = ast.parse(source, filename=filename)
    found: list[str] = []
    modules: set[str] = set()  # local names bound to a sqlmodel/SQLAlchemy module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _is_sql_module(node.module):
            found += [f"{filename}:{node.lineno} {a.name}" for a in node.names if a.name in BUILDERS]
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if _is_sql_module(a.name)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in BUILDERS and ast.unparse(node.value) in modules:
            found.append(f"{filename}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_query_is_built_outside_storage() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            if relative not in EXCEPTIONS:
                offenders += query_builders(path.read_text(encoding="utf-8"), relative)
    assert not offenders, "SQL built outside storage/ (move it into a storage function):\n" + "\n".join(offenders)


def test_exceptions_name_files_that_exist() -> None:
    assert all((REPO / relative).is_file() and reason for relative, reason in EXCEPTIONS.items())


def test_the_check_sees_each_way_of_importing_a_builder() -> None:
    source = (
        "from sqlmodel import Session, select\n"
        "from sqlalchemy import func as f\n"
        "from sqlalchemy.orm import aliased\n"
        "import sqlalchemy as sa\n"
        "sa.update\n"
    )
    assert query_builders(source, "x.py") == [
        "x.py:1 select",
        "x.py:2 func",
        "x.py:3 aliased",
        "x.py:5 sa.update",
    ]


def test_the_check_lets_sessions_engines_and_errors_through() -> None:
    source = (
        "from sqlmodel import Session\n"
        "from sqlalchemy.engine import Engine\n"
        "from sqlalchemy.exc import DBAPIError\n"
        "import sqlalchemy\n"
        "sqlalchemy.exc\n"
    )
    assert query_builders(source, "x.py") == []


def test_every_package_is_read() -> None:
    # A renamed or moved package must not make the main test pass by reading nothing.
    assert all(any((REPO / p).rglob("*.py")) for p in PACKAGES)
