import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from dangol.core.types import utcnow
from nlp.risk import score_risk
from storage.migrate import alembic_config, current_revision, upgrade
from storage.models import Analysis, Author, Post, QueueItem


def test_migrations_produce_exactly_the_tables_of_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []


def test_upgrade_twice_is_harmless(engine: Engine) -> None:
    upgrade(engine)
    assert current_revision(engine) is not None


def test_stored_risks_are_scored_again_as_a_product(engine: Engine, session: Session) -> None:
    # A risk of the weighted-sum era (0.4 × negativity + 0.2 × reach + 0.15 × value + 0.25 × words).
    old = {
        "negativity": {"value": 0.9, "weight": 0.4, "contribution": 0.36},
        "reach": {"value": 0.5, "weight": 0.2, "contribution": 0.1, "followers": 999, "engagement": 0},
        "customer_value": {"value": 0.7, "weight": 0.15, "contribution": 0.105, "tier": "gold"},
        "signal_words": {"value": 0.6, "weight": 0.25, "contribution": 0.15, "words": ["refund"]},
    }
    now = utcnow()
    author = Author(platform="x", platform_id="1", handle="gold_customer", last_seen_at=now)
    session.add(author)
    session.flush()
    post = Post(
        platform="x", external_id="1", author_id=author.id, text="I want a refund", created_at=now, collected_at=now
    )
    session.add(post)
    session.flush()
    session.add(Analysis(post_id=post.id, language="en", sentiment="negative", risk=0.715, risk_breakdown=old))
    item = QueueItem(post_id=post.id, cluster_key="c", created_at=now, routing={"risk": 0.715, "rules": []})
    session.add(item)
    session.commit()
    with engine.begin() as connection:
        config = alembic_config(engine)
        config.attributes["connection"] = connection
        command.downgrade(config, "0009")
    upgrade(engine)
    session.expire_all()
    analysis = session.exec(select(Analysis).where(Analysis.post_id == item.post_id)).one()
    expected = score_risk("I want a refund", negative=0.9, followers=999, customer_tier="gold")
    assert analysis.risk == pytest.approx(expected.score, abs=1e-3)
    assert analysis.risk_breakdown["urgency"]["words"] == ["refund"]
    assert analysis.risk_breakdown["reach"]["audience"] == 999
    routing = session.get(QueueItem, item.id).routing  # type: ignore[union-attr]
    assert routing["risk"] == analysis.risk and routing["cluster"] == analysis.risk_breakdown
    assert routing["rules"] == []
