"""The boolean query language of a source, its platform translations, and the local filter.

    query   := or
    or      := and ("OR" and)*
    and     := unary (["AND"] unary)*          juxtaposition means AND
    unary   := ("NOT" | "-") unary | primary
    primary := "(" or ")" | "phrase" | word | lang:xx | from:handle | is:retweet | is:reply | is:quote

Every collector applies `matches` after fetching, so a source returns only matching posts even
where the platform's own search is coarser (or absent, as for RSS). The `compile_*` functions
return the platform's native syntax, or None when the query cannot be expressed there; parts a
platform cannot express are dropped only where that widens the search, never where it narrows it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from dangol.core.errors import ConfigError
from dangol.core.text import normalize_handle
from dangol.core.types import PostIn

IS_KINDS = ("retweet", "reply", "quote")
_LANG = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$")
_HANDLE = re.compile(r"^@?[\w.\-]+$")


class QuerySyntaxError(ConfigError):
    """The query cannot be parsed; `column` is the 1-based position of the problem."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"{message} at column {column}")
        self.column = column


@dataclass(frozen=True)
class Everything:
    """The empty query: every post matches."""


@dataclass(frozen=True)
class Term:
    """A word, or a quoted phrase (`phrase=True`), looked for in the post's title and text."""

    text: str
    phrase: bool = False


@dataclass(frozen=True)
class Lang:
    """`lang:xx`: the platform's language tag starts with `code` (posts without a tag pass)."""

    code: str


@dataclass(frozen=True)
class From:
    """`from:handle`: the author's handle, without a leading @, case-insensitive."""

    handle: str


@dataclass(frozen=True)
class Is:
    """`is:retweet`, `is:reply` or `is:quote`."""

    kind: str


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


Node = Everything | Term | Lang | From | Is | Not | And | Or


@dataclass(frozen=True)
class _Token:
    kind: str  # word | phrase | lparen | rparen | or | and | not | minus
    text: str
    column: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            tokens.append(_Token("lparen" if char == "(" else "rparen", char, i + 1))
            i += 1
        elif char == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QuerySyntaxError("unclosed quote", i + 1)
            phrase = " ".join(text[i + 1 : end].split())
            if not phrase:
                raise QuerySyntaxError("empty phrase", i + 1)
            tokens.append(_Token("phrase", phrase, i + 1))
            i = end + 1
        elif char == "-" and i + 1 < len(text) and not text[i + 1].isspace() and text[i + 1] != ")":
            tokens.append(_Token("minus", "-", i + 1))
            i += 1
        elif char == "-" and (i + 1 == len(text) or text[i + 1].isspace() or text[i + 1] == ")"):
            raise QuerySyntaxError("'-' must be followed by the term it excludes", i + 1)
        else:
            start = i
            while i < len(text) and not text[i].isspace() and text[i] not in '()"':
                i += 1
            word = text[start:i]
            kind = {"OR": "or", "AND": "and", "NOT": "not"}.get(word, "word")
            tokens.append(_Token(kind, word, start + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def end_column(self) -> int:
        return len(self.text.rstrip()) + 1

    def parse(self) -> Node:
        if not self.tokens:
            return Everything()
        node = self.parse_or()
        token = self.peek()
        if token is not None:
            what = "')'" if token.kind == "rparen" else repr(token.text)
            raise QuerySyntaxError(f"unexpected {what}", token.column)
        return node

    def parse_or(self) -> Node:
        children = [self.parse_and()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.pos += 1
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else Or(tuple(children))

    def parse_and(self) -> Node:
        children = [self.parse_unary()]
        while (token := self.peek()) is not None and token.kind not in ("or", "rparen"):
            if token.kind == "and":
                self.pos += 1
            children.append(self.parse_unary())
        return children[0] if len(children) == 1 else And(tuple(children))

    def parse_unary(self) -> Node:
        token = self.peek()
        if token is None:
            raise QuerySyntaxError("query ends where a term was expected", self.end_column())
        if token.kind in ("not", "minus"):
            self.pos += 1
            return Not(self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        token = self.peek()
        assert token is not None
        self.pos += 1
        if token.kind == "lparen":
            if (inner := self.peek()) is not None and inner.kind == "rparen":
                raise QuerySyntaxError("empty parentheses", token.column)
            node = self.parse_or()
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise QuerySyntaxError("unclosed '('", token.column)
            self.pos += 1
            return node
        if token.kind == "phrase":
            return Term(token.text.casefold(), phrase=True)
        if token.kind == "word":
            return _word(token)
        where = "where a term was expected"
        raise QuerySyntaxError(f"unexpected {token.text!r} {where}", token.column)


def _word(token: _Token) -> Node:
    name, sep, value = token.text.partition(":")
    operator = name.lower()
    if sep and operator in ("lang", "from", "is"):
        column = token.column + len(name) + 1
        if operator == "lang":
            if not _LANG.match(value.lower()):
                raise QuerySyntaxError(f"lang: needs a language code such as 'ko' or 'en', got {value!r}", column)
            return Lang(value.lower())
        if operator == "from":
            if not value or not _HANDLE.match(value):
                raise QuerySyntaxError(f"from: needs a handle such as 'marucoffee', got {value!r}", column)
            return From(normalize_handle(value))
        if value.lower() not in IS_KINDS:
            raise QuerySyntaxError(f"is: accepts {', '.join(IS_KINDS)}; got {value!r}", column)
        return Is(value.lower())
    return Term(token.text.casefold())


@lru_cache(maxsize=256)
def parse_query(text: str) -> Node:
    """The query's syntax tree; QuerySyntaxError (a ConfigError) with the column of the problem."""
    return _Parser(text).parse()


def validate_query(text: str) -> None:
    """Raise QuerySyntaxError if `text` is not a valid query (used by `dangol config check`)."""
    parse_query(text)


# --- matching ---------------------------------------------------------------------------------


def _normalize(text: str) -> str:
    # NFKC folds full-width letters and composes Hangul jamo, so "ｍａｒｕ" and decomposed 마루 match.
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@lru_cache(maxsize=1024)
def _term_pattern(term: str) -> re.Pattern[str]:
    # A term must start at a word boundary ("cold" does not match "scolding") but may run on,
    # because Korean attaches particles to words: "마루커피" matches "마루커피가".
    escaped = re.escape(_normalize(term))
    prefix = r"(?<!\w)" if term[:1].isalnum() or term[:1] == "_" else ""
    return re.compile(prefix + escaped)


def matches(ast: Node, post: PostIn) -> bool:
    """True when `post` satisfies the query (case-insensitive, Unicode aware)."""
    haystack = _normalize(" ".join(part for part in (post.title, post.text) if part))
    return _matches(ast, post, haystack)


def _matches(node: Node, post: PostIn, haystack: str) -> bool:
    if isinstance(node, Everything):
        return True
    if isinstance(node, Term):
        return _term_pattern(node.text).search(haystack) is not None
    if isinstance(node, Lang):
        return post.lang_hint is None or post.lang_hint.lower().startswith(node.code)
    if isinstance(node, From):
        return normalize_handle(post.author.handle) == node.handle
    if isinstance(node, Is):
        return {"retweet": post.is_retweet, "reply": post.is_reply, "quote": post.is_quote}[node.kind]
    if isinstance(node, Not):
        return not _matches(node.child, post, haystack)
    if isinstance(node, And):
        return all(_matches(child, post, haystack) for child in node.children)
    return any(_matches(child, post, haystack) for child in node.children)


# --- compiling to platform syntax -------------------------------------------------------------

# (text, exact): text None means "cannot say anything narrower than everything".
_Compiled = tuple[str | None, bool]


@dataclass(frozen=True)
class _Dialect:
    and_: str
    or_: str | None
    not_: str  # prefix
    group: bool
    lang: str | None  # format with {code}
    from_: str | None  # format with {handle}
    is_: dict[str, str]


def _compile(node: Node, dialect: _Dialect) -> _Compiled:
    if isinstance(node, Everything):
        return None, True
    if isinstance(node, Term):
        return (f'"{node.text}"' if node.phrase else _bare(node.text)), True
    if isinstance(node, Lang):
        return (dialect.lang.format(code=node.code), True) if dialect.lang else (None, False)
    if isinstance(node, From):
        return (dialect.from_.format(handle=node.handle), True) if dialect.from_ else (None, False)
    if isinstance(node, Is):
        return (dialect.is_[node.kind], True) if node.kind in dialect.is_ else (None, False)
    if isinstance(node, Not):
        text, exact = _nested(node.child, dialect)
        # Dropping part of a negated query would narrow the search, so only exact negations survive.
        return (dialect.not_ + text, True) if text is not None and exact else (None, False)
    if isinstance(node, And):
        parts = [_nested(child, dialect) for child in node.children]
        texts = [text for text, _ in parts if text is not None]
        exact = all(exact for _, exact in parts) and len(texts) == len(parts)
        kept_positive = any(
            text is not None and not isinstance(child, Not)
            for child, (text, _) in zip(node.children, parts, strict=True)
        )
        if not exact and not kept_positive:
            # Only exclusions left ("-cold" of `(a OR b) -cold`): a search for almost everything.
            return None, False
        return (dialect.and_.join(texts) if texts else None), exact
    parts = [_nested(child, dialect) for child in node.children]
    if dialect.or_ is None or any(text is None for text, _ in parts):
        return None, False
    return dialect.or_.join(text for text, _ in parts if text is not None), all(exact for _, exact in parts)


def _nested(node: Node, dialect: _Dialect) -> _Compiled:
    """A child of AND/OR/NOT: compound children need parentheses, which some platforms lack."""
    text, exact = _compile(node, dialect)
    if text is None or not isinstance(node, And | Or) or (isinstance(node, And) and len(node.children) < 2):
        return text, exact
    if not dialect.group:
        return None, False
    return f"({text})", exact


def _bare(word: str) -> str:
    # A word that collides with an operator keyword is quoted so the platform takes it literally.
    return f'"{word}"' if word.upper() in ("OR", "AND", "NOT") else word


_X = _Dialect(" ", " OR ", "-", True, "lang:{code}", "from:{handle}", {k: f"is:{k}" for k in IS_KINDS})
_REDDIT = _Dialect(" AND ", " OR ", "NOT ", True, None, "author:{handle}", {})
_MASTODON = _Dialect(" ", None, "-", False, "language:{code}", "from:{handle}", {"reply": "is:reply"})
_BLUESKY = _Dialect(" ", None, "-", False, "lang:{code}", "from:{handle}", {})
_NAVER = _Dialect(" ", " | ", "-", False, None, None, {})


def compile_x(ast: Node) -> str | None:
    """X v2 search syntax (X supports every operator of the language)."""
    return _compile(ast, _X)[0]


def compile_reddit(ast: Node) -> str | None:
    """Reddit (lucene) search syntax; lang: and is: are left to the local filter."""
    return _compile(ast, _REDDIT)[0]


def compile_mastodon(ast: Node) -> str | None:
    """Mastodon full-text search (no OR, no grouping); None when nothing can be searched for."""
    return _compile(ast, _MASTODON)[0]


def compile_bluesky(ast: Node) -> str | None:
    """Bluesky searchPosts `q` (no OR, no grouping)."""
    return _compile(ast, _BLUESKY)[0]


def compile_naver(ast: Node) -> str | None:
    """Naver search: words, "phrases", -exclusion and `|` between alternatives."""
    return _compile(ast, _NAVER)[0]


def compile_youtube(ast: Node) -> str | None:
    """YouTube `search.list` `q`: like Naver's, words, "phrases", -exclusion and `|` between alternatives."""
    return _compile(ast, _NAVER)[0]


def positive_terms(ast: Node) -> list[str]:
    """Words and phrases the query requires or offers (not under NOT), for platforms with plain search."""
    if isinstance(ast, Term):
        return [ast.text]
    if isinstance(ast, And | Or):
        return [term for child in ast.children for term in positive_terms(child)]
    return []


def alternatives(ast: Node) -> list[Node]:
    """The query as an OR of OR-free parts, for platforms whose search has no OR.

    `a OR b` → [a, b]; `(a OR b) c` → [a c, b c]. Deeper ORs stay inside their part.
    """
    if isinstance(ast, Or):
        return [part for child in ast.children for part in alternatives(child)]
    if isinstance(ast, And):
        for index, child in enumerate(ast.children):
            if isinstance(child, Or):
                rest = ast.children[:index] + ast.children[index + 1 :]
                return [part for alt in child.children for part in alternatives(And((*rest, alt)))]
    return [ast]


def compile_each(ast: Node, compiler: Callable[[Node], str | None]) -> list[str] | None:
    """One native query per alternative, or None when some alternative cannot be searched for."""
    texts = [compiler(part) for part in alternatives(ast)]
    if not texts or any(text is None for text in texts):
        return None
    return list(dict.fromkeys(text for text in texts if text is not None))


def search_key(native: str) -> str:
    """The cursor key of one searched alternative (collectors whose search has no OR keep one per branch)."""
    return f"search:{native}"
