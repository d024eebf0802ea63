"""Share of voice and net sentiment per brand per week, and where competitors' customers complain.

Share of voice is counted over the posts about each brand ([brands], tagged at ingest: see
dangol.core.brands) that are customer voice: live, not written by the own brand's accounts, not
spam. Two shares are given: of mentions (posts; a post about two brands counts once for each) and
reach-weighted, where a post weighs its reach as everywhere in the reports: the author's followers
plus the post's engagement (likes, reposts, replies … as the platform reported them). Net
sentiment is (positive − negative) / analyzed posts about the brand, as for the own brand.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from dangol.core.brands import BrandCatalog
from reports.period import Week
from storage import read_models as q


@dataclass(frozen=True, slots=True)
class BrandRow:
    """One brand in one week."""

    week: str
    brand: str  # the [brands] key
    name: str
    own: bool
    mentions: int
    reach: int
    positive: int
    negative: int
    analyzed: int
    mention_share: float | None  # of all brands' mentions that week
    reach_share: float | None  # of all brands' reach that week

    @property
    def net(self) -> float | None:
        return (self.positive - self.negative) / self.analyzed if self.analyzed else None


@dataclass(frozen=True, slots=True)
class ComplaintRow:
    """Complaints about one competitor on one topic in the week."""

    brand: str
    name: str
    topic: str
    topic_name: str
    complaints: int
    negative: int
    posts: int


def share_of_voice(*, session: Session, brands: BrandCatalog, weeks: list[Week]) -> list[BrandRow]:
    """A row per configured brand per week (oldest week first, own brand first), zeros included."""
    found = q.brand_voice_by_window(
        session=session, windows=[(w.label, w.start, w.end) for w in weeks], own_brand=brands.own.key
    )
    by = {(v.window, v.brand): v for v in found}
    rows = []
    for week in weeks:
        # Tags of brands no longer configured still count in the totals: they were voice that week.
        mentions = sum(v.mentions for v in found if v.window == week.label)
        reach = sum(v.reach for v in found if v.window == week.label)
        for brand in brands.brands:
            v = by.get((week.label, brand.key)) or q.BrandVoice(week.label, brand.key, 0, 0, 0, 0, 0)
            rows.append(
                BrandRow(
                    week=week.label,
                    brand=brand.key,
                    name=brand.name,
                    own=brand.own,
                    mentions=v.mentions,
                    reach=v.reach,
                    positive=v.positive,
                    negative=v.negative,
                    analyzed=v.analyzed,
                    mention_share=v.mentions / mentions if mentions else None,
                    reach_share=v.reach / reach if reach else None,
                )
            )
    return rows


def competitor_complaints(
    *, session: Session, brands: BrandCatalog, week: Week, topic_names: dict[str, str]
) -> list[ComplaintRow]:
    """Per competitor and topic, the week's complaints and negative posts about competitors only."""
    names = brands.names
    return [
        ComplaintRow(r.brand, names.get(r.brand, r.brand), r.topic, topic_names.get(r.topic, r.topic), r.complaints,
                     r.negative, r.posts)
        for r in q.competitor_complaints_by_topic(
            session=session, since=week.start, until=week.end, own_brand=brands.own.key
        )
    ]  # fmt: skip
