"""Meta-test: every implementation a config `use = "..."` can name has a test of its own.

A test counts when it names the implementation's class (importing or building it) or asks the
registry for it by name (`senders.get("x")`); a new collector, encoder, classifier or sender
without one fails here, naming it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from listener.base import collectors
from nlp.base import classifiers, encoders
from responder.senders.base import senders

TESTS = Path(__file__).parent
REGISTRIES = {"collectors": collectors, "encoders": encoders, "classifiers": classifiers, "senders": senders}


def _mentions() -> tuple[set[str], set[tuple[str, str]]]:
    """Every identifier the tests use, and every (registry, name) they ask a registry for."""
    names: set[str] = set()
    asked: set[tuple[str, str]] = set()
    for path in TESTS.rglob("*.py"):
        if path.name == Path(__file__).name:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.ImportFrom):
                names.update(alias.name for alias in node.names)
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "get"
                and isinstance(node.func.value, ast.Name)
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                asked.add((node.func.value.id, str(node.args[0].value)))
    return names, asked


NAMES, ASKED = _mentions()
CASES = [
    (registry, name, target)
    for registry, found in REGISTRIES.items()
    for name, target in found.builtins().items()
    if isinstance(target, str)
]


@pytest.mark.parametrize(("registry", "name", "target"), CASES, ids=[f"{r}:{n}" for r, n, _ in CASES])
def test_each_registered_implementation_is_exercised_by_a_test(registry: str, name: str, target: str) -> None:
    class_name = target.partition(":")[2]
    assert class_name in NAMES or (registry, name) in ASKED, (
        f'{registry} "{name}" ({target}) has no test: build it in one, or ask {registry}.get("{name}")'
    )


def test_the_registries_are_all_read() -> None:
    assert len(CASES) >= 18  # 7 collectors, 2 encoders, 2 classifiers, 8 senders today
