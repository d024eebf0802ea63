"""SQL goes through bound parameters only: no f-string, `%` or `.format` text handed to
`text()` or `execute()` anywhere in the source tree, except a few DDL statements on database
names (which PostgreSQL cannot bind) in test and benchmark setup."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGES = ("dangol", "storage", "listener", "nlp", "responder", "reports", "dashboard", "bench", "tests")
EXECUTORS = {"execute", "exec_driver_sql", "executescript", "executemany"}
# (file, how the statement starts): identifiers, not values, and never from user input.
ALLOWED = {
    ("tests/conftest.py", "CREATE DATABASE"),
    ("tests/conftest.py", "DROP DATABASE"),
    ("bench/soak.py", "CREATE DATABASE"),
    ("bench/soak.py", "DROP DATABASE"),
    ("bench/pieces.py", "CREATE DATABASE"),
    ("bench/pieces.py", "DROP DATABASE"),
    ("bench/generate.py", "SELECT setval("),
}


def _is_sql_call(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "text" or func.id in EXECUTORS
    if isinstance(func, ast.Attribute):
        if func.attr in EXECUTORS:
            return True
        return func.attr == "text" and isinstance(func.value, ast.Name) and func.value.id in ("sa", "sqlalchemy")
    return False


def _built_string(node: ast.AST) -> str | None:
    """The leading literal text of an f-string, `"…" % x` or `"…".format(x)`; None for anything else."""
    if isinstance(node, ast.Call) and _is_sql_call(node) and node.args:
        return _built_string(node.args[0])  # execute(text(f"..."))
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
        return str(node.left.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        value = node.func.value
        return str(value.value) if isinstance(value, ast.Constant) else ""
    return None


def sql_built_from_strings(path: Path) -> list[tuple[int, str]]:
    """(line, statement start) of every SQL call in `path` whose text is built by formatting."""
    found: dict[int, str] = {}  # by line: execute(text(f"…")) is one finding, not two
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Call) and _is_sql_call(node) and node.args:
            start = _built_string(node.args[0])
            if start is not None:
                found[node.lineno] = start.strip()
    return sorted(found.items())


def test_no_sql_is_built_with_f_strings_percent_or_format_outside_the_ddl_allow_list():
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            for line, start in sql_built_from_strings(path):
                if not any(rel == file and start.startswith(prefix) for file, prefix in ALLOWED):
                    offenders.append(f"{rel}:{line}: {start[:60]!r}")
    assert not offenders, "SQL built from strings (bind parameters instead):\n" + "\n".join(offenders)


def test_the_scanner_finds_formatted_sql_in_each_form(tmp_path):
    sample = tmp_path / "bad.py"
    sample.write_text(
        "conn.execute(text(f'SELECT * FROM post WHERE id = {x}'))\n"
        "session.execute(text('SELECT %s' % x))\n"
        "conn.exec_driver_sql('DELETE FROM post WHERE id = {}'.format(x))\n"
        "conn.execute(text('SELECT * FROM post WHERE id = :id'), {'id': x})\n"
        "st.text(f'not sql {x}')\n"
    )
    assert [line for line, _ in sql_built_from_strings(sample)] == [1, 2, 3]
