"""Retraining heads from public data plus staff corrections; a worse head is never kept."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from dangol.cli import app
from dangol.core.errors import ConfigError
from dangol.sentiment_training import feedback_rows
from nlp.base import encoders
from nlp.sentiment import SentimentHead, head_path
from nlp.train import (
    MIN_JUDGE_ROWS,
    MIN_RULE_ROWS,
    Dataset,
    choose_complaint_rule,
    default_encode,
    evaluate_head,
    retrain,
    split_holdout,
    train_language,
    validation_set,
)
from storage.models import Analysis, Author, LabelFeedback, Post
from tests.conftest import DATA
from tests.labelled_text import first_rows, write_first_rows


def small_nsmc(folder: Path, train_rows: int, val_rows: int = 400) -> Path:
    """A data folder holding the first rows of the vendored NSMC train (600 rows) and val (400)."""
    for split, n in (("train", train_rows), ("val", val_rows)):
        write_first_rows(DATA / "nsmc" / f"{split}.tsv", folder / "nsmc" / f"{split}.tsv", n)
    return folder


def head_config(tmp_path: Path) -> Path:
    """A config file with the sentiment heads in tmp_path/heads and the database in tmp_path."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/t.db"\n'
        f'[nlp.sentiment]\nuse = "head"\nheads_dir = "{tmp_path / "heads"}"\n'
    )
    return config


FEEDBACK = [("이 카페 커피 정말 최고예요", "positive", "ko"), ("직원이 너무 불친절해요 다신 안가", "negative", "ko")]


def test_a_head_worse_than_the_shipped_one_is_not_kept(tmp_path: Path) -> None:
    data = small_nsmc(tmp_path / "data", train_rows=300)
    heads = tmp_path / "heads"
    [result] = retrain(FEEDBACK, heads, ["ko"], data_dir=data)
    assert result.after["accuracy"] < result.before["accuracy"]
    assert not result.kept
    assert not (heads / "sentiment-ko.npz").exists()


def test_a_better_head_replaces_the_current_one_and_learns_from_feedback(tmp_path: Path) -> None:
    weak_data = small_nsmc(tmp_path / "weak", train_rows=60)
    heads = tmp_path / "heads"
    weak, _ = train_language("ko", data_dir=weak_data)
    weak.save(heads / "sentiment-ko.npz")
    data = small_nsmc(tmp_path / "data", train_rows=600)
    [result] = retrain(FEEDBACK + [("great coffee", "positive", "en")], heads, ["ko"], data_dir=data)
    assert result.kept and result.feedback_rows == 2
    assert result.after["accuracy"] > result.before["accuracy"]
    kept = SentimentHead.load(head_path("ko", heads))
    assert kept.meta["trained"]["train_rows"] == 600 + 200 + 2  # half of the 400 validation rows join training


def add_post(session: Session, n: int, text: str, hint: str | None = None) -> Post:
    author = Author(platform="x", platform_id=f"a{n}", handle=f"h{n}")
    session.add(author)
    session.flush()
    now = datetime(2026, 11, 20, tzinfo=UTC)
    post = Post(
        platform="x",
        external_id=f"p{n}",
        author_id=author.id,
        text=text,
        lang_hint=hint,
        created_at=now,
        collected_at=now,
    )
    session.add(post)
    session.flush()
    return post


def test_feedback_rows_keep_the_latest_sentiment_correction_per_post(session: Session) -> None:
    first = add_post(session, 1, "배달이 늦었지만 괜찮아요")
    second = add_post(session, 2, "ok", hint="fr")
    session.add(Analysis(post_id=first.id, language="ko", sentiment="negative"))
    session.add(LabelFeedback(post_id=first.id, kind="sentiment", old_value="negative", new_value="neutral"))
    session.add(LabelFeedback(post_id=first.id, kind="sentiment", old_value="neutral", new_value="positive"))
    session.add(LabelFeedback(post_id=second.id, kind="sentiment", new_value="negative"))
    session.add(LabelFeedback(post_id=second.id, kind="topic", new_value="billing"))
    session.commit()
    rows = sorted(feedback_rows(session))
    assert rows == [("ok", "negative", "fr"), ("배달이 늦었지만 괜찮아요", "positive", "ko")]


def test_retrain_command_prints_before_and_after_and_keeps_heads_in_the_configured_folder(tmp_path: Path) -> None:
    data = small_nsmc(tmp_path / "data", train_rows=300)
    config = head_config(tmp_path)
    result = CliRunner().invoke(app, ["--config", str(config), "nlp", "retrain", "-l", "ko", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith("ko: accuracy ") and "with 0 added rows: discarded" in line


class RecordingEncoder:
    """Registered as `[nlp.encoder] use = "recording"`: a vector per text from its hash, and a record
    of every text it was given."""

    version = "recording:recording-test"
    dim = 384
    blind_languages: frozenset[str] = frozenset()
    read: list[str] = []

    @classmethod
    def from_settings(cls, settings: object) -> RecordingEncoder:
        return cls()

    def encode(self, texts: list[str]) -> np.ndarray:
        RecordingEncoder.read.extend(texts)
        seeds = [int.from_bytes(hashlib.sha1(t.encode()).digest()[:8], "little") for t in texts]
        rows = np.array([np.random.default_rng(seed).standard_normal(self.dim) for seed in seeds], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_retrain_command_encodes_with_the_configured_encoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # It ran the default int8 ONNX encoder whatever [nlp.encoder] use said.
    monkeypatch.setattr("nlp.train.CACHE", tmp_path / "cache")
    monkeypatch.setattr(RecordingEncoder, "read", [])
    encoders.register("recording", RecordingEncoder)
    data = small_nsmc(tmp_path / "data", train_rows=60)
    config = head_config(tmp_path)
    config.write_text(config.read_text() + '[nlp.encoder]\nuse = "recording"\n')
    args = ["--config", str(config), "nlp", "retrain", "-l", "ko", "--data-dir", str(data)]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    # It read the training rows and the 400 validation rows (half of which join training).
    assert len(set(RecordingEncoder.read)) >= 400
    assert SentimentHead.load(tmp_path / "new" / "sentiment-ko.npz").meta["encoder"] == "recording-test"


def test_retrain_command_refuses_an_unknown_language(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/t.db"\n')
    result = CliRunner().invoke(app, ["--config", str(config), "nlp", "retrain", "-l", "xx"])
    assert result.exit_code == 1
    assert "valid: en, ko" in result.output


def test_training_entry_point_refuses_unknown_targets() -> None:
    from nlp.train import main

    with pytest.raises(SystemExit):
        main(["sentiment-fr"])


def test_split_holdout_is_seeded_disjoint_and_stratified_by_language_and_label() -> None:
    rows = [(f"t{i}", "negative" if i % 3 else "positive", "ko" if i % 2 else "en") for i in range(200)]
    train, holdout = split_holdout(rows)
    assert (train, holdout) == split_holdout(rows)
    assert sorted(train + holdout) == sorted(rows)
    for language in ("en", "ko"):
        for label in ("negative", "positive"):
            group = [r for r in rows if r[1:] == (label, language)]
            held = [r for r in holdout if r[1:] == (label, language)]
            assert len(held) == round(len(group) * 0.2)


def test_retrain_with_own_labelled_posts_holds_a_fifth_out_and_learns_from_the_rest(tmp_path: Path) -> None:
    data = small_nsmc(tmp_path / "data", train_rows=300)
    own = tmp_path / "own.csv"
    rows = first_rows(DATA / "nsmc" / "train.tsv", 600)[300:]  # the rows `data` does not hold
    with own.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["text", "label"])
        writer.writerows([r["document"], r["label"]] for r in rows)
    heads = tmp_path / "heads"
    weak, _ = train_language("ko", data_dir=small_nsmc(tmp_path / "weak", train_rows=60))
    weak.save(heads / "sentiment-ko.npz")
    config = head_config(tmp_path)
    args = ["--config", str(config), "nlp", "retrain", "-l", "ko", "--data-dir", str(data), "--data", str(own)]
    result = CliRunner().invoke(app, [*args, "--labels", "negative,positive"])
    assert result.exit_code == 0, result.output
    line, rule = result.stdout.strip().splitlines()[-2:]
    korean = int(line.split(" with ")[1].split()[0])
    held = int(line.split(", ")[-1].split()[0])
    assert 270 <= korean + held <= 300 and held == pytest.approx((korean + held) / 5, abs=2)
    kept = SentimentHead.load(head_path("ko", heads))
    assert kept.meta["trained"]["train_rows"] == 300 + 200 + korean
    assert kept.meta["trained"]["val_rows"] == 200 + held
    # Too few held-out posts to judge the complaint rule by: the head keeps it, and says why.
    assert held < MIN_RULE_ROWS
    assert kept.complaint_rule and kept.meta["complaint_rule_scores"]["rows"] == held
    assert rule == (
        f"ko: complaints that read neutral count as negative (only {held} held-out posts: too few to judge "
        f"that rule by; {MIN_RULE_ROWS} needed)"
    )


def test_heldout_rows_are_the_validation_rows_the_recipe_never_trains_on(tmp_path: Path) -> None:
    from nlp import train as recipe

    train, val = recipe.public_split("ko", DATA)
    kote = recipe.kote_split(DATA)
    out = tmp_path / "heldout.tsv"
    assert recipe.main(["heldout-ko", "--out", str(out), "--data-dir", str(DATA)]) == 0
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert [(r["text"], r["label"]) for r in rows] == list(zip(val.texts, val.labels, strict=True))
    polar = {"train": 0, "val": 0}
    for part in polar:
        polar[part] = sum(label != "neutral" for label in kote[part].labels)
    assert min(polar.values()) > 0 and kote["test"].texts
    assert len(rows) == 200 + polar["val"] and len(train.texts) == 600 + 200 + polar["train"]
    # The KOTE test fifth is in neither (but for comments KOTE itself holds twice, or that NSMC also
    # holds): it is the never-seen Korean set beyond movie reviews.
    nsmc = [*recipe.load_public("nsmc", "train", DATA).texts, *recipe.load_public("nsmc", "val", DATA).texts]
    elsewhere = [*kote["train"].texts, *kote["val"].texts, *nsmc]
    seen_twice = {t for t in kote["test"].texts if t in set(elsewhere)}
    assert not (set(kote["test"].texts) - seen_twice) & (set(train.texts) | {r["text"] for r in rows})


def test_a_missing_public_data_file_is_named_with_the_data_dir_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nlp.train import load_public, main

    with pytest.raises(ConfigError, match=r"nsmc/val\.tsv.*--data-dir"):
        load_public("nsmc", "val", tmp_path)
    assert main(["heldout-ko", "--out", str(tmp_path / "x.tsv"), "--data-dir", str(tmp_path)]) == 2
    assert "nsmc" in capsys.readouterr().err


def test_retrain_command_names_the_missing_file_and_data_dir_without_a_traceback(tmp_path: Path) -> None:
    data = small_nsmc(tmp_path / "data", train_rows=60)
    (data / "nsmc" / "val.tsv").unlink()
    config = head_config(tmp_path)
    result = CliRunner().invoke(app, ["--config", str(config), "nlp", "retrain", "-l", "ko", "--data-dir", str(data)])
    assert result.exit_code == 2
    assert str(data / "nsmc" / "val.tsv") in result.output and "--data-dir" in result.output
    assert "Traceback" not in result.output


def test_retrain_command_without_the_default_data_folder_asks_for_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clone with no data folder beside it: the default folder does not exist.
    monkeypatch.setattr("nlp.train.DATA", tmp_path / "absent" / "data")
    config = head_config(tmp_path)
    result = CliRunner().invoke(app, ["--config", str(config), "nlp", "retrain", "-l", "ko"])
    assert result.exit_code == 1
    assert f"public training data not found in {tmp_path / 'absent' / 'data'}" in result.output
    assert "--data-dir" in result.output and "Traceback" not in result.output


def _fixed_reading(probs: list[dict[str, float]], intents: list[str]) -> Callable[..., Any]:
    def read(head: SentimentHead, texts: list[str]) -> tuple[list[dict[str, float]], list[str]]:
        assert len(texts) == len(probs)
        return probs, intents

    return read


CALM = {"negative": 0.3, "neutral": 0.5, "positive": 0.2}
ANGRY = {"negative": 0.8, "neutral": 0.1, "positive": 0.1}
GLAD = {"negative": 0.1, "neutral": 0.2, "positive": 0.7}


def _judge(labels: list[str]) -> Dataset:
    return Dataset([f"post {i}" for i in range(len(labels))], labels, ["en"] * len(labels))


@pytest.fixture
def small_judges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Judge the complaint rule on a handful of posts (the real minimum is MIN_RULE_ROWS)."""
    monkeypatch.setattr("nlp.train.MIN_RULE_ROWS", 1)


@pytest.mark.usefixtures("small_judges")
def test_the_complaint_rule_stays_on_where_the_brand_labels_calm_complaints_negative(tmp_path: Path) -> None:
    head, _ = train_language("ko", data_dir=small_nsmc(tmp_path / "data", train_rows=60))
    version = head.version
    read = _fixed_reading([CALM, CALM, ANGRY, GLAD, CALM], ["complaint", "complaint", "complaint", "praise", "other"])
    labels = ["negative", "negative", "negative", "positive", "neutral"]
    choice = choose_complaint_rule(head, _judge(labels), read, "accuracy")
    assert choice == {"metric": "accuracy", "rows": 5, "on": 1.0, "off": 0.6, "rule": True}
    assert head.complaint_rule and head.meta["complaint_rule"] is True
    assert head.version != version and head.meta["version"] == head.version  # another head now


@pytest.mark.usefixtures("small_judges")
def test_the_complaint_rule_goes_off_where_the_brand_labels_calm_complaints_neutral(tmp_path: Path) -> None:
    head, _ = train_language("ko", data_dir=small_nsmc(tmp_path / "data", train_rows=60))
    read = _fixed_reading([CALM, CALM, ANGRY, GLAD], ["complaint", "complaint", "complaint", "praise"])
    labels = ["neutral", "neutral", "negative", "positive"]
    choice = choose_complaint_rule(head, _judge(labels), read, "macro_recall")
    assert choice["rule"] is False and choice["off"] == 1.0 and choice["on"] < 1.0
    assert not head.complaint_rule
    path = tmp_path / "sentiment-ko.npz"
    head.save(path)
    assert not SentimentHead.load(path).complaint_rule


@pytest.mark.usefixtures("small_judges")
def test_a_tie_keeps_the_rule_and_posts_that_are_no_complaint_never_count(tmp_path: Path) -> None:
    head, _ = train_language("ko", data_dir=small_nsmc(tmp_path / "data", train_rows=60))
    # Calm posts that are questions: the rule does not touch them, so both ways score the same.
    read = _fixed_reading([CALM, CALM], ["question", "question"])
    choice = choose_complaint_rule(head, _judge(["neutral", "negative"]), read, "accuracy")
    assert choice["on"] == choice["off"] == 0.5 and choice["rule"] is True


def test_a_candidate_head_is_served_only_inside_the_block(tmp_path: Path) -> None:
    from nlp.sentiment import HeadSentimentClassifier

    classifier = HeadSentimentClassifier(tmp_path / "none")
    shipped = classifier.heads["ko"]
    candidate, _ = train_language("ko", data_dir=small_nsmc(tmp_path / "data", train_rows=60))
    with classifier.serving(candidate):
        assert classifier.head_for("ko") is candidate
    assert classifier.head_for("ko") is shipped
    french = SentimentHead({**candidate.meta, "language": "fr"}, candidate.arrays)
    with pytest.raises(RuntimeError), classifier.serving(french):
        assert classifier.head_for("fr") is french
        raise RuntimeError("judging failed")
    assert "fr" not in classifier.heads


def test_too_few_held_out_posts_keep_the_rule_without_reading_them(tmp_path: Path) -> None:
    head, _ = train_language("ko", data_dir=small_nsmc(tmp_path / "data", train_rows=60))

    def unread(head: SentimentHead, texts: list[str]) -> Any:
        raise AssertionError("the pipeline was asked to read posts too few to judge by")

    labels = ["neutral"] * (MIN_RULE_ROWS - 1)
    choice = choose_complaint_rule(head, _judge(labels), unread, "accuracy")
    assert choice == {"metric": "accuracy", "rows": MIN_RULE_ROWS - 1, "on": None, "off": None, "rule": True}
    assert head.complaint_rule


def _corrections(per_class: int) -> list[tuple[str, str, str]]:
    """NSMC reviews that `small_nsmc(…, 300)` does not hold, `per_class` of each label, as staff corrections."""
    rows = first_rows(DATA / "nsmc" / "train.tsv", 700)[300:]
    corrections = [(r["document"], "positive" if r["label"] == "1" else "negative", "ko") for r in rows]
    negative = [c for c in corrections if c[1] == "negative"][:per_class]
    return negative + [c for c in corrections if c[1] == "positive"][:per_class]


def test_staff_corrections_alone_are_held_out_and_judge_the_new_head(tmp_path: Path) -> None:
    # 25 corrections per class, no --data: a fifth of them (5 + 5) judges, not public validation.
    data = small_nsmc(tmp_path / "data", train_rows=300)
    feedback = _corrections(25)
    [result] = retrain(feedback, tmp_path / "heads", ["ko"], data_dir=data, out=tmp_path / "new")
    assert result.holdout_rows == MIN_JUDGE_ROWS == 10 and result.feedback_rows == 40
    held = split_holdout(feedback)[1]
    new_head = SentimentHead.load(tmp_path / "new" / "sentiment-ko.npz")
    judged_alone = evaluate_head(new_head, _rows_dataset(held), default_encode())
    assert result.after["accuracy"] == pytest.approx(judged_alone["accuracy"])


def test_too_few_held_out_corrections_train_and_public_data_judges(tmp_path: Path) -> None:
    # 20 per class hold out 8: too few to judge by, so all 40 train and public validation judges.
    data = small_nsmc(tmp_path / "data", train_rows=300)
    [result] = retrain(_corrections(20), tmp_path / "heads", ["ko"], data_dir=data, out=tmp_path / "new")
    assert result.holdout_rows == 0 and result.feedback_rows == 40 and result.complaint_rule is None
    new_head = SentimentHead.load(tmp_path / "new" / "sentiment-ko.npz")
    public = validation_set("ko", [], data)
    assert result.after["accuracy"] == pytest.approx(evaluate_head(new_head, public, default_encode())["accuracy"])
    assert new_head.meta["trained"]["train_rows"] == 300 + 200 + 40


def _rows_dataset(rows: list[tuple[str, str, str]]) -> Dataset:
    return Dataset([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
