"""Write the demo data: `python -m bench.demo_data.generate [--seed N] [--out DIR]`.

Regenerates every platform folder, customers.csv and expectations.json from the seeded plan,
so the same seed always gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from bench.demo_data.payloads import Renderer
from bench.demo_data.plan import BURST_END, BURST_START, END, START, Plan, build_plan
from dangol.demo_data import BRAND_DIRS, DEMO_DATA, PLATFORM_DIRS

SEED = 20261122
CSV_COLUMNS = [
    "external_ref",
    "name",
    "email",
    "phone",
    "tier",
    "x_handle",
    "reddit_handle",
    "mastodon_handle",
    "bluesky_handle",
    "naver_id",
    "order_numbers",
]


def generate(out: Path = DEMO_DATA, seed: int = SEED) -> dict[str, Any]:
    """Write every demo file under `out` and return the expectations written."""
    plan = build_plan(seed)
    files = Renderer(plan, seed).render()
    for platform in (*PLATFORM_DIRS, *BRAND_DIRS):
        folder = out / platform
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, body in sorted(files.get(platform, {}).items()):
            (folder / name).write_bytes(body)
    (out / "customers.csv").write_text(customers_csv(plan), encoding="utf-8")
    expected = expectations(plan, seed)
    (out / "expectations.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return expected


def customers_csv(plan: Plan) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in plan.customers:
        handles = [c.handles.get(p, "") for p in ("x", "reddit", "mastodon", "bluesky", "naver")]
        writer.writerow([c.external_ref, c.name, c.email, c.phone, c.tier, *handles, ";".join(c.orders)])
    return buffer.getvalue()


def expectations(plan: Plan, seed: int) -> dict[str, Any]:
    """What the pipeline should find, derived from the plan (never typed by hand)."""
    posts = {}
    for post in plan.posts:
        head = post.head
        posts[post.key] = {
            "platform": post.platform,
            "external_id": post.external_id,
            "file": post.file,
            "created_at": post.created_at.isoformat().replace("+00:00", "Z"),
            "author": post.persona.handle if post.persona else None,
            "kind": post.kind,
            "language": post.language,
            "sentiment": post.sentiment,
            "topic": post.topic,
            "should_queue": post.should_queue,
            "queue_item_of": head.key if post.should_queue else None,
            "cluster_of": post.cluster_of.key if post.cluster_of else None,
            "quote_of": post.quote_of.key if post.quote_of else None,
            "reply_to": post.reply_to.key if post.reply_to else None,
            "customer": post.customer,
            "link_method": post.link_method,
            "link_applied": post.link_method == "handle" if post.link_method else None,
            "in_burst": post.in_burst,
            "brand": post.brand,
        }
        if post.platform in ("appstore", "googleplay") and post.kind != "own":
            # The stored post keeps its first time; its text and stars are the edited ones.
            posts[post.key] |= {
                "rating": post.rating,
                "app_version": post.app_version,
                "answered": post.answered,
                "edited_at": _z(post.edited_at) if post.edited_at else None,
            }
    burst = [p for p in plan.posts if p.in_burst]
    queued = [p for p in plan.posts if p.should_queue]
    return {
        "generated_by": "python -m bench.demo_data.generate",
        "seed": seed,
        "window": {"start": _z(START), "end": _z(END)},
        "burst": {
            "start": _z(BURST_START),
            "end": _z(BURST_END),
            "topic": "app",
            "posts": len(burst),
            "keys": [p.key for p in burst],
            "expected_alerts": 1,
        },
        "counts": {
            "posts": len(plan.posts),
            "customers": len(plan.customers),
            "by_platform": dict(sorted(Counter(p.platform for p in plan.posts).items())),
            "by_language": dict(sorted(Counter(p.language for p in plan.posts).items())),
            "by_kind": dict(sorted(Counter(p.kind for p in plan.posts).items())),
            "by_topic": dict(sorted(Counter(p.topic for p in plan.posts if p.kind == "complaint").items())),
            "should_queue": len(queued),
            "queue_items": len({p.head.key for p in queued}),
            "linked_posts": dict(sorted(Counter(p.link_method for p in plan.posts if p.link_method).items())),
            "linked_customers_applied": len({p.customer for p in plan.posts if p.link_method == "handle"}),
            "dead_letters": len(plan.dead_letters),
            "by_brand": dict(sorted(Counter(p.brand for p in plan.posts).items())),
        },
        "dead_letters": plan.dead_letters,
        "posts": posts,
    }


def _z(moment: Any) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=DEMO_DATA)
    args = parser.parse_args()
    expected = generate(args.out, args.seed)
    counts = expected["counts"]
    print(  # noqa: T201 - this is a command-line script
        f"wrote {counts['posts']} posts ({counts['dead_letters']} dead letters), "
        f"{counts['customers']} customers, burst of {expected['burst']['posts']} to {args.out}"
    )


if __name__ == "__main__":
    main()
