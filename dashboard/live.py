"""Parts of a page that redraw themselves: Streamlit fragments on `[dashboard] refresh_seconds`.

Only the fragment runs again on its timer: the rest of the page (filters, the reply box, what the
person is typing or has scrolled to) is left as it is. A fragment's own rerun skips main(), so
each fragment body starts with `dashboard.context.live_actor`, which checks the login again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st

from dashboard.context import Ctx

F = TypeVar("F", bound=Callable[..., Any])


def live(ctx: Ctx, body: F) -> F:
    """`body` as a fragment that reruns every refresh_seconds; with 0, only on its own widgets."""
    seconds = ctx.settings.dashboard.refresh_seconds
    return st.fragment(body, run_every=seconds or None)
