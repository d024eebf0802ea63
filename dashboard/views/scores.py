"""A customer's scores, their breakdown, segments and segment history: shown on the Item page's
customer panel and on the Customers page."""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from dangol.core.customer_scores import SCORES
from dashboard.context import Ctx, read
from dashboard.safe import md
from storage.customer_scores import score_of, segment_history
from storage.models import CustomerScore, CustomerSegmentChange


def render_scores(ctx: Ctx, customer_id: int) -> None:
    """Segments, the five scores with how each was made up, when they were computed, and the
    segment joins and leaves so far."""
    score, history = read(ctx, lambda s: _load(s, customer_id))
    names = {key: segment.name for key, segment in ctx.settings.segments.items()}
    if score is None:
        every = ctx.settings.worker.customer_scores_every_hours
        when = f"every {every} h" if every else "when `dangol customers score` runs (the job is off)"
        st.caption(f"No scores yet: they are computed {md(when)}; `dangol customers score` computes them now.")
        return
    segments = " · ".join(f"**{md(names.get(key, key))}**" for key in score.segments) or "none"
    st.markdown(f"Segments: {segments} · mood trend {md(score.trend)}")
    st.caption(f"Scores computed {score.computed_at:%Y-%m-%d %H:%M} UTC; each is the sum of its parts' contributions")
    st.dataframe(scores_table(score), hide_index=True)
    if history:
        st.caption(
            "Segment history (newest first): "
            + ", ".join(f"{c.at:%Y-%m-%d} {md(c.change)} {md(names.get(c.segment, c.segment))}" for c in history)
        )


def _load(session: Any, customer_id: int) -> tuple[CustomerScore | None, list[CustomerSegmentChange]]:
    return score_of(customer_id, session=session), segment_history(customer_id, session=session, limit=10)


def scores_table(score: CustomerScore) -> pd.DataFrame:
    """One row per score: its value, each part as value × weight = contribution, and the inputs."""
    rows = []
    for name in SCORES:
        breakdown = (score.breakdown or {}).get(name) or {}
        parts = breakdown.get("parts") or {}
        rows.append(
            {
                "score": name,
                "value": round(float(getattr(score, name)), 2),
                "parts": "; ".join(
                    f"{part} {p['value']:.2f} × {p['weight']} = {p['contribution']:.2f}" for part, p in parts.items()
                ),
                "from": _inputs(breakdown.get("inputs") or {}),
            }
        )
    return pd.DataFrame(rows)


def _inputs(inputs: dict[str, Any]) -> str:
    shown = []
    for key, value in inputs.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k}: {_inputs(v) if isinstance(v, dict) else v}" for k, v in value.items())
            shown.append(f"{key} ({inner})")
        else:
            shown.append(f"{key}: {'n/a' if value is None else value}")
    return "; ".join(shown)
