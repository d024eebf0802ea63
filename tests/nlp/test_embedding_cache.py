"""The training embedding cache (var/cache): one file set per encoder and per cut length."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nlp import train


class CountingEncoder:
    """Encodes each text as [its length, cut length]; counts the texts it was asked for."""

    version = "onnx-int8:fake-model"

    def __init__(self, max_length: int, quantization: str | None = None) -> None:
        self.max_length = max_length
        self.quantization = quantization
        self.encoded: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.encoded.extend(texts)
        return np.array([[len(t), self.max_length] for t in texts], dtype=np.float32)


def test_vectors_of_another_cut_length_are_never_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(train, "CACHE", tmp_path)
    monkeypatch.setattr(train, "_VECTORS", {})
    long_cut, short_cut = CountingEncoder(128), CountingEncoder(64)
    texts = ["a long review whose point comes late", "short"]
    assert train.cached_embeddings(texts, long_cut.encode, "t")[:, 1].tolist() == [128, 128]
    assert train.cached_embeddings(texts, short_cut.encode, "t")[:, 1].tolist() == [64, 64]
    assert short_cut.encoded == texts  # nothing of the 128-token run was taken
    again = CountingEncoder(64)
    assert train.cached_embeddings(texts, again.encode, "t")[:, 1].tolist() == [64, 64]
    assert again.encoded == []  # the same encoder and length: read from the cache


def test_vectors_of_an_export_quantized_another_way_are_never_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train, "CACHE", tmp_path)
    monkeypatch.setattr(train, "_VECTORS", {})
    texts = ["my latte was cold", "배달이 늦어요"]
    earlier = CountingEncoder(64, "feed-forward outputs fp32: every block")
    train.cached_embeddings(texts, earlier.encode, "t")
    today = CountingEncoder(64, "feed-forward outputs fp32: block 0, 4, 5")
    train.cached_embeddings(texts, today.encode, "t")
    assert today.encoded == texts  # the earlier recipe's vectors were not taken
    again = CountingEncoder(64, "feed-forward outputs fp32: block 0, 4, 5")
    train.cached_embeddings(texts, again.encode, "t")
    assert again.encoded == []


def test_a_long_first_encoding_is_announced_and_a_cached_one_is_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(train, "CACHE", tmp_path)
    monkeypatch.setattr(train, "_VECTORS", {})
    monkeypatch.setattr(train, "ANNOUNCE_ENCODING", 3)
    encoder = CountingEncoder(64)
    train.cached_embeddings(["one", "two"], encoder.encode, "small")
    assert capsys.readouterr().err == ""
    train.cached_embeddings(["one", "two", "three", "four"], encoder.encode, "tweets")
    assert capsys.readouterr().err == ""  # two of the four were cached already: below the line
    train.cached_embeddings([f"new {i}" for i in range(5)], encoder.encode, "tweets")
    err = capsys.readouterr().err
    assert "encoding 5 tweets texts the cache has not seen" in err and str(tmp_path) in err
