"""`[segments.<key>]`: a small condition format validated with clear errors, evaluated without eval."""

from __future__ import annotations

import pytest

from dangol.core.customer_scores import CustomerScores, segments_of
from dangol.core.errors import ConfigError
from dangol.core.settings import load_settings


def problems(segments: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, overrides={"segments": segments})
    return caught.value.problems


def test_unknown_keys_bad_bounds_and_bad_flags_are_refused_saying_where() -> None:
    assert problems({"fans": {"name": "Fans", "min_happiness": 0.5}}) == ["segments.fans.min_happiness: unknown key"]
    assert problems({"fans": {"name": "Fans", "min_mood": 1.5}}) == [
        "segments.fans.min_mood: Input should be less than or equal to 1"
    ]
    crossed = problems({"x": {"name": "X", "min_mood": 0.8, "max_mood": 0.2}})
    assert any("min_mood (0.8) is above max_mood (0.2)" in p for p in crossed)
    bad_trend = problems({"x": {"name": "X", "trend": "up"}})
    assert any(p.startswith("segments.x.trend") and "'improving'" in p for p in bad_trend)
    assert problems({"x": {"min_mood": 0.1}}) == ["segments.x.name: Field required"]
    assert problems({"x": {"name": "X", "any": [{"__import__": "os"}]}}) == ["segments.x.any.0.__import__: unknown key"]
    assert any("segment key 'At Risk'" in p for p in problems({"At Risk": {"name": "At risk"}}))


def scores(**overrides: object) -> CustomerScores:
    values: dict = {"activity": 0.5, "mood": 0.5, "service": 1.0, "reach": 0.0, "value": 0.3}
    flags = {"trend": "steady", "tier": "standard", "recovered": False, "unresolved": False, "new_voice": False}
    flags.update({k: v for k, v in overrides.items() if k in flags})
    values.update({k: v for k, v in overrides.items() if k in values})
    return CustomerScores(customer_id=1, flags=flags, breakdown={}, **values)


def test_the_sample_segments_match_what_their_comments_say() -> None:
    segments = load_settings("config.toml").segments
    assert segments_of(scores(), segments) == []
    assert segments_of(scores(trend="improving", activity=0.3), segments) == ["advocates"]
    assert segments_of(scores(trend="improving", activity=0.29), segments) == []  # bounds are inclusive
    assert segments_of(scores(mood=0.7, activity=0.5), segments) == ["advocates"]
    assert segments_of(scores(trend="worsening"), segments) == ["at_risk"]
    assert segments_of(scores(unresolved=True), segments) == ["at_risk"]
    assert segments_of(scores(recovered=True), segments) == ["won_back"]
    assert segments_of(scores(new_voice=True), segments) == ["new_voices"]
    assert segments_of(scores(mood=0.35, activity=0.2), segments) == ["detractors"]
    assert segments_of(scores(mood=0.2, activity=0.1), segments) == []  # detractors must be active
    assert segments_of(scores(mood=0.2, activity=0.6, trend="unknown"), segments) == []  # and have a history
    assert segments_of(scores(tier="vip"), segments) == ["vip"]
    assert segments_of(scores(value=0.8), segments) == ["vip"]


def test_a_list_of_flag_values_matches_any_of_them() -> None:
    segments = load_settings(None, overrides={"segments": {"paying": {"name": "Paying", "tier": ["gold", "vip"]}}})
    assert segments_of(scores(tier="gold"), segments.segments) == ["paying"]
    assert segments_of(scores(tier="standard"), segments.segments) == []


def test_a_rule_naming_a_segment_that_is_not_configured_is_refused() -> None:
    rule = {"name": "save them", "when": {"segment": "at_rsik"}, "then": {"team": "retention"}}
    with pytest.raises(ConfigError, match=r"when.segment names \['at_rsik'\]; configured segments: .*at_risk"):
        load_settings("config.toml", overrides={"responder": {"rules": [rule]}})
    ok = {**rule, "when": {"segment": ["at_risk", "vip"]}}
    assert load_settings("config.toml", overrides={"responder": {"rules": [ok]}}).responder.rules[0].name == "save them"
