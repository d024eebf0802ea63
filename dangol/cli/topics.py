"""Topic commands: `dangol eval topics`, `dangol topics propose`, `dangol topics train`."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import typer
from sqlmodel import Session

from dangol.cli.context import friendly_errors, state

topics_app = typer.Typer(help="Complaint topics: propose new ones, train the few-shot head.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `topics` and the `eval topics` command (on the NLP area's `eval` sub-app when it exists)."""
    from dangol.cli import nlp as nlp_cli

    app.add_typer(topics_app, name="topics")
    eval_app = getattr(nlp_cli, "eval_app", None)
    if eval_app is None:
        eval_app = typer.Typer(help="Evaluate models on labelled data.", no_args_is_help=True)
        app.add_typer(eval_app, name="eval")
    eval_app.command("topics")(eval_topics)


@friendly_errors
def eval_topics(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", help="Labelled CSV or TSV file (by extension)."),
    text_col: str = typer.Option(..., "--text-col", help="Column with the post text."),
    label_col: str = typer.Option(..., "--label-col", help="Column with the topic name; empty rows are skipped."),
    taxonomy: Path = typer.Option(..., "--taxonomy", help="TOML taxonomy file (topics.<key> tables)."),
    train: Path | None = typer.Option(None, "--train", help="Labelled training file (same columns): few-shot."),
) -> None:
    """Score topic classification on labelled data; the last line is JSON with n, accuracy, macro_f1."""
    from nlp.encoders import build_encoder
    from nlp.taxonomy import load_taxonomy
    from nlp.topic_eval import evaluate_topics, read_labelled

    topics = load_taxonomy(taxonomy)
    test_rows = read_labelled(data, text_col, label_col, topics)
    train_rows = read_labelled(train, text_col, label_col, topics) if train else None
    encoder = build_encoder(state(ctx).settings)
    result = evaluate_topics(topics, encoder, test_rows, train_rows)
    for key, scores in result.pop("per_topic").items():
        typer.echo(
            f"{key:<24} precision {scores['precision']:.3f}  recall {scores['recall']:.3f}  f1 {scores['f1']:.3f}"
        )
    typer.echo(json.dumps(result))


@topics_app.command("propose")
@friendly_errors
def propose(
    ctx: typer.Context,
    days: int = typer.Option(7, "--days", min=1, help="Look at complaints of this many past days."),
    min_size: int = typer.Option(5, "--min-size", min=2, help="Smallest cluster worth proposing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """Propose new topics from recent complaints that fit no topic ("other")."""
    from dangol.core.types import utcnow
    from nlp.topics import propose_topics
    from storage.analyses import uncategorized_complaints

    with Session(state(ctx).engine) as session:
        rows = uncategorized_complaints(session=session, since=utcnow() - timedelta(days=days))
    if not rows:
        typer.echo(f"no uncategorized complaints in the last {days} days")
        return
    texts = [text for _, text, _ in rows]
    proposals = propose_topics(texts, np.stack([vector for _, _, vector in rows]), min_size=min_size)
    if as_json:
        payload = [
            {"name": p.name, "size": p.size, "terms": p.terms, "representatives": p.representatives,
             "post_ids": [rows[i][0] for i in p.members], "cohesion": p.cohesion}
            for p in proposals
        ]  # fmt: skip
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{len(rows)} uncategorized complaints in the last {days} days, {len(proposals)} proposed topics")
    if not proposals:
        typer.echo(f"no group of {min_size} or more alike among them to propose as a topic (--min-size, --days)")
    for p in proposals:
        typer.echo(f"\n{p.name}  ({p.size} posts, cohesion {p.cohesion:.2f})\n  terms: {', '.join(p.terms)}")
        for text in p.representatives:
            typer.echo(f"  - {text[:140]}")


@topics_app.command("train")
@friendly_errors
def train(
    ctx: typer.Context,
    data: Path | None = typer.Option(None, "--data", help="Optional labelled CSV/TSV with topic names."),
    text_col: str = typer.Option("text", "--text-col"),
    label_col: str = typer.Option("topic", "--label-col"),
    out: Path | None = typer.Option(
        None, "--out", help="Where to write the head (default var/models/topics/head.npz)."
    ),
) -> None:
    """Train the few-shot topic head from a labelled file and staff topic corrections; keep it if not worse."""
    from dangol.pipeline import current_taxonomy, train_topics
    from nlp.topic_eval import read_labelled

    settings, engine = state(ctx).settings, state(ctx).engine
    examples = []
    if data:
        with Session(engine) as session:
            examples = read_labelled(data, text_col, label_col, current_taxonomy(settings.topic_catalog, session))
    typer.echo(str(train_topics(settings, engine, examples=examples, head_path=out)))
