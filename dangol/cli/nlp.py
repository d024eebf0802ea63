"""NLP commands: `dangol eval sentiment`, `dangol nlp export-onnx`, `dangol nlp retrain`.

`eval_app` is shared: other modules add their own `eval` commands to it (e.g. `eval topics`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from dangol.cli.context import fail, friendly_errors, literal, state

if TYPE_CHECKING:
    from dangol.core.settings import Settings

eval_app = typer.Typer(help="Score models on labelled data sets (JSON on the last line).", no_args_is_help=True)
nlp_app = typer.Typer(help="Models: ONNX export, retraining from staff feedback.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the `eval` and `nlp` command groups to `app`."""
    app.add_typer(eval_app, name="eval")
    app.add_typer(nlp_app, name="nlp")


def eval_settings(ctx: typer.Context) -> Settings:
    """The invocation's settings; without any config file the built-in defaults (offline models)."""
    from dangol.core.settings import DEFAULT_CONFIG, load_settings

    app_state = state(ctx)
    if app_state.config_path == DEFAULT_CONFIG and not DEFAULT_CONFIG.exists():
        return load_settings(None)
    return app_state.settings


@eval_app.command("sentiment")
@friendly_errors
def eval_sentiment(
    ctx: typer.Context,
    data: Path = typer.Option(..., "--data", help="CSV or TSV file (by extension) with a header row."),
    text_col: str = typer.Option(..., "--text-col", help="Column holding the post text."),
    label_col: str = typer.Option(..., "--label-col", help="Column holding negative/neutral/positive."),
    labels: str = typer.Option(
        None, "--labels", help="Words for integer labels, in order: --labels negative,positive maps 0 and 1."
    ),
    models: Path = typer.Option(
        None,
        "--models",
        help="Score with the sentiment heads in this folder (e.g. written by `dangol nlp retrain --out`); "
        "languages without a head there use the active ones.",
    ),
) -> None:
    """Score the sentiment the pipeline stores (language id, encoder, heads, intent); metrics as JSON last."""
    from tqdm import tqdm

    from nlp.analyzer import Analyzer
    from nlp.evaluate import evaluate_sentiment, pipeline_predictor, read_labelled

    settings = eval_settings(ctx)
    if models is not None:
        if not any(models.glob("sentiment-*.npz")):
            raise fail(f"--models {models}: no sentiment-<language>.npz heads there")
        settings = with_heads_dir(settings, models)
    words = [w.strip() for w in labels.split(",")] if labels else None
    dataset = read_labelled(data, text_col, label_col, words)
    analyzer = Analyzer.from_settings(settings)
    with tqdm(total=len(dataset.texts), desc="sentiment", unit="post", file=None, disable=None) as bar:
        result = evaluate_sentiment(dataset, pipeline_predictor(analyzer), settings.nlp.batch_size, progress=bar.update)
    result["encoder"], result["classifier"] = analyzer.encoder.version, analyzer.sentiment.version
    typer.echo(json.dumps(result))


def with_heads_dir(settings: Settings, folder: Path) -> Settings:
    """`settings` with the sentiment heads read from `folder` first."""
    # heads_dir is an option of the implementation (an extra field): rebuilt, not model_copy'd.
    current = settings.nlp.sentiment
    sentiment = type(current)(**{**current.model_dump(), "heads_dir": str(folder)})
    nlp = settings.nlp.model_copy(update={"sentiment": sentiment})
    return settings.model_copy(update={"nlp": nlp})


@eval_app.command("demo")
@friendly_errors
def eval_demo() -> None:
    """Score the database's labels and queue against the demo's expectations (run `dangol demo` first)."""
    from dangol.demo import DEMO_DB
    from dangol.demo_data import EXPECTATIONS
    from dangol.demo_eval import score_demo
    from storage.engine import make_engine

    if not DEMO_DB.exists():
        raise fail(f"no demo database at {DEMO_DB}; build it with `dangol demo --no-serve` first")
    typer.echo(json.dumps(score_demo(make_engine(f"sqlite:///{DEMO_DB}"), EXPECTATIONS)))


@nlp_app.command("export-onnx")
@friendly_errors
def export_onnx_command(
    ctx: typer.Context,
    out: Path = typer.Option(None, "--out", help=literal("Folder to write (default: [nlp.encoder] onnx_dir).")),
) -> None:
    """Export the encoder to ONNX, quantize it to int8 and check cosine >= 0.98 to fp32."""
    from nlp.encoders.base import encoder_options
    from nlp.encoders.onnx_int8 import export_onnx

    opts = encoder_options(eval_settings(ctx))
    folder = out or Path(opts.onnx_dir)
    info = export_onnx(folder, opts.model)
    typer.echo(f"exported {opts.model} to {folder} (min cosine to fp32 {info['min_cosine']:.4f})")
    typer.echo(json.dumps(info))


@nlp_app.command(
    "build-static",
    help=literal("Build the fast profile's static token table from the encoder (once; [nlp.encoder] static_dir)."),
)
@friendly_errors
def build_static_command(ctx: typer.Context) -> None:
    from nlp.encoders.base import encoder_options
    from nlp.encoders.static import StaticEncoder, ensure_static

    opts = encoder_options(eval_settings(ctx))
    folder = ensure_static(Path(opts.static_dir), opts.model)
    typer.echo(f"static table of {opts.model} in {folder}: {StaticEncoder(folder).version}")


@nlp_app.command("retrain")
@friendly_errors
def retrain_command(
    ctx: typer.Context,
    language: list[str] = typer.Option(["en", "ko"], "--language", "-l", help="Heads to retrain (en, ko)."),
    data_dir: Path = typer.Option(
        None,
        "--data-dir",
        help="Folder of the public training data, not part of the repository: tweeteval-sentiment/ and nsmc/ "
        "(kote/ too, when present) (default: ../shared/data beside the repository).",
    ),
    data: Path = typer.Option(
        None, "--data", help="The brand's own labelled posts (CSV/TSV) to adapt to; a fifth is held out to judge."
    ),
    text_col: str = typer.Option("text", "--text-col", help="With --data: the column holding the post text."),
    label_col: str = typer.Option("label", "--label-col", help="With --data: the column holding the label."),
    labels: str = typer.Option(None, "--labels", help="With --data: words for integer labels, in order."),
    out: Path = typer.Option(
        None,
        "--out",
        help="Write the new heads to this folder (judge them with `dangol eval sentiment --models`) "
        "instead of replacing the active ones.",
    ),
) -> None:
    """Retrain sentiment heads on public data plus staff corrections (and --data); keep each only if not worse."""
    from dangol.sentiment_training import cannot_retrain, retrain_sentiment
    from nlp.train import CONFIGS

    settings = state(ctx).settings
    bad = [lang for lang in language if lang not in CONFIGS]
    if bad:
        raise fail(f"no training recipe for {', '.join(bad)}; valid: {', '.join(CONFIGS)}")
    problem = cannot_retrain(settings, data_dir)
    if problem:
        raise fail(problem)
    feedback = sentiment_feedback(settings)
    typer.echo(f"{len(feedback)} sentiment corrections from staff", err=True)
    domain = own_labelled_posts(data, text_col, label_col, labels) if data else []
    for result in retrain_sentiment(settings, feedback, language, data_dir=data_dir, domain=domain, out=out):
        if out is not None:
            better = "not worse than" if result.kept else "worse than"
            verdict = f"written to {result.path} ({better} the active head; the active head is unchanged)"
        else:
            verdict = "kept" if result.kept else "discarded (worse than the current head)"
        judged = "on the held-out posts" if result.holdout_rows else "on public validation data"
        held_out = f", {result.holdout_rows} of them held out to judge" if result.holdout_rows else ""
        typer.echo(
            f"{result.language}: {result.metric} {judged} {result.before[result.metric]:.4f} -> "
            f"{result.after[result.metric]:.4f} with {result.feedback_rows} added rows{held_out}: {verdict}"
        )
        if result.complaint_rule is not None:
            typer.echo(f"{result.language}: {complaint_rule_line(result.complaint_rule)}")


def complaint_rule_line(choice: dict[str, Any]) -> str:
    """What the held-out posts said about counting a complaint's neutral share as negative."""
    from nlp.train import MIN_RULE_ROWS

    metric, on, off = choice["metric"], choice["on"], choice["off"]
    if on is None:
        return (
            f"complaints that read neutral count as negative (only {choice['rows']} held-out posts: too "
            f"few to judge that rule by; {MIN_RULE_ROWS} needed)"
        )
    if choice["rule"]:
        return (
            f"complaints that read neutral count as negative (held-out {metric} {on:.4f} that way, "
            f"{off:.4f} leaving them neutral)"
        )
    return (
        f"complaints that read neutral stay neutral, as your labelled posts have them (held-out {metric} "
        f"{off:.4f} that way, {on:.4f} counting them negative)"
    )


def own_labelled_posts(path: Path, text_col: str, label_col: str, labels: str | None) -> list[tuple[str, str, str]]:
    """(text, label, language) rows of a labelled CSV/TSV; the language is detected per post."""
    from nlp.evaluate import read_labelled
    from nlp.langid import detect_languages

    words = [w.strip() for w in labels.split(",")] if labels else None
    dataset = read_labelled(path, text_col, label_col, words)
    languages = detect_languages(dataset.texts, [None] * len(dataset.texts))
    typer.echo(f"{len(dataset.texts)} labelled posts from {path}", err=True)
    return list(zip(dataset.texts, dataset.labels, languages, strict=True))


def sentiment_feedback(settings: Settings) -> list[tuple[str, str, str]]:
    """Staff sentiment corrections in the configured database, as (text, label, language)."""
    from sqlmodel import Session

    from dangol.sentiment_training import feedback_rows
    from storage.engine import make_engine
    from storage.migrate import upgrade

    engine = make_engine(settings.database.url)
    upgrade(engine)
    try:
        with Session(engine) as session:
            return feedback_rows(session)
    finally:
        engine.dispose()
