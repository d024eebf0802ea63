"""Small worker loops over the real pipeline functions, run as subprocesses the tests can SIGKILL.

python tests/reliability/driver.py analyze CONFIG DELAY   # analyze with the fake analyzer
python tests/reliability/driver.py send CONFIG REPLY_ID    # deliver one approved reply
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlmodel import Session

from dangol import pipeline
from dangol.core.settings import load_settings
from storage.engine import make_engine
from tests.reliability.conftest import FakeAnalyzer


def main(command: str, config: str, arg: str) -> None:
    settings = load_settings(Path(config))
    engine = make_engine(settings.database.url)
    if command == "analyze":
        pipeline.analyze(settings, engine, analyzer=FakeAnalyzer(delay=float(arg)))
    elif command == "send":
        from responder.sending import deliver

        with Session(engine) as session:
            deliver(int(arg), actor="system:driver", session=session, settings=settings)
    else:
        raise SystemExit(f"unknown command {command!r}; expected analyze or send")


if __name__ == "__main__":
    main(*sys.argv[1:4])
