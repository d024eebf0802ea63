"""Risk becomes negativity × reach × customer value × urgency (dangol/core/risk.py), on a new scale.

Stored risks were a weighted sum; their breakdowns keep each factor's value, so each is scored again
with the product and the thresholds of the new scale compare like with like. Queue items take their
lead post's new risk. Priorities stay as routing (or staff) set them.

The formula is written out here as it stood in this revision, so that later changes to
dangol/core/risk.py do not change what this migration did.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLOORS = {"negativity": 0.0, "reach": 0.5, "customer_value": 0.6, "urgency": 0.6}
BATCH = 1000

analysis = sa.table(
    "analysis", sa.column("id", sa.Integer), sa.column("post_id", sa.Integer),
    sa.column("risk", sa.Float), sa.column("risk_breakdown", sa.JSON),
)  # fmt: skip
queue_item = sa.table(
    "queueitem", sa.column("id", sa.Integer), sa.column("post_id", sa.Integer), sa.column("routing", sa.JSON)
)


def _value(parts: Any) -> float:
    return float(parts.get("value") or 0.0) if isinstance(parts, dict) else 0.0


def rescored(old: dict[str, Any]) -> tuple[float, dict[str, Any]] | None:
    """The product risk and breakdown from a weighted-sum breakdown; None when it is not one."""
    if not isinstance(old, dict) or "signal_words" not in old:
        return None
    reach = old.get("reach") if isinstance(old.get("reach"), dict) else {}
    values = {
        "negativity": _value(old.get("negativity")),
        "reach": _value(reach),
        "customer_value": _value(old.get("customer_value")),
        "urgency": _value(old.get("signal_words")),
    }
    score, breakdown = 1.0, {}
    for name, floor in FLOORS.items():
        value = min(max(values[name], 0.0), 1.0)
        multiplier = floor + (1.0 - floor) * value
        score *= multiplier
        breakdown[name] = {"value": round(value, 4), "floor": floor, "multiplier": round(multiplier, 4)}
    followers, engagement = reach.get("followers"), reach.get("engagement") or 0
    # The audience behind the reach value (followers + 10 × engagement), recovered from it.
    audience = round(10 ** (values["reach"] * 6.0) - 1)
    breakdown["reach"].update({"followers": followers, "engagement": engagement, "audience": max(audience, 0)})
    breakdown["urgency"]["words"] = list((old.get("signal_words") or {}).get("words") or [])
    breakdown["customer_value"]["tier"] = (old.get("customer_value") or {}).get("tier", "none")
    return round(score, 4), breakdown


def upgrade() -> None:
    bind = op.get_bind()
    new_risk: dict[int, tuple[float, dict[str, Any]]] = {}
    last = 0
    while rows := bind.execute(
        sa.select(analysis.c.id, analysis.c.post_id, analysis.c.risk_breakdown)
        .where(analysis.c.id > last).order_by(analysis.c.id).limit(BATCH)
    ).all():  # fmt: skip
        for row in rows:
            found = rescored(row.risk_breakdown)
            if found is not None:
                new_risk[row.post_id] = found
                bind.execute(
                    analysis.update().where(analysis.c.id == row.id).values(risk=found[0], risk_breakdown=found[1])
                )
        last = rows[-1].id
    for item in bind.execute(sa.select(queue_item.c.id, queue_item.c.post_id, queue_item.c.routing)).all():
        if item.post_id in new_risk:
            score, breakdown = new_risk[item.post_id]
            routing = dict(item.routing or {}, risk=score, cluster=breakdown)
            bind.execute(queue_item.update().where(queue_item.c.id == item.id).values(routing=routing))


def downgrade() -> None:
    # The weighted sum cannot be recovered exactly from the product's breakdown, and both scales
    # order posts alike; the new scores stay.
    pass
