"""The complaint-topic taxonomy: `[topics.<key>]` tables from config.toml and an optional file.

A topic has a stable key (stored in `Analysis.primary_topic`, used in feeds and alerts), a name
people read, a description and example phrases (the zero-shot prototypes), the team that owns
it, and optionally the languages it applies to. `settings.nlp.taxonomy_file` adds topics from a
separate TOML file with the same tables; `load_taxonomy(path)` reads such a file alone (eval).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from dangol.errors import ConfigError
from dangol.settings import TopicSettings, format_validation_error

if TYPE_CHECKING:
    from dangol.settings import Settings

OTHER = "other"


@dataclass(frozen=True, slots=True)
class Topic:
    """One complaint topic."""

    key: str
    name: str
    description: str = ""
    examples: tuple[str, ...] = ()
    team: str = "support"
    languages: tuple[str, ...] = ()

    def prototypes(self) -> list[str]:
        """The texts whose embeddings stand for this topic: name with description, then examples."""
        head = f"{self.name}: {self.description}" if self.description else self.name
        return [head, *self.examples]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """An ordered set of topics; order decides ties and the column order of score matrices."""

    topics: tuple[Topic, ...]

    @property
    def keys(self) -> list[str]:
        """Topic keys in order."""
        return [t.key for t in self.topics]

    def __len__(self) -> int:
        return len(self.topics)

    def get(self, key: str) -> Topic:
        """The topic with this key; ConfigError lists the valid keys."""
        for topic in self.topics:
            if topic.key == key:
                return topic
        raise ConfigError(f"unknown topic {key!r}; valid: {', '.join(self.keys) or '(none configured)'}")

    def key_for(self, label: str) -> str | None:
        """The key whose topic name or key equals `label`, ignoring case and outer spaces; None if none."""
        wanted = label.strip().casefold()
        for topic in self.topics:
            if topic.name.strip().casefold() == wanted or topic.key.casefold() == wanted:
                return topic.key
        return None

    def merged(self, other: Taxonomy, where: str) -> Taxonomy:
        """This taxonomy with `other`'s topics added; a key defined in both is a ConfigError."""
        clash = sorted(set(self.keys) & set(other.keys))
        if clash:
            raise ConfigError(f"{where}: topic keys {clash} are already defined in config.toml [topics]; rename them")
        return Taxonomy(self.topics + other.topics)


def topic_from_settings(key: str, value: TopicSettings) -> Topic:
    """A Topic from its validated config table."""
    return Topic(
        key=key,
        name=value.name,
        description=value.description,
        examples=tuple(value.examples),
        team=value.team,
        languages=tuple(value.languages),
    )


def parse_taxonomy(data: dict[str, Any], where: str) -> Taxonomy:
    """Validate `{"topics": {key: table}}` (the parsed TOML) into a Taxonomy, or raise ConfigError."""
    unknown = sorted(set(data) - {"topics"})
    if unknown:
        raise ConfigError(f"{where}: unknown tables {unknown}; a taxonomy file holds only [topics.<key>] tables")
    tables = data.get("topics", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{where}: `topics` must be tables like [topics.delivery], not {type(tables).__name__}")
    topics: list[Topic] = []
    problems: list[str] = []
    for key, table in tables.items():
        if not isinstance(table, dict):
            problems.append(f"{where}: topics.{key}: must be a table with name, description, examples, team")
            continue
        try:
            topics.append(topic_from_settings(key, TopicSettings(**table)))
        except ValidationError as exc:
            problems.extend(f"{where}: topics.{key}.{p}" for p in format_validation_error(exc))
    if problems:
        raise ConfigError(problems[0], problems)
    if any(t.key == OTHER for t in topics):
        raise ConfigError(f"{where}: topic key {OTHER!r} is reserved for posts that fit no topic; rename it")
    return Taxonomy(tuple(topics))


def load_taxonomy(path: Path | str) -> Taxonomy:
    """Read a taxonomy TOML file of `[topics.<key>]` tables, with errors that say what is wrong."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"taxonomy file not found: {path}; give a TOML file with [topics.<key>] tables") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_taxonomy(data, str(path))


def taxonomy_from_settings(settings: Settings) -> Taxonomy:
    """The topics of config.toml `[topics]` plus those of `nlp.taxonomy_file`, when set."""
    base = Taxonomy(tuple(topic_from_settings(k, v) for k, v in settings.topics.items()))
    if OTHER in base.keys:
        raise ConfigError(f"topics.{OTHER}: the key {OTHER!r} is reserved for posts that fit no topic; rename it")
    if settings.nlp.taxonomy_file:
        base = base.merged(load_taxonomy(settings.nlp.taxonomy_file), settings.nlp.taxonomy_file)
    return base
