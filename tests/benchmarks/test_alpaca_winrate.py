"""AlpacaEval win rates from annotations, equal to alpaca_eval's get_winrate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tuneval.benchmarks.alpaca_winrate import get_winrate, load_annotations, score_annotations
from tuneval.errors import DataError

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "alpaca_eval"
ANNOTATIONS = SHARED / "alpaca-7b" / "weighted_alpaca_eval_gpt4_turbo" / "annotations.json"
LEADERBOARD = (
    SHARED
    / "leaderboards"
    / "data_AlpacaEval_2"
    / "weighted_alpaca_eval_gpt4_turbo_leaderboard.csv"
)
FIELDS = (
    "win_rate",
    "standard_error",
    "n_wins",
    "n_wins_base",
    "n_draws",
    "n_total",
    "discrete_win_rate",
)


def test_small_cases_by_hand() -> None:
    # kept: 1, 0, 0.5, 0.7 (None and 2.5 dropped; the legacy 0 is a draw).
    w = get_winrate([2, 1, 1.5, 1.7, None, 2.5, 0])
    assert w.n_total == 5 and w.n_draws == 2 and w.n_wins == 2 and w.n_wins_base == 1
    assert w.win_rate == pytest.approx((1 + 0 + 0.5 + 0.7 + 0.5) / 5 * 100)
    # discrete rounds before dropping (ZeroOneScoringRule): 1.7 -> win, 2.5 -> 2 (half to
    # even) is kept as a win, 1.5 and 0 stay draws.
    assert w.discrete_win_rate == pytest.approx((1 + 0 + 0.5 + 1 + 1 + 0.5) / 6 * 100)


@pytest.mark.skipif(not ANNOTATIONS.exists(), reason="shared AlpacaEval data absent")
def test_published_alpaca_7b_numbers() -> None:
    summary = score_annotations(ANNOTATIONS)
    with LEADERBOARD.open() as fh:
        row = next(r for r in csv.DictReader(fh) if r[""] == "alpaca-7b")
    for name in FIELDS:
        assert summary[name] == pytest.approx(float(row[name]), rel=1e-12, abs=0), name
    assert round(summary["win_rate"], 4) == 2.5915
    # No LC figure without df_gamed.csv (a length-only fit gave 19.83 vs the published 5.88).
    assert "--lc-data" in summary["lc_omitted"] and "lc_win_rate_minimal" not in summary
    assert summary["signature"].startswith(
        "alpaca-eval|source:annotations|annotator:weighted_alpaca_eval_gpt4_turbo|"
        "baseline:gpt4_1106_preview|agg:alpaca_eval-get_winrate|lc:none|"
    )


def test_equals_alpaca_eval_package() -> None:
    # alpaca_eval 0.6.6 imports pkg_resources, gone from setuptools >= 81: skip if unusable.
    reference = pytest.importorskip("alpaca_eval.metrics").get_winrate

    prefs = [2, 1, 1.5, 1.7, 1.2, 2.0, 1.5000001, 1.49, 0]
    ours = get_winrate(prefs).model_dump()
    theirs = reference([{"preference": p} for p in prefs])
    for name in FIELDS:
        assert ours[name] == pytest.approx(float(theirs[name]), rel=1e-12), name


def test_bad_annotations_file(tmp_path: Path) -> None:
    path = tmp_path / "annotations.json"
    path.write_text(
        json.dumps(
            [
                {
                    "instruction": "i",
                    "output_1": "a",
                    "output_2": "b",
                    "generator_1": "g1",
                    "generator_2": "g2",
                    "preference": "2",
                }
            ]
        )
    )
    with pytest.raises(DataError) as err:
        load_annotations(path)
    assert err.value.field == "preference" and err.value.line == 1
