"""Sources page: health, throttling, read budgets, last errors, and the dead letters."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dangol.core.types import utcnow
from dashboard.context import Ctx, read
from dashboard.safe import readable_payload, short
from dashboard.times import utc_minute
from listener.base import source_billing
from storage.models import Staff
from storage.sources import dead_letters, describe_usage, sources_health, usage


def render(ctx: Ctx, actor: Staff) -> None:
    """One row per source, then the newest dead letters."""
    st.header("Sources")
    now = utcnow()
    rows = []
    for s in read(ctx, lambda session: sources_health(session=session)):
        billing = source_billing(s.name, ctx.settings.sources) if s.name in ctx.settings.sources else None
        throttled = s.throttled_until is not None and s.throttled_until > now
        rows.append(
            {
                "source": s.name,
                "use": s.use,
                "health": "failing" if s.consecutive_failures else ("throttled" if throttled else "ok"),
                "posts": s.posts_collected,
                "last ok": utc_minute(s.last_ok_at),
                "failures in a row": s.consecutive_failures,
                "budget": describe_usage(billing, usage(s, billing)) if billing else "-",
                "last error": short(s.last_error or "", 200),
            }
        )
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    else:
        st.info("No source has run yet.")
    st.subheader("Dead letters")
    letters = read(ctx, lambda session: dead_letters(session=session))
    if not letters:
        st.caption("None.")
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "when": utc_minute(d.created_at),
                    "source": d.source_name,
                    "platform": d.platform,
                    "reason": short(d.reason, 200),
                }
                for d in letters
            ]
        ),
        hide_index=True,
    )
    # Named as the table names them (the row id alone means nothing to a person).
    names = {d.id: f"{d.created_at:%Y-%m-%d %H:%M} · {d.source_name} · {short(d.reason, 80)}" for d in letters}
    chosen = st.selectbox("Show raw payload of", list(names), format_func=names.__getitem__, key="dead_letter")
    raw = next(d.raw for d in letters if d.id == chosen)
    shown, language = readable_payload(raw)
    st.code(shown[:20_000], language=language)
