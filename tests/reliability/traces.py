"""Where a person's identifiers still are: every column of every table, and every file under the
folders Dangol writes into (HTML, Atom, JSON, CSV as text, PDFs through their text layer).

Text is compared with all whitespace removed, so a post wrapped over two lines of a PDF, or
re-indented in JSON, is still found; JSON and markup are decoded first, so an escaped quote or
Korean text written as \\uXXXX is found too.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.engine import Engine

_SPACE = re.compile(r"\s+")


def squash(value: str) -> str:
    """`value` without any whitespace."""
    return _SPACE.sub("", value)


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value (keys too)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)
    elif value is not None:
        yield str(value)


def _readings(raw: str) -> Iterator[str]:
    """The text as stored, with markup entities decoded, and every string of it if it is JSON."""
    yield raw
    yield html.unescape(raw)
    if raw[:1] in "{[":
        try:
            yield from _strings(json.loads(raw))
        except (ValueError, RecursionError):  # not JSON, or a hostile page's "[[[[…" kept as a dead letter
            pass


def database_texts(engine: Engine) -> dict[str, str]:
    """Table name -> every value of every column of every row, as searchable text."""
    dump: dict[str, str] = {}
    tables = MetaData()
    with engine.connect() as conn:
        tables.reflect(conn)
        for table in tables.sorted_tables:
            parts: list[str] = []
            for row in conn.execute(table.select()):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", errors="ignore")
                    elif isinstance(value, dict | list):
                        value = json.dumps(value, ensure_ascii=False)
                    parts.extend(_readings(str(value)))
            dump[table.name] = squash("\n".join(parts))
    return dump


def file_texts(folders: Iterable[Path]) -> dict[Path, str]:
    """Every file under `folders` -> its searchable text (a PDF's text layer, a CSV's cells too)."""
    texts: dict[Path, str] = {}
    for folder in folders:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            if path.suffix == ".pdf":
                from pypdf import PdfReader

                content = "\n".join(page.extract_text() for page in PdfReader(path).pages)
                texts[path] = squash(content)
                continue
            raw = path.read_bytes().decode("utf-8", errors="replace")
            parts = list(_readings(raw))
            if path.suffix == ".csv":
                parts += [cell for row in csv.reader(io.StringIO(raw)) for cell in row]
            texts[path] = squash("\n".join(parts))
    return texts


def traces(identifiers: Iterable[str], engine: Engine, folders: Iterable[Path]) -> dict[str, list[str]]:
    """Identifier -> the tables and files that still hold it (only identifiers found somewhere)."""
    places = {f"table {name}": body for name, body in database_texts(engine).items()}
    places |= {f"file {path}": body for path, body in file_texts(folders).items()}
    found: dict[str, list[str]] = {}
    for identifier in identifiers:
        needle = squash(identifier)
        where = [place for place, body in places.items() if needle and needle in body]
        if where:
            found[identifier] = where
    return found
