"""`dangol eval topics`: reads CSV/TSV, skips unlabelled rows, prints JSON metrics on its last line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dangol.cli import app
from nlp.taxonomy import load_taxonomy
from nlp.topic_eval import macro_scores, read_labelled
from tests.conftest import REPO
from tests.labelled_text import demo_halves, write_described_taxonomy, write_topic_rows
from tests.nlp.test_topics_taxonomy import AIRLINE


def write_rows(path: Path, rows: list[dict[str, str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(REPO / "config.toml"), "eval", "topics", *args])
    return result.exit_code, result.output


def test_macro_scores_are_computed_over_the_gold_labels() -> None:
    scores = macro_scores(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b", "c"])
    assert scores["n"] == 4 and scores["accuracy"] == 0.75
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2, abs=1e-4)
    assert set(scores["per_topic"]) == {"a", "b"}


def test_tsv_files_are_read_by_extension(tmp_path: Path) -> None:
    path = write_rows(tmp_path / "d.tsv", [{"text": "bag lost", "reason": "Lost Luggage"}, {"text": "x", "reason": ""}],
                      delimiter="\t")  # fmt: skip
    assert read_labelled(path, "text", "reason", load_taxonomy(AIRLINE)) == [("bag lost", "lost_luggage")]


@pytest.mark.parametrize(
    ("name", "rows", "args", "message"),
    [
        ("d.json", [{"text": "t", "reason": "Late Flight"}], [], "give a .csv or .tsv"),
        ("d.csv", [{"text": "t", "reason": "Late Flight"}], ["--label-col", "why"], "no column 'why'"),
        ("d.csv", [{"text": "t", "reason": "Weather"}], [], "match no topic name"),
        ("d.csv", [{"text": "t", "reason": ""}], [], "no rows with a label"),
    ],
)
def test_bad_input_is_reported_without_a_traceback(
    tmp_path: Path, name: str, rows: list[dict[str, str]], args: list[str], message: str
) -> None:
    data = write_rows(tmp_path / name, rows)
    base = ["--data", str(data), "--text-col", "text", "--label-col", "reason", "--taxonomy", str(AIRLINE)]
    code, output = run(*base, *args)
    assert code == 2
    assert message in output and "Traceback" not in output


def test_missing_taxonomy_is_reported(tmp_path: Path) -> None:
    data = write_rows(tmp_path / "d.csv", [{"text": "t", "reason": "Late Flight"}])
    code, output = run("--data", str(data), "--text-col", "text", "--label-col", "reason", "--taxonomy", "nope.toml")
    assert code == 2 and "taxonomy file not found" in output


@pytest.mark.slow
def test_zero_and_few_shot_runs_print_json_metrics_last(tmp_path: Path) -> None:
    train_posts, test_posts = demo_halves()
    test = write_topic_rows(tmp_path / "test.csv", test_posts)
    train = write_topic_rows(tmp_path / "train.csv", train_posts)
    taxonomy = write_described_taxonomy(tmp_path / "topics.toml")
    base = ["--data", str(test), "--text-col", "text", "--label-col", "topic", "--taxonomy", str(taxonomy)]
    results = []
    for extra in ([], ["--train", str(train)]):
        code, output = run(*base, *extra)
        assert code == 0, output
        results.append(json.loads(output.strip().splitlines()[-1]))
    labelled = sum(1 for p in test_posts if p.topic)
    assert 0 < labelled < len(test_posts)  # posts without a topic are in the file, and skipped
    assert [r["n"] for r in results] == [labelled, labelled]
    assert [r["mode"] for r in results] == ["zero-shot", "few-shot"]
    assert all(0 < r["macro_f1"] <= r["accuracy"] + 0.5 and 0 < r["accuracy"] <= 1 for r in results)
    assert results[1]["accuracy"] > results[0]["accuracy"]
