"""Whole-configuration checks for `dangol config check` and worker start.

Settings validate their own shape when loaded; these checks need the stage registries: every
`use = "…"` names a known implementation, each implementation's options are valid, queries
parse, and enabled sources have their secrets.
"""

from __future__ import annotations

from dangol.core.errors import ConfigError
from dangol.core.registry import parse_options
from dangol.core.settings import NlpSettings, Settings


def check_settings(settings: Settings) -> list[str]:
    """Every problem found, one readable line each; empty when the configuration is usable."""
    problems: list[str] = []
    problems += _check_sources(settings)
    problems += _check_nlp(settings.nlp)
    problems += _check_teams(settings)
    return problems


def _collect_problems(check: object, *args: object) -> list[str]:
    try:
        check(*args)  # type: ignore[operator]
    except ConfigError as exc:
        return list(exc.problems)
    return []


def _check_sources(settings: Settings) -> list[str]:
    from listener.base import build_collector, collectors
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
            # Building the collector is what checks required secrets; it makes no request.
            found += _collect_problems(build_collector, name, settings.sources)
        problems += found
    return problems


def _check_nlp(nlp: NlpSettings) -> list[str]:
    from nlp.base import classifiers, encoders

    return _collect_problems(encoders.check_name, nlp.encoder.use) + _collect_problems(
        classifiers.check_name, nlp.sentiment.use
    )


def _check_teams(settings: Settings) -> list[str]:
    """Topics and routing rules must name teams that exist: a team is made by giving it staff
    (`dangol staff add --team`). Checked against the database once it has staff; before that, or
    when the database cannot be read, there is nothing to check against."""
    from pathlib import Path

    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from dangol.core.errors import DangolError
    from storage.engine import make_engine
    from storage.staff import has_staff, staffed_team_keys

    wanted: dict[str, list[str]] = {}
    for key, topic in settings.topic_catalog.topics.items():
        wanted.setdefault(topic.team, []).append(f"topics.{key}.team")
    for rule in settings.responder.rules:
        team = rule.then.get("team")
        if isinstance(team, str):
            wanted.setdefault(team, []).append(f"responder.rules[{rule.name!r}].then.team")
    url = settings.database.url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return []  # no database yet (and checking must not create one)
    try:
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                if not has_staff(session=session):
                    return []
                staffed = staffed_team_keys(session=session)
        finally:
            engine.dispose()
    except (SQLAlchemyError, DangolError):
        return []
    return [
        f"{where}: team {team!r} has no staff (teams with staff: {', '.join(sorted(staffed)) or 'none'})"
        for team, places in sorted(wanted.items())
        if team not in staffed
        for where in places
    ]
