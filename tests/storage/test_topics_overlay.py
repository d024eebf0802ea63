"""The topics in force: config topics as the seed, stored edits laid over them, a revision to watch."""

from __future__ import annotations

from dangol.core.settings import TopicSettings
from storage.models import ComplaintTopic
from storage.topics import effective_topics, topics_revision

SEED = {
    "delivery": TopicSettings(name="Delivery", description="late orders", examples=["never arrived"]),
    "billing": TopicSettings(name="Billing", description="charges", examples=["charged twice"], team="billing"),
}


def stored(session, key: str, **fields) -> ComplaintTopic:
    row = ComplaintTopic(key=key, name=fields.pop("name", key.title()), **fields)
    session.add(row)
    session.commit()
    return row


def test_without_stored_edits_the_config_topics_are_the_topics(session):
    entries = effective_topics(session=session, seed=SEED)
    assert [(e.key, e.source, e.enabled) for e in entries] == [
        ("delivery", "config", True),
        ("billing", "config", True),
    ]
    assert entries[1].topic is SEED["billing"]


def test_a_stored_edit_replaces_its_config_topic_in_place(session):
    stored(session, "delivery", name="Delivery and pickup", examples=["cold pickup"], updated_by="root")
    first = effective_topics(session=session, seed=SEED)[0]
    assert (first.key, first.topic.name, first.topic.examples) == ("delivery", "Delivery and pickup", ["cold pickup"])
    assert (first.source, first.updated_by) == ("config, edited in UI", "root")


def test_topics_added_in_the_ui_follow_the_config_ones_in_the_order_they_were_added(session):
    stored(session, "wifi")
    stored(session, "parking")
    assert [e.key for e in effective_topics(session=session, seed=SEED)] == ["delivery", "billing", "wifi", "parking"]


def test_a_disabled_topic_is_listed_as_disabled(session):
    stored(session, "billing", name="Billing", enabled=False)
    stored(session, "wifi", enabled=False)
    entries = {e.key: e.enabled for e in effective_topics(session=session, seed=SEED)}
    assert entries == {"delivery": True, "billing": False, "wifi": False}


def test_the_revision_grows_with_every_added_or_edited_topic(session):
    assert topics_revision(session=session) == 0
    row = stored(session, "wifi")
    after_add = topics_revision(session=session)
    row.revision += 1
    row.enabled = False
    session.commit()
    assert 0 < after_add < topics_revision(session=session)
