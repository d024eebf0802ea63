"""Implementations chosen by name from config (`use = "reddit"`).

Built-ins are an explicit table of dotted paths, imported only when chosen, so a deployment
that never enables X never imports tweepy. Third-party packages add implementations through
the entry-point group named by the registry (`dangol.collectors`, ...).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from dangol.core.errors import ConfigError
from dangol.core.settings import env_name, is_placeholder


class Options(BaseModel):
    """Base for an implementation's own options: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid")


class Registry:
    """Names → implementations for one role (collector, encoder, classifier, sender)."""

    def __init__(self, role: str, builtins: dict[str, Any], group: str) -> None:
        self.role = role
        self._builtins = dict(builtins)
        self._group = group

    def register(self, name: str, implementation: Any) -> None:
        """Add an implementation at run time (embedding Dangol, or a test's fake)."""
        self._builtins[name] = implementation

    def builtins(self) -> dict[str, Any]:
        """The implementations that ship with Dangol: name → "module:attribute" (or the object)."""
        return dict(self._builtins)

    def names(self) -> list[str]:
        """Every name that `use` accepts, built-in and installed plug-ins."""
        plugins = {ep.name for ep in entry_points(group=self._group)}
        return sorted(set(self._builtins) | plugins)

    def get(self, name: str) -> Any:
        """The implementation registered as `name`, imported now; ConfigError lists the valid names."""
        if name in self._builtins:
            target = self._builtins[name]
            if not isinstance(target, str):
                return target
            module_name, _, attr = target.partition(":")
            return getattr(importlib.import_module(module_name), attr)
        for ep in entry_points(group=self._group):
            if ep.name == name:
                return ep.load()
        raise ConfigError(f"unknown {self.role} {name!r}; valid: {', '.join(self.names())}")

    def check_name(self, name: str) -> None:
        """Raise ConfigError if `name` is not registered, without importing anything heavy."""
        if name not in self.names():
            raise ConfigError(f"unknown {self.role} {name!r}; valid: {', '.join(self.names())}")


def parse_options(options_cls: type[Options], raw: dict[str, Any], where: str) -> Any:
    """Validate an implementation's options, naming the config table in every problem. A secret
    left at a placeholder ("changeme", "<your token>") is refused here, for every implementation,
    naming the environment variable that sets it."""
    try:
        parsed = options_cls(**raw)
    except ValidationError as exc:
        problems = []
        valid = ", ".join(options_cls.model_fields)
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            if err["type"] == "extra_forbidden":
                problems.append(f"{where}.{key}: unknown key; valid: {valid}")
            else:
                problems.append(f"{where}.{key}: {err['msg']}")
        raise ConfigError(problems[0], problems) from exc
    for key in options_cls.model_fields:
        if is_placeholder(getattr(parsed, key)):
            raise ConfigError(f"{where}.{key} is a placeholder; set {env_name(f'{where}.{key}')} to the real value")
    return parsed


def required_secret(options: Options, key: str, where: str, why: str) -> str:
    """The value of a secret option the implementation cannot work without; ConfigError naming the
    environment variable that sets it when it is missing. `why` says who needs it and where to get it."""
    secret = getattr(options, key)
    if not isinstance(secret, SecretStr):
        raise ConfigError(f"{where}: {why}; set {env_name(f'{where}.{key}')}")
    return secret.get_secret_value()
