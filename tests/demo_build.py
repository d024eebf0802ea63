"""The demo built as `make demo` builds it (posts moved by whole weeks to end within the last week,
the report jobs run once), into a temporary folder with its report and feed files beside the
database. Built once per test run; a test that changes it works on a copy (`copy_demo`)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import Session, create_engine, select
from streamlit.testing.v1 import AppTest

from dangol.core.settings import Settings, load_settings
from dangol.core.types import utcnow
from dangol.demo import build_demo, demo_settings, weeks_since_demo_data
from storage.models import Staff

REPO = Path(__file__).resolve().parent.parent
_BUILT: list[BuiltDemo] = []


@dataclass(frozen=True)
class BuiltDemo:
    """A demo folder: `demo.db`, the written `reports/` and `feeds/`, and a `config.toml` for the dashboard."""

    folder: Path
    settings: Settings
    shift_weeks: int
    logins: dict[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Path:
        return self.folder / "config.toml"

    @property
    def outputs(self) -> list[Path]:
        """The folders Dangol writes files into."""
        return [Path(self.settings.reports.out_dir), Path(self.settings.reports.feeds_dir)]


def folder_settings(folder: Path, shift_weeks: int) -> Settings:
    """The demo's settings with the database and the output folders inside `folder`."""
    settings = demo_settings(REPO / "config.toml", folder / "demo.db", shift_weeks=shift_weeks)
    reports = settings.reports.model_copy(
        update={"out_dir": str(folder / "reports"), "feeds_dir": str(folder / "feeds")}
    )
    return settings.model_copy(update={"reports": reports})


def write_config(folder: Path) -> Path:
    """config.toml for the dashboard: the repository's, with this folder's database and output folders."""
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    for default, ours in (
        ('url = "sqlite:///var/dangol.db"', f'url = "sqlite:///{folder}/demo.db"'),
        ('out_dir = "var/reports"', f'out_dir = "{folder}/reports"'),
        ('feeds_dir = "var/feeds"', f'feeds_dir = "{folder}/feeds"'),
    ):
        assert default in text, f"config.toml no longer has {default!r}; update tests/demo_build.py"
        text = text.replace(default, ours)
    path = folder / "config.toml"
    path.write_text(text, encoding="utf-8")
    assert load_settings(path).reports.feeds_dir == f"{folder}/feeds"
    return path


def built_demo(tmp_path_factory: pytest.TempPathFactory) -> BuiltDemo:
    """The demo of this test run, built on first use (about a minute with the real model)."""
    if not _BUILT:
        folder = tmp_path_factory.mktemp("demo-build")
        shift = weeks_since_demo_data(utcnow())
        summary, engine = build_demo(folder_settings(folder, shift))
        with engine.connect() as conn:  # everything in demo.db itself, so copying the file copies it all
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        write_config(folder)
        _BUILT.append(BuiltDemo(folder, folder_settings(folder, shift), shift, summary.logins))
    return _BUILT[0]


def dashboard_page(
    demo: BuiltDemo, username: str, page: str, monkeypatch: pytest.MonkeyPatch, **state: object
) -> AppTest:
    """The dashboard on the demo's database, run once, logged in as `username`, on `page`."""
    monkeypatch.setenv("DANGOL_CONFIG", str(demo.config))
    engine = create_engine(demo.settings.database.url)
    with Session(engine) as session:
        staff_id = session.exec(select(Staff.id).where(Staff.username == username)).one()
    engine.dispose()
    at = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=120)
    for key, value in {"staff_id": staff_id, "last_activity": utcnow(), "page": page, **state}.items():
        at.session_state[key] = value
    return at.run()


def copy_demo(demo: BuiltDemo, folder: Path) -> BuiltDemo:
    """A private copy of the demo (database and written files) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(demo.folder / "demo.db", folder / "demo.db")
    for name in ("reports", "feeds"):
        shutil.copytree(demo.folder / name, folder / name)
    write_config(folder)
    return BuiltDemo(folder, folder_settings(folder, demo.shift_weeks), demo.shift_weeks, demo.logins)
