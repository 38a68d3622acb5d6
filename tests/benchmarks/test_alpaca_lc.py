"""AlpacaEval's official length-controlled win rate (length_controlled_v1) from local data.

alpaca_eval reads ``df_gamed.csv`` from its Hugging Face dataset; the tests write a small one
of the same shape and, where the ``alpaca_eval`` package is installed, compare with its
``get_length_controlled_winrate`` given that same file.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from tuneval.benchmarks.alpaca_winrate import Annotation, score_annotations
from tuneval.errors import DataError

pytest.importorskip("sklearn")

N = 60


def _gamed(path: Path, seed: int = 1) -> Path:
    rng = random.Random(seed)
    difficulty = [rng.gauss(0, 1) for _ in range(N)]
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "model",
                "index",
                "preference",
                "std_delta_len",
                "instruction_difficulty",
                "not_gamed_baseline",
            ]
        )
        for model, not_gamed in (("base", True), ("verbose", False), ("concise", False)):
            for i in range(N):
                delta = rng.gauss(-0.5 if model == "verbose" else 0.3, 1)
                pref = min(
                    1.0, max(0.0, 0.5 - 0.2 * delta + 0.1 * difficulty[i] + rng.gauss(0, 0.1))
                )
                writer.writerow([model, i, pref, delta, difficulty[i], not_gamed])
    return path


def _annotations(seed: int = 2) -> list[Annotation]:
    rng = random.Random(seed)
    out = []
    for i in range(N):
        len_1, len_2 = rng.randint(50, 400), rng.randint(50, 800)
        pref = min(2.0, max(1.0, 1.4 + (len_2 - len_1) / 2000 + rng.gauss(0, 0.2)))
        out.append(
            Annotation(
                instruction=f"instruction {i}",
                output_1="a" * len_1,
                output_2="b" * len_2,
                generator_1="gpt4_1106_preview",
                generator_2="my-model",
                preference=None if i == 7 else pref,
                annotator="weighted_alpaca_eval_gpt4_turbo",
            )
        )
    return out


def _write(path: Path, annotations: list[Annotation]) -> Path:
    import json

    path.write_text(json.dumps([a.model_dump() for a in annotations]))
    return path


def test_official_lc_reported_under_its_name(tmp_path: Path) -> None:
    path = _write(tmp_path / "annotations.json", _annotations())
    summary = score_annotations(path, lc_data=_gamed(tmp_path / "df_gamed.csv"))
    assert 0 < summary["length_controlled_winrate"] < 100
    assert summary["lc_standard_error"] > 0
    assert set(summary["lc_weights"]) == {
        "np.tanh(std_delta_len)", "instruction_difficulty", "not_gamed_baseline.astype(float)"
    }  # fmt: skip
    assert "lc_win_rate_minimal" not in summary
    assert "|lc:length_controlled_v1|" in summary["signature"]


def test_missing_column_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "df_gamed.csv"
    bad.write_text("model,index,preference\nm,0,0.5\n")
    path = _write(tmp_path / "annotations.json", _annotations())
    with pytest.raises(DataError) as err:
        score_annotations(path, lc_data=bad)
    assert err.value.field == "std_delta_len" and str(bad) in str(err.value)


def test_equals_alpaca_eval_glm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    # alpaca_eval 0.6.6 imports pkg_resources, gone from setuptools >= 81: skip if unusable.
    glm_winrate = pytest.importorskip("alpaca_eval.metrics.glm_winrate")

    gamed = _gamed(tmp_path / "df_gamed.csv")
    monkeypatch.setattr(glm_winrate, "hf_hub_download", lambda **kwargs: str(gamed))
    annotations = _annotations()
    theirs = glm_winrate.get_length_controlled_winrate(
        pd.DataFrame([a.model_dump() for a in annotations]),
        save_weights_dir=None,
        is_warn_extreme_changes=False,
    )
    ours = score_annotations(_write(tmp_path / "a.json", annotations), lc_data=gamed)
    assert ours["length_controlled_winrate"] == pytest.approx(
        theirs["length_controlled_winrate"], rel=1e-9
    )
    assert ours["lc_standard_error"] == pytest.approx(theirs["lc_standard_error"], rel=1e-9)
    assert ours["win_rate"] == pytest.approx(theirs["win_rate"], rel=1e-12)
