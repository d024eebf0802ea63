"""Meta-test: the sample config.toml documents every settings field, set or commented out."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr

from dangol.core.settings import Settings, env_name
from tests.conftest import REPO

CONFIG = REPO / "config.toml"
# A table header, set or commented out: [nlp.encoder], [[responder.rules]], # [responder.senders.acme].
HEADER = re.compile(r"^#?\s*\[\[?([A-Za-z0-9_.]+)\]\]?\s*$")
# A key, set or commented out: `url = ...`, `# smtp_host = ...`.
KEY = re.compile(r"^#?\s*([A-Za-z_][A-Za-z0-9_]*)\s*=")


def documented_keys(text: str) -> dict[tuple[str, ...], set[str]]:
    """Table path → the keys written (or commented out) under its header, headers included."""
    tables: dict[tuple[str, ...], set[str]] = {(): set()}
    current: tuple[str, ...] = ()
    for line in text.splitlines():
        if header := HEADER.match(line.strip()):
            current = tuple(header.group(1).split("."))
            tables.setdefault(current, set())
        elif key := KEY.match(line.strip()):
            tables[current].add(key.group(1))
    return tables


def settings_fields(model: type[BaseModel], table: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """(table path, key, annotation) of every leaf field; "*" stands for a name the user picks
    ([sources.*], [topics.*], [responder.sla.*])."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        args = get_args(annotation)
        if _is_model(annotation):
            yield from settings_fields(annotation, (*table, name))
        elif get_origin(annotation) is dict and _is_model(args[1]):
            yield from settings_fields(args[1], (*table, name, "*"))
        elif get_origin(annotation) is list and args and _is_model(args[0]):
            yield from settings_fields(args[0], (*table, name))
        else:
            yield table, name, annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_secret(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return SecretStr in get_args(annotation)
    return annotation is SecretStr


def _matches(pattern: tuple[str, ...], table: tuple[str, ...]) -> bool:
    return len(pattern) == len(table) and all(p in ("*", t) for p, t in zip(pattern, table, strict=True))


def undocumented(text: str) -> list[str]:
    """Dotted names of the settings fields the config text does not document."""
    tables = documented_keys(text)
    missing = []
    for pattern, key, annotation in settings_fields(Settings):
        dotted = ".".join((*pattern, key))
        if _is_secret(annotation):
            # Secrets never go in the file: the sample names the environment variable instead.
            if env_name(dotted) not in text:
                missing.append(dotted)
        elif not any(_matches(pattern, table) and key in keys for table, keys in tables.items()):
            missing.append(dotted)
    return missing


def test_every_settings_field_is_in_the_sample_config_set_or_commented() -> None:
    assert undocumented(CONFIG.read_text(encoding="utf-8")) == []


def test_a_field_missing_from_a_config_is_found_wherever_it_hides() -> None:
    text = CONFIG.read_text(encoding="utf-8")
    assert "worker.feeds_every_minutes" in undocumented(text.replace("feeds_every_minutes = 60", ""))
    assert "reports.smtp_password" in undocumented(text.replace("DANGOL_REPORTS__SMTP_PASSWORD", ""))
    # A key under the wrong table does not count.
    assert "linking.apply_confidence" in undocumented(text.replace("apply_confidence", "apply_confidences"))
    assert "responder.sla.*.business_hours_only" in undocumented(text.replace("business_hours_only", "bho"))
