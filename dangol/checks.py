"""Whole-configuration checks for `dangol config check` and worker start.

Settings validate their own shape when loaded; these checks need the stage registries: every
`use = "…"` names a known implementation, each implementation's options are valid, queries
parse, and enabled sources have their secrets.
"""

from __future__ import annotations

from dangol.errors import ConfigError
from dangol.registry import parse_options
from dangol.settings import Settings


def check_settings(settings: Settings) -> list[str]:
    """Every problem found, one readable line each; empty when the configuration is usable."""
    problems: list[str] = []
    problems += _check_sources(settings)
    problems += _check_nlp(settings)
    return problems


def _collect_problems(check: object, *args: object) -> list[str]:
    try:
        check(*args)  # type: ignore[operator]
    except ConfigError as exc:
        return list(exc.problems)
    return []


def _check_sources(settings: Settings) -> list[str]:
    from listener.base import collectors
    from listener.query import validate_query

    problems: list[str] = []
    for name, source in settings.sources.items():
        where = f"sources.{name}"
        try:
            factory = collectors.get(source.use)
        except ConfigError as exc:
            problems.append(f"{where}.use: {exc}")
            continue
        found = _collect_problems(parse_options, factory.Options, source.options(), where)
        if source.query:
            found += [f"{where}.query: {p}" for p in _collect_problems(validate_query, source.query)]
        if source.enabled and not found:
            # Building the collector is what checks secrets; it makes no request.
            found += _collect_problems(factory.from_settings, name, source, settings)
        problems += found
    return problems


def _check_nlp(settings: Settings) -> list[str]:
    from nlp.base import classifiers, encoders

    return _collect_problems(encoders.check_name, settings.nlp.encoder.use) + _collect_problems(
        classifiers.check_name, settings.nlp.sentiment.use
    )
