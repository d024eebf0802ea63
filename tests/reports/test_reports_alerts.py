"""Spike detection: one alert per burst, weekday-aware baselines, explanations, notification."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from dangol.core.settings import Settings
from reports.alerts import SpikeRules, delivery_summary, detect_spikes, notify_alerts
from reports.tails import binomial_sf, poisson_sf
from reports.terms import rising_terms
from storage.models import Alert

START = datetime(2026, 10, 26, 0, 0, tzinfo=UTC)  # a Monday
TOPICS = ["delivery", "billing", "app", "quality", "store", "loyalty", "other"]
BURST_AT = datetime(2026, 11, 9, 2, 0, tzinfo=UTC)  # Monday 11:00 in Seoul
CRASH_TEXTS = [
    "the app keeps crashing at checkout",
    "app crashing again, cannot pay",
    "checkout crashing every time I order",
    "crashing app, lost my order",
]


def _background(world, days: int = 15, seed: int = 7) -> int:
    """Ordinary chatter: about fifteen posts a day, mostly in Seoul's daytime, mixed topics and moods."""
    rng = random.Random(seed)
    count = 0
    for hour in range(days * 24):
        at = START + timedelta(hours=hour)
        local_hour = (at.hour + 9) % 24
        rate = 1.0 if 8 <= local_hour < 22 else 0.1
        while rng.random() < rate / (1 + rate):  # geometric draws: mean `rate` posts this hour
            sentiment = rng.choice(["negative", "neutral", "neutral", "positive", "positive"])
            world.post(
                at + timedelta(minutes=rng.randrange(60)),
                sentiment=sentiment,
                topic=rng.choice(TOPICS),
                source="maru_x",
                handle=f"regular{rng.randrange(60)}",
                text=rng.choice(["love the new latte", "store was busy today", "order arrived fine", "nice beans"]),
            )
            count += 1
    return count


def _burst(world, size: int = 30, texts: list[str] = CRASH_TEXTS) -> None:
    for n in range(size):
        world.post(
            BURST_AT + timedelta(minutes=4 * n),
            sentiment="negative",
            topic="app",
            source="maru_x",
            handle=f"angry{n}",
            followers=50 + 1000 * (n == 7),
            text=texts[n % len(texts)],
            cluster_key=f"crash-{n % 3}",
        )


def test_a_clear_burst_raises_exactly_one_alert_that_explains_itself(
    world, session: Session, settings: Settings
) -> None:
    _background(world)
    _burst(world)
    session.commit()
    alerts = detect_spikes(session=session, settings=settings, now=START + timedelta(days=15), since=START)
    session.commit()
    assert len(alerts) == 1
    alert = alerts[0]
    assert (alert.kind, alert.scope) == ("volume", "topic:app")
    assert alert.started_at == BURST_AT and alert.ended_at == BURST_AT + timedelta(hours=2)
    explanation = alert.explanation
    assert {f["scope"] for f in explanation["facets"]} >= {"topic:app", "source:maru_x"}
    assert explanation["posts_in_episode"] == 30 and explanation["negative_share"] == 1.0
    assert "crashing" in [t["term"] for t in explanation["terms"]]
    assert sorted(p["cluster_size"] for p in explanation["posts"]) == [10, 10, 10]
    assert explanation["authors"][0] == {"handle": "angry7", "platform": "x", "followers": 1050, "posts": 1}
    assert "App and website" in explanation["summary"]


def test_a_spike_in_a_second_topic_at_the_same_time_is_its_own_alert(
    world, session: Session, settings: Settings
) -> None:
    _background(world)
    _burst(world)
    for n in range(30):  # billing breaks an hour into the app burst
        world.post(BURST_AT + timedelta(hours=1, minutes=3 * n), sentiment="negative", topic="billing",
                   source="maru_x", handle=f"charged{n}", text="charged twice for one latte")  # fmt: skip
    session.commit()
    alerts = detect_spikes(session=session, settings=settings, now=START + timedelta(days=15), since=START)
    session.commit()
    assert sorted(a.scope for a in alerts) == ["topic:app", "topic:billing"]
    again = detect_spikes(session=session, settings=settings, now=START + timedelta(days=15), since=START)
    assert again == []  # each episode once, per topic


def test_running_the_detector_again_does_not_raise_the_same_episode_twice(
    world, session: Session, settings: Settings
) -> None:
    _background(world, days=14)
    _burst(world)
    session.commit()
    first = detect_spikes(session=session, settings=settings, now=BURST_AT + timedelta(hours=1))
    session.commit()
    # The burst goes on for another hour; the later run extends the stored episode instead.
    again = detect_spikes(session=session, settings=settings, now=BURST_AT + timedelta(hours=6))
    session.commit()
    stored = session.exec(select(Alert)).all()
    assert len(first) == 1 and again == [] and len(stored) == 1
    assert stored[0].ended_at == BURST_AT + timedelta(hours=2)
    assert stored[0].explanation["posts_in_episode"] == 30


def test_ordinary_chatter_raises_no_alert(world, session: Session, settings: Settings) -> None:
    assert _background(world, days=15, seed=11) > 150
    session.commit()
    assert detect_spikes(session=session, settings=settings, now=START + timedelta(days=15), since=START) == []


def _mondays_busy(world) -> None:
    """Twelve store posts every Monday morning for three weeks: that is normal for this brand."""
    for week in range(3):
        for n in range(12):
            world.post(START + timedelta(weeks=week, hours=1, minutes=15 * n), topic="store", sentiment="neutral")
    for day in range(21):  # a trickle on other days so there is history
        world.post(START + timedelta(days=day, hours=12), topic="store", sentiment="neutral")


def test_a_busy_monday_morning_is_normal_when_every_monday_morning_is_busy(
    world, session: Session, settings: Settings
) -> None:
    _mondays_busy(world)
    for n in range(12):
        world.post(START + timedelta(weeks=3, hours=1, minutes=15 * n), topic="store", sentiment="neutral")
    session.commit()
    now = START + timedelta(weeks=3, hours=6)
    assert detect_spikes(session=session, settings=settings, now=now) == []


def _sunday_night_burst(world) -> datetime:
    """A busy-Mondays history, then twelve store posts on a Sunday night; returns a time after them."""
    _mondays_busy(world)
    sunday_night = START + timedelta(weeks=3) - timedelta(hours=6)
    for n in range(12):
        world.post(sunday_night + timedelta(minutes=15 * n), topic="store", sentiment="neutral")
    return sunday_night + timedelta(hours=5)


def test_the_same_volume_on_a_sunday_night_is_a_spike(world, session: Session, settings: Settings) -> None:
    now = _sunday_night_burst(world)
    session.commit()
    alerts = detect_spikes(session=session, settings=settings, now=now)
    assert [(a.kind, a.scope) for a in alerts] == [("volume", "topic:store")]


def test_a_burst_below_the_configured_minimum_count_is_not_a_spike(world, session: Session, settings: Settings) -> None:
    now = _sunday_night_burst(world)
    session.commit()
    settings.reports.alerts.min_count = 13
    assert detect_spikes(session=session, settings=settings, now=now) == []
    settings.reports.alerts.min_count = 12
    alerts = detect_spikes(session=session, settings=settings, now=now)
    assert [(a.kind, a.scope) for a in alerts] == [("volume", "topic:store")]


def test_a_jump_in_negative_share_without_more_volume_is_an_alert(world, session: Session, settings: Settings) -> None:
    rules = SpikeRules(baseline_weeks=1)
    for hour in range(8 * 24):
        world.post(
            START + timedelta(hours=hour), sentiment="negative" if hour % 10 == 0 else "positive", source="naver_blog"
        )
    sour = START + timedelta(days=8)
    for n in range(12):
        world.post(
            sour + timedelta(minutes=30 * n),
            sentiment="positive" if n < 2 else "negative",
            source="naver_blog",
            text="bitter and burnt taste",
        )
    session.commit()
    alerts = detect_spikes(session=session, settings=settings, now=sour + timedelta(hours=6), rules=rules)
    assert [(a.kind, a.scope) for a in alerts] == [("negative_share", "source:naver_blog")]
    assert alerts[0].observed == 10


def test_new_alerts_are_sent_to_the_webhook_once(world, session: Session, settings: Settings, webhook) -> None:
    url, received = webhook
    settings.reports.webhook_url = url
    session.add(
        Alert(
            kind="volume",
            scope="topic:app",
            started_at=BURST_AT,
            ended_at=BURST_AT + timedelta(hours=2),
            observed=30,
            expected=1.2,
            explanation={
                "summary": "App and website: 30 posts in 2 h",
                "posts": [{"handle": "angry7", "platform": "x", "reach": 1050, "text": "app crashing"}],
                "authors": [{"handle": "angry7", "platform": "x", "followers": 103267, "posts": 1}],
            },
        )
    )
    session.commit()
    now = BURST_AT + timedelta(hours=3)
    assert len(notify_alerts(session=session, settings=settings, now=now)) == 1
    assert notify_alerts(session=session, settings=settings, now=now) == []
    assert len(received.bodies) == 1
    assert "App and website: 30 posts" in received.bodies[0]["text"] and "@angry7" in received.bodies[0]["text"]
    # Counts written as people read them.
    assert "(x, reach 1,050)" in received.bodies[0]["text"]
    assert "Largest reach: @angry7 (103,267 followers)" in received.bodies[0]["text"]
    assert session.exec(select(Alert)).one().notified_at == now


def test_an_undelivered_alert_stays_pending_for_the_next_run(
    session: Session, settings: Settings, failing_webhook
) -> None:
    settings.reports.webhook_url = failing_webhook[0]
    session.add(Alert(kind="volume", scope="topic:app", started_at=BURST_AT, observed=30, expected=1))
    session.commit()
    assert notify_alerts(session=session, settings=settings) == []
    assert session.exec(select(Alert)).one().notified_at is None


def test_a_channel_that_worked_is_not_sent_again_while_email_is_retried(
    session: Session, settings: Settings, webhook
) -> None:
    url, received = webhook
    settings.reports.webhook_url = url
    settings.reports.smtp_host, settings.reports.smtp_port = "127.0.0.1", 9  # nothing listens: e-mail fails
    settings.reports.smtp_tls, settings.reports.email_to = "none", ["pr@maru.test"]
    session.add(Alert(kind="volume", scope="topic:app", started_at=BURST_AT, observed=30, expected=1))
    session.commit()
    for _ in range(3):
        assert notify_alerts(session=session, settings=settings) == []
        session.commit()
    alert = session.exec(select(Alert)).one()
    assert len(received.bodies) == 1  # posted once, not once per run
    assert set(alert.delivered) == {"webhook"} and alert.notified_at is None


def test_poisson_and_binomial_tails_match_closed_forms() -> None:
    assert poisson_sf(3, 1.0) == pytest.approx(1 - 2.5 * 2.718281828459045**-1)
    assert poisson_sf(0, 4.0) == 1.0
    assert poisson_sf(60, 2.0) < 1e-40
    assert binomial_sf(2, 2, 0.5) == pytest.approx(0.25)
    assert binomial_sf(1, 3, 0.5) == pytest.approx(0.875)


def test_rising_terms_are_the_words_the_episode_uses_far_more_than_the_baseline() -> None:
    episode = ["app crashing at checkout", "crashing again", "the app is crashing", "love it"]
    baseline = ["love the app", "great coffee", "app works", "nice latte"] * 5
    assert [t for t, _, _ in rising_terms(episode, baseline)] == ["crashing"]


def test_delivery_summary_says_where_an_alert_went_beyond_the_inboxes() -> None:
    """`dangol alerts list` printed "not notified" for every alert of a brand without a webhook or
    e-mail, though each had reached the staff's inboxes; now it says which channel is still owed."""
    fresh, at = Alert(kind="volume", scope="topic:app"), "2026-12-07T10:00:00+00:00"
    assert delivery_summary(fresh, []) == "inboxes only: no webhook or e-mail configured"
    assert delivery_summary(fresh, ["webhook", "email"]) == "webhook and e-mail not sent yet"
    half = Alert(kind="volume", scope="topic:app", delivered={"webhook": at})
    assert delivery_summary(half, ["webhook", "email"]) == "sent by webhook; e-mail not sent yet"
    both = Alert(kind="volume", scope="topic:app", delivered={"webhook": at, "email": at})
    assert delivery_summary(both, ["webhook", "email"]) == "sent by e-mail and webhook"
    assert delivery_summary(half, []) == "sent by webhook"  # sent before the webhook was removed
