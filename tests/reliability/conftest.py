"""Helpers of the reliability tests: configs for subprocess workers, a fast fake analyzer, polling."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from dangol.core.types import ClusterMember
from nlp.base import PostText, Understanding
from storage.models import Analysis, Post
from tests.conftest import REPO

PYTHON = sys.executable


class FakeAnalyzer:
    """The Analyzer interface without a model: the subject of these tests is claiming, not NLP.

    Topic edits and a retrained head reach it as they reach the Analyzer (`use_taxonomy`,
    `reload_head_if_changed`), and change nothing.

    Complaints are posts saying "never came"; each post is its own cluster, so routing queues
    every complaint once. `delay` seconds per batch let a test kill a worker mid-run.
    """

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.seen: list[int] = []
        self.taxonomy_stamp: object = None

    def reload_head_if_changed(self) -> bool:
        return False  # no topic head to reload: topics here are fixed by `_one`

    def use_taxonomy(self, taxonomy: object, stamp: object = None) -> None:
        self.taxonomy_stamp = stamp  # remembered, as the Analyzer does; `_one` ignores topics

    def analyze(self, posts: list[PostText], recent: list[ClusterMember]) -> list[Understanding]:
        time.sleep(self.delay)
        self.seen.extend(p.post_id for p in posts)
        return [self._one(p) for p in posts]

    @staticmethod
    def _one(post: PostText) -> Understanding:
        complaint = "never came" in post.text
        return Understanding(
            post_id=post.post_id,
            language="en",
            sentiment="negative" if complaint else "neutral",
            sentiment_probs={"negative": 0.9 if complaint else 0.1},
            topics={"delivery": 0.9} if complaint else {},
            primary_topic="delivery" if complaint else "other",
            is_complaint=complaint,
            is_question=False,
            is_spam=False,
            risk=0.5 if complaint else 0.0,
            risk_breakdown={},
            embedding=np.ones(8, dtype=np.float32),
            text_hash=hashlib.sha1(post.text.encode()).hexdigest(),
            cluster_key=f"post-{post.post_id}",
            model_versions={"fake": "1"},
        )


def write_config(path: Path, url: str, sources: dict[str, dict[str, Any]] | None = None, extra: str = "") -> Path:
    """A minimal config.toml: the database, the given sources (name → options) and `extra` TOML."""
    lines = ["[database]", f'url = "{url}"', ""]
    for name, options in (sources or {}).items():
        lines.append(f"[sources.{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in options.items()]
        lines.append("")
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dangol(config: Path, *args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen:
    """Start the real CLI (`python -m dangol.cli --config CONFIG ARGS…`) as a subprocess."""
    command = [PYTHON, "-m", "dangol.cli", "--config", str(config), *args]
    return subprocess.Popen(command, cwd=REPO, env=_env(env), **kwargs)


def driver(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen:
    """Start tests/reliability/driver.py (small worker loops over the real pipeline functions)."""
    return subprocess.Popen([PYTHON, str(Path(__file__).with_name("driver.py")), *args], cwd=REPO,
                            env=_env(env), **kwargs)  # fmt: skip


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return {**env, **(extra or {})}


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, every: float = 0.02) -> None:
    """Poll `condition` until it holds; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def post_counts(engine: Engine) -> tuple[int, int, int]:
    """(posts stored, distinct external ids, analyses)."""
    with engine.connect() as conn:
        posts = conn.execute(select(func.count()).select_from(Post)).scalar_one()
        distinct = conn.execute(select(func.count(func.distinct(Post.external_id)))).scalar_one()
        analyses = conn.execute(select(func.count()).select_from(Analysis)).scalar_one()
    return posts, distinct, analyses
