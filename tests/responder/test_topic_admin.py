"""Topics edited on the Admin page: validation, the server-side role check, audit, retirement."""

from __future__ import annotations

import pytest

from dangol.core.errors import ConfigError, Forbidden, NotFound
from responder.topic_admin import TopicForm, add_topic, edit_topic, known_teams, set_topic_enabled
from storage.audit import list_events
from storage.topics import list_topics

PARKING = TopicForm(
    name="Parking",
    description="No parking near the store, parking fees",
    examples=["there is nowhere to park", "", "  parking costs more than the coffee  "],
    team="support",
    languages=["EN", " ko", "en"],
)


def test_admin_adds_a_topic_cleaned_and_listed_after_the_config_ones(session, settings, make_staff):
    admin = make_staff("root", role="admin")
    add_topic(session=session, catalog=settings.topic_catalog, actor=admin, key="parking", form=PARKING)
    entries = list_topics(session=session, catalog=settings.topic_catalog)
    assert [e.key for e in entries] == [*settings.topics, "parking"]
    parking = entries[-1]
    assert (parking.source, parking.enabled, parking.updated_by) == ("ui", True, "root")
    assert parking.topic.examples == ["there is nowhere to park", "parking costs more than the coffee"]
    assert parking.topic.languages == ["en", "ko"]


@pytest.mark.parametrize("role", ["agent", "product", "pr_reviewer"])
def test_only_admins_may_change_topics(session, settings, make_staff, role):
    someone = make_staff("someone", role=role)
    with pytest.raises(Forbidden, match="roles allowed: admin"):
        add_topic(session=session, catalog=settings.topic_catalog, actor=someone, key="parking", form=PARKING)
    with pytest.raises(Forbidden):
        set_topic_enabled(session=session, catalog=settings.topic_catalog, actor=someone, key="delivery", enabled=False)
    assert [e.key for e in list_topics(session=session, catalog=settings.topic_catalog)] == list(settings.topics)


def test_a_form_with_several_mistakes_is_refused_with_every_one_named(session, settings, make_staff):
    admin = make_staff("root", role="admin")
    bad = TopicForm(name=" ", description="", examples=["", "  "], team="nobody", languages=["english"])
    with pytest.raises(ConfigError) as refused:
        add_topic(session=session, catalog=settings.topic_catalog, actor=admin, key="Parking Lot", form=bad)
    problems = refused.value.problems
    assert len(problems) == 6
    assert "invalid topic key 'Parking Lot'" in problems[0]
    assert "name is empty" in problems[1] and "description is empty" in problems[2]
    assert "at least one example" in problems[3]
    assert problems[4].startswith("unknown team 'nobody'; teams: billing, product")
    assert "invalid language code 'english'" in problems[5]
    assert len(list_topics(session=session, catalog=settings.topic_catalog)) == len(settings.topics)


@pytest.mark.parametrize(("key", "message"), [("delivery", "already exists"), ("other", "reserved")])
def test_a_taken_or_reserved_key_is_refused(session, settings, make_staff, key, message):
    with pytest.raises(ConfigError, match=message):
        add_topic(
            session=session,
            catalog=settings.topic_catalog,
            actor=make_staff("root", role="admin"),
            key=key,
            form=PARKING,
        )


def test_a_team_from_the_team_table_is_known_too(session, settings, make_staff):
    make_staff("kim", team="korea")
    assert "korea" in known_teams(session=session, catalog=settings.topic_catalog)


def test_editing_a_config_topic_overrides_it_and_is_audited_with_before_and_after(session, settings, make_staff):
    admin = make_staff("root", role="admin")
    form = TopicForm("Delivery and pickup", "Late, missing or cold orders", ["my order never arrived"], "support")
    edit_topic(session=session, catalog=settings.topic_catalog, actor=admin, key="delivery", form=form)
    delivery = list_topics(session=session, catalog=settings.topic_catalog)[0]
    assert (delivery.key, delivery.topic.name, delivery.source) == (
        "delivery",
        "Delivery and pickup",
        "config, edited in UI",
    )
    [event] = list_events(session=session, action="topic.")
    assert (event.actor, event.action, event.entity_id) == ("root", "topic.edit", "delivery")
    assert event.before["name"] == "Delivery" and event.after["name"] == "Delivery and pickup"


def test_a_disabled_topic_stays_listed_and_can_be_enabled_again(session, settings, make_staff):
    admin = make_staff("root", role="admin")
    set_topic_enabled(session=session, catalog=settings.topic_catalog, actor=admin, key="loyalty", enabled=False)
    loyalty = next(e for e in list_topics(session=session, catalog=settings.topic_catalog) if e.key == "loyalty")
    assert not loyalty.enabled and loyalty.topic.name == settings.topics["loyalty"].name
    set_topic_enabled(session=session, catalog=settings.topic_catalog, actor=admin, key="loyalty", enabled=True)
    assert all(e.enabled for e in list_topics(session=session, catalog=settings.topic_catalog))
    actions = [e.action for e in list_events(session=session, action="topic.")]
    assert actions == ["topic.enable", "topic.disable"]


def test_editing_an_unknown_topic_names_the_existing_ones(session, settings, make_staff):
    with pytest.raises(NotFound, match="no topic 'parking'; topics: delivery, billing"):
        set_topic_enabled(
            session=session,
            catalog=settings.topic_catalog,
            actor=make_staff("root", role="admin"),
            key="parking",
            enabled=False,
        )
