"""Complaint topics in force: config.toml's topics (the seed) with the Admin page's edits laid over.

A ComplaintTopic row with a config topic's key replaces that topic (the UI edit wins); a row
with a new key adds a topic after the config ones. A disabled row keeps its topic listed but
out of the taxonomy the analyzer reads. Writes, with their permission check and audit, are
`responder.topic_admin`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from dangol.core.errors import NotFound
from dangol.core.settings import TopicCatalog, TopicSettings
from storage.models import ComplaintTopic

CONFIG = "config"
UI = "ui"
CONFIG_EDITED = "config, edited in UI"


@dataclass(frozen=True, slots=True)
class TopicEntry:
    """One topic as the Admin page lists it, wherever it was defined."""

    key: str
    topic: TopicSettings
    enabled: bool = True
    source: str = CONFIG  # config | ui | config, edited in UI
    updated_by: str = ""
    updated_at: datetime | None = None


def list_topics(*, session: Session, catalog: TopicCatalog) -> list[TopicEntry]:
    """Every topic of this deployment, enabled or not: the catalog's (config.toml's and its taxonomy
    file's) with edits."""
    return effective_topics(session=session, seed=catalog.topics)


def topic_names(*, session: Session, catalog: TopicCatalog) -> dict[str, str]:
    """Key → display name of every topic, retired ones too (reports name past complaints)."""
    return {entry.key: entry.topic.name for entry in list_topics(session=session, catalog=catalog)}


def get_topic(*, session: Session, catalog: TopicCatalog, key: str) -> TopicEntry:
    """The topic with this key, enabled or not; NotFound names the existing keys."""
    entries = list_topics(session=session, catalog=catalog)
    for entry in entries:
        if entry.key == key:
            return entry
    raise NotFound(f"no topic {key!r}; topics: {', '.join(e.key for e in entries) or '(none)'}")


def topics_in_force(*, session: Session, catalog: TopicCatalog) -> dict[str, TopicSettings]:
    """Key → topic of the enabled topics, in order: what the analyzer classifies into."""
    return {entry.key: entry.topic for entry in list_topics(session=session, catalog=catalog) if entry.enabled}


def effective_topics(*, session: Session, seed: Mapping[str, TopicSettings]) -> list[TopicEntry]:
    """Every topic, enabled or not: the seed's in their order (edited ones replaced), then UI-added ones."""
    rows = {row.key: row for row in session.exec(select(ComplaintTopic).order_by(col(ComplaintTopic.id)))}
    entries = []
    for key, topic in seed.items():
        row = rows.pop(key, None)
        entries.append(TopicEntry(key, topic) if row is None else _entry(row, CONFIG_EDITED))
    entries.extend(_entry(row, UI) for row in rows.values())
    return entries


def topics_revision(*, session: Session) -> int:
    """A number that grows with every topic added or edited: one cheap query tells the worker to reload."""
    return int(session.exec(select(func.coalesce(func.sum(ComplaintTopic.revision), 0))).one())


def get_topic_row(*, session: Session, key: str) -> ComplaintTopic | None:
    """The stored edit of topic `key`, if any."""
    return session.exec(select(ComplaintTopic).where(ComplaintTopic.key == key)).first()


def topic_settings(row: ComplaintTopic) -> TopicSettings:
    """A stored topic's fields as a config table would give them."""
    return TopicSettings(
        name=row.name,
        description=row.description,
        examples=list(row.examples),
        team=row.team,
        languages=list(row.languages),
    )


def _entry(row: ComplaintTopic, source: str) -> TopicEntry:
    return TopicEntry(row.key, topic_settings(row), row.enabled, source, row.updated_by, row.updated_at)
