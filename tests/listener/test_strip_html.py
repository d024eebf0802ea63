"""`strip_html`'s fast path (`_plain_parts`) reads every fragment it accepts exactly as HTMLParser
does: same parts, so the same text, on every recorded payload and on generated hostile HTML."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from html import unescape as html_unescape
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from listener.records import _parser_parts, _plain_parts, strip_html
from tests.conftest import FIXTURES

DEMO_DATA = Path(__file__).resolve().parents[2] / "dangol" / "demo_data"
PIECES = [
    *("<p>", "</p>", "<br>", "<br/>", "<br />", "</br>", "<p/>", "<P>", "</P >", "<div>", "</li>", "<h1>"),
    *('<a href="https://x.example/@a" class="u-url mention">', "</a>", "<span class='h-card'>", "</span>"),
    *("<a href=x>", "<a href=x/>", "<a href>", '<a href="a>b">', "<a\nhref='y'\n>", "<span\xa0>", "</p\xa0>"),
    *("<script>", "</script>", "<style>", "<title>", "<textarea>", "<!--", "-->", "<!doctype html>", "<?x?>"),
    *("<![CDATA[", "]]>", "<", ">", "</", "/>", "=", '"', "'", "&", "&amp;", "&amp", "&am", "&lt;p&gt;"),
    *("&#x1F600;", "&#128512;", "&#0;", "&#xD800;", "&nbsp;", "&notin;", "&amp;amp;", "\n", "\r\n", " ", "\t"),
    *("\xa0", "\x00", "\udc80", "text", "한국어", "😀", "@user", "#tag", "\u2028", "\x0b", "\x0c", "\x85"),
    *("  ", " \t ", "\n\n\n", " \n \n ", "\r", "\x0b\x0b", "\u3000"),
]


def _as_before(html: str) -> str:
    """strip_html as it was before the fast path (2026-12-05): HTMLParser, then the same cleaning."""
    text = html_unescape("".join(_parser_parts(html)))
    lines = (re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _strings(value: Any) -> Iterator[str]:
    """Every string in a decoded payload, and those inside strings that are JSON themselves."""
    if isinstance(value, str):
        yield value
        if value[:1] in "[{":
            try:
                yield from _strings(json.loads(value))
            except ValueError:
                pass
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _payload_strings() -> list[str]:
    found: list[str] = []
    for root in (FIXTURES, DEMO_DATA):
        for path in sorted(root.rglob("*")):
            if path.suffix == ".json":
                found.extend(_strings(json.loads(path.read_text())))
            elif path.suffix == ".yaml":
                found.extend(_strings(yaml.safe_load(path.read_text())))
            elif path.suffix == ".xml":
                found.append(path.read_text())
    return found


def test_every_recorded_string_reads_the_same_as_with_htmlparser() -> None:
    strings = _payload_strings()
    fast = 0
    for text in strings:
        parts = _plain_parts(text)
        if parts is not None:
            assert parts == _parser_parts(text), text
            fast += 1
        assert strip_html(text) == _as_before(text)
    # Mastodon's statuses and notes (fragments of paragraphs) all take the fast path.
    paragraphs = [s for s in strings if s.startswith("<p>")]
    assert len(paragraphs) > 50 and all(_plain_parts(s) is not None for s in paragraphs)
    assert fast > len(strings) // 2


def test_mastodon_markup_is_read_by_the_fast_path() -> None:
    html = (
        '<p>Hi <span class="h-card"><a href="https://m.example/@ana" class="u-url mention">@<span>ana'
        '</span></a></span> &amp; all:<br />line two &lt;3 😀</p><p><a href="https://m.example/tags/x"'
        ' rel="tag">#<span>x</span></a></p>'
    )
    assert _plain_parts(html) is not None
    assert strip_html(html) == "Hi @ana & all:\nline two <3 😀\n\n#x"


def test_what_the_fast_path_cannot_be_sure_of_goes_to_htmlparser() -> None:
    for html in ("a < b", "<!-- c -->x", "<script>x<p>y</script>", '<a title="1>0">x</a>', "<p\xa0>x", "<a href=x/y>z"):
        assert _plain_parts(html) is None, html
    assert strip_html("<script>x<p>y</script>z") == "x<p>yz"


def test_a_long_unclosed_tag_is_refused_in_linear_time() -> None:
    html = "<a" + " x=y" * 200_000  # no ">": the tag pattern must fail without backtracking forever
    started = time.process_time()
    assert _plain_parts(html) is None
    assert strip_html("<p>" + "word " * 200_000) == ("word " * 200_000).strip()
    assert time.process_time() - started < 60  # a catastrophic backtrack would take hours


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=30))
def test_generated_html_reads_the_same_as_with_htmlparser(pieces: list[str]) -> None:
    html = "".join(pieces)
    parts = _plain_parts(html)
    assert parts is None or parts == _parser_parts(html)
    assert strip_html(html) == _as_before(html)
