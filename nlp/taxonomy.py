"""The complaint-topic taxonomy: `[topics.<key>]` tables from config.toml and an optional file.

A topic has a stable key (stored in `Analysis.primary_topic`, used in feeds and alerts), a name
people read, a description and example phrases (the zero-shot prototypes), the team that owns
it, and optionally the languages it applies to. `settings.nlp.taxonomy_file` adds topics from a
separate TOML file with the same tables; `load_taxonomy(path)` reads such a file alone (eval).
Parsing, validation and the run's `TopicCatalog` live in `dangol.core.settings` (storage and the
dashboard need them too); this module turns the catalog into the Taxonomy the topic models read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dangol.core.errors import ConfigError
from dangol.core.settings import OTHER_TOPIC, TopicCatalog, TopicSettings

OTHER = OTHER_TOPIC


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


def load_taxonomy(path: Path | str) -> Taxonomy:
    """Read a taxonomy TOML file of `[topics.<key>]` tables, with errors that say what is wrong."""
    return from_catalog(TopicCatalog.from_file(path))


def from_tables(tables: Mapping[str, TopicSettings]) -> Taxonomy:
    """A Taxonomy of validated topic tables, in their order."""
    return Taxonomy(tuple(topic_from_settings(key, value) for key, value in tables.items()))


def from_catalog(catalog: TopicCatalog) -> Taxonomy:
    """The configured topics (config.toml `[topics]` plus `nlp.taxonomy_file`) as a Taxonomy.

    Topics edited on the Admin page are not included: `dangol.pipeline.current_taxonomy` adds them.
    """
    return from_tables(catalog.topics)
