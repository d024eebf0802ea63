"""Profile one benchmark piece with pyinstrument (what BENCHMARKS.md "Profiles" quotes):

python -m bench.profile collect --pages 100 [--platform appstore]
python -m bench.profile analyze --posts 1000
python -m bench.profile api --url postgresql://postgres@127.0.0.1:5432/bench_1000000 --requests 200
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from bench import pieces
from dangol.core.settings import load_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("piece", choices=("collect", "analyze", "api"))
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--platform", choices=pieces.REPLAY_PLATFORMS, default=pieces.REPLAY_PLATFORM)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--url", help="database for collect (default: a temporary SQLite file); required for api")
    parser.add_argument("--requests", type=int, default=200, help="API queue pages to profile")
    parser.add_argument("--config", type=Path, default=Path("config.toml"))
    args = parser.parse_args(argv)
    from pyinstrument import Profiler

    with tempfile.TemporaryDirectory(prefix="dangol-profile-") as workdir:
        profiler = Profiler()
        if args.piece == "collect":
            pages = Path(workdir) / "pages"
            pieces.write_replay_pages(pages, args.pages, platform=args.platform)
            url = pieces.fresh_database(args.url) if args.url else f"sqlite:///{workdir}/profile.db"
            with profiler:
                result = pieces.collect_throughput(args.config, url, pages, args.platform)
        elif args.piece == "api":
            from bench.http_api import profile_queue_page

            result = profile_queue_page(args.url, args.config, args.requests, profiler)
        else:
            settings = load_settings(args.config)
            with profiler:
                result = pieces.pipeline_throughput(settings, args.posts)
    sys.stdout.write(profiler.output_text(unicode=False, color=False, show_all=False) + f"\n{result}\n")


if __name__ == "__main__":
    main()
