"""The weekly report's customer section (won back, newly at risk, top advocates) counted from the
segment history, named by public handle only, in the HTML and the PDF; and a segment's CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, func, select

from dangol.core.settings import Settings
from reports.segments import segment_csv
from reports.weekly import build_weekly, write_weekly
from storage.models import Customer, CustomerScore, CustomerSegment, CustomerSegmentChange
from tests.storage.test_customer_scores import History

W47_START = datetime(2026, 11, 15, 15, 0, tzinfo=UTC)  # Monday 16 Nov 00:00 in Asia/Seoul
W47_END = W47_START + timedelta(days=7)
NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


class Crm(History):
    def person(self, name: str, *, handle: bool = True, reach: float = 0.0, tier: str = "standard") -> Customer:
        customer = self.customer(name, tier=tier)
        customer.email = f"{name.lower().replace(' ', '.')}@example.com"
        if handle:
            self.author(customer)
        self.session.add(CustomerScore(customer_id=customer.id, computed_at=NOW, reach=reach, value=reach))
        return customer

    def change(self, customer: Customer, segment: str, change: str, at: datetime) -> None:
        self.session.add(CustomerSegmentChange(customer_id=customer.id, segment=segment, change=change, at=at))
        if change == "joined":
            self.session.add(CustomerSegment(customer_id=customer.id, segment=segment, since=at))
        else:
            for row in self.session.exec(
                select(CustomerSegment).where(
                    CustomerSegment.customer_id == customer.id, CustomerSegment.segment == segment
                )
            ):
                self.session.delete(row)
        self.session.flush()


def _world(session: Session) -> dict[str, Customer]:
    crm = Crm(session)
    c = {
        name: crm.person(name, handle=name != "Nohandle Cho", reach=reach)
        for name, reach in [
            ("Kim Wonback", 0.1), ("Lee Twice", 0.1), ("Park Lastweek", 0.1), ("Erased Oh", 0.1),
            ("Nohandle Cho", 0.1), ("Adv Wide", 0.9), ("Adv Narrow", 0.2), ("Adv Gone", 0.95),
        ]
    }  # fmt: skip
    day = timedelta(days=1)
    crm.change(c["Kim Wonback"], "won_back", "joined", W47_START + day)
    crm.change(c["Lee Twice"], "at_risk", "joined", W47_START + day)
    crm.change(c["Lee Twice"], "at_risk", "left", W47_START + 2 * day)
    crm.change(c["Lee Twice"], "at_risk", "joined", W47_START + 3 * day)
    crm.change(c["Park Lastweek"], "at_risk", "joined", W47_START - day)
    crm.change(c["Erased Oh"], "won_back", "joined", W47_START + day)
    c["Erased Oh"].erased_at = NOW
    crm.change(c["Nohandle Cho"], "at_risk", "joined", W47_END - timedelta(minutes=1))
    crm.change(c["Adv Wide"], "advocates", "joined", W47_START - 7 * day)
    crm.change(c["Adv Narrow"], "advocates", "joined", W47_START + day)
    crm.change(c["Adv Gone"], "advocates", "joined", W47_START - 7 * day)
    crm.change(c["Adv Gone"], "advocates", "left", W47_START + 2 * day)
    crm.change(c["Adv Narrow"], "at_risk", "joined", W47_END + timedelta(minutes=1))  # the next week
    session.commit()
    return c


def _joined_in_db(session: Session, segment: str) -> int:
    stmt = (
        select(func.count(func.distinct(CustomerSegmentChange.customer_id)))
        .join(Customer, Customer.id == CustomerSegmentChange.customer_id)  # type: ignore[arg-type]
        .where(
            CustomerSegmentChange.segment == segment,
            CustomerSegmentChange.change == "joined",
            CustomerSegmentChange.at >= W47_START,  # type: ignore[operator]
            CustomerSegmentChange.at < W47_END,  # type: ignore[operator]
            Customer.erased_at.is_(None),  # type: ignore[union-attr]
        )
    )
    return session.exec(stmt).one()


def _handle(session: Session, customer: Customer) -> str:
    from storage.customer_scores import public_handles

    return public_handles([customer.id], session=session)[customer.id][0]  # type: ignore[list-item,index]


def test_the_weekly_customer_section_counts_match_the_database_and_name_handles_only(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    c = _world(session)
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    section = report.customers
    assert section is not None and section.won_back and section.newly_at_risk and section.top_advocates
    assert section.won_back.count == _joined_in_db(session, "won_back") == 1
    assert section.won_back.handles == [_handle(session, c["Kim Wonback"])]
    assert section.newly_at_risk.count == _joined_in_db(session, "at_risk") == 2  # Lee once; Cho has no handle
    assert section.newly_at_risk.handles == [_handle(session, c["Lee Twice"])] and section.newly_at_risk.unnamed == 1
    # Advocates at the week's end, widest reach first; the one who left during the week is not one.
    assert section.top_advocates.handles == [_handle(session, c["Adv Wide"]), _handle(session, c["Adv Narrow"])]
    assert (
        section.top_advocates.count
        == session.exec(
            select(func.count()).select_from(CustomerSegment).where(CustomerSegment.segment == "advocates")
        ).one()
    )
    html_path, pdf_path = write_weekly(report, tmp_path / "out")
    html = html_path.read_text(encoding="utf-8")
    assert "<h2>Customers</h2>" in html and "Won back this week" in html
    for name in ("Kim Wonback", "Lee Twice", "Adv Wide"):
        assert _handle(session, c[name]) in html
    for name, customer in c.items():
        assert name not in html and (customer.email or "@example.com") not in html
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(pdf_path).pages)
    assert "Newly at risk this week" in text and _handle(session, c["Lee Twice"]) in text
    assert "Kim Wonback" not in text and "example.com" not in text


def test_an_unconfigured_segment_leaves_its_line_out(session: Session, settings: Settings) -> None:
    _world(session)
    del settings.segments["won_back"]
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    assert report.customers is not None and report.customers.won_back is None
    assert report.customers.newly_at_risk is not None


def test_a_segment_csv_is_formula_safe_and_holds_no_name_email_or_phone(session: Session) -> None:
    crm = Crm(session)
    sly = crm.person("Sly Formula", tier="=HYPERLINK(1)", reach=0.5)
    sly.phone = "+82-10-0000-0000"
    crm.change(sly, "vip", "joined", NOW)
    session.commit()
    text = segment_csv("vip", session=session)
    [row] = list(csv.DictReader(io.StringIO(text)))
    assert row["tier"] == "'=HYPERLINK(1)" and row["customer_id"] == str(sly.id)
    assert row["handles"] == _handle(session, sly) and row["reach"] == "0.500" and row["segments"] == ""
    assert "Sly" not in text and "example.com" not in text and "+82" not in text


def test_erasing_a_customer_named_in_a_written_report_writes_it_again_without_them(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    from reports.erasure import erase_customer
    from storage.models import Staff

    c = _world(session)
    settings.reports.out_dir = str(tmp_path / "reports")
    settings.reports.feeds_dir = str(tmp_path / "feeds")
    report = build_weekly(session=session, settings=settings, week="2026-W47", now=NOW)
    html_path, _ = write_weekly(report, settings.reports.out_dir)
    kim = _handle(session, c["Kim Wonback"])
    assert kim in html_path.read_text(encoding="utf-8")
    admin = Staff(username="ann", display_name="Ann", role="admin", password_hash="x")
    session.add(admin)
    session.flush()
    erase_customer(c["Kim Wonback"].id or 0, session=session, settings=settings, actor=admin)
    session.commit()
    page = html_path.read_text(encoding="utf-8")
    assert kim not in page and 'Won back this week</td><td class="n">0<' in page.replace("\n", "").replace("  ", "")
