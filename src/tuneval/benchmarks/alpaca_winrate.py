"""AlpacaEval's win rates from its annotations, computed as ``alpaca_eval`` computes them.

``get_winrate`` restates ``alpaca_eval.metrics.winrate.get_winrate``: preferences are in
[1, 2] (1: the baseline ``output_1`` wins, 2: the model's ``output_2`` wins, 1.5 or the legacy
0: a draw); anything else (missing, out of range) is dropped. The win rate is
``mean(preference - 1) * 100`` with its standard error (``sem``, ddof 1, times 100); the
discrete win rate rounds each preference to a win, loss or draw first (pandas' round half to
even, 1.5 kept a draw).

The official length-controlled win rate (``length_controlled_v1``) needs the leaderboard's
per-instruction difficulty and its gamed-baseline annotations (alpaca_eval's ``df_gamed.csv``),
which are not in an annotations file: given that file (``lc_data``) it is computed by
`tuneval.benchmarks.alpaca_lc` and reported as ``length_controlled_winrate``; without it no
LC figure is given (``lc_omitted`` says why): a length-only fit on the annotations alone gave
19.83 for alpaca-7b, whose published LC is 5.88, so it would read as the leaderboard's number.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuneval.benchmarks._files import field, iter_json_records
from tuneval.benchmarks.base import protocol_signature
from tuneval.errors import DataError
from tuneval.records import Record

LC_OMITTED = (
    "no length-controlled win rate: the leaderboard's LC needs alpaca_eval's df_gamed.csv "
    "(--lc-data FILE), and a length-only fit on this file alone is not comparable with it"
)


class WinRate(Record):
    """``alpaca_eval``'s head-to-head description of one model against the baseline."""

    win_rate: float
    """Mean preference for the model, in percent."""
    standard_error: float
    """Standard error of the win rate (ddof 1), in percent."""
    n_wins: int
    """Items the model won (preference above 1.5)."""
    n_wins_base: int
    """Items the baseline won."""
    n_draws: int
    """Items with preference exactly 1.5 (or the legacy 0)."""
    n_total: int
    """Items with a valid preference."""
    discrete_win_rate: float
    """Win rate after rounding each preference to win/draw/loss, in percent."""


def _describe(values: list[float]) -> dict[str, Any]:
    n_draws = sum(1 for v in values if v == 1.5 or v == 0)
    kept = [(1.5 if v == 0 else v) - 1 for v in values if 1 <= (1.5 if v == 0 else v) <= 2]
    n = len(kept)
    return {
        "win_rate": statistics.fmean(kept) * 100 if n else math.nan,
        "standard_error": statistics.stdev(kept) / math.sqrt(n) * 100 if n > 1 else math.nan,
        "n_wins": sum(1 for v in kept if v > 0.5),
        "n_wins_base": sum(1 for v in kept if v < 0.5),
        "n_draws": n_draws,
        "n_total": n,
    }


def _discrete(value: float) -> float:
    # ZeroOneScoringRule: 1.5 -> 0 (a draw), then round half to even, as numpy does.
    return 0.0 if value == 1.5 else float(round(value))


def get_winrate(preferences: Sequence[float | None]) -> WinRate:
    """Win rate, standard error, counts and discrete win rate, as ``alpaca_eval`` has them."""
    values = [float(p) for p in preferences if p is not None and not math.isnan(float(p))]
    soft = _describe(values)
    discrete = _describe([_discrete(v) for v in values])["win_rate"]
    return WinRate(**soft, discrete_win_rate=discrete)


class Annotation(Record):
    """One record of AlpacaEval's ``annotations.json``."""

    instruction: str
    """The instruction."""
    output_1: str
    """The baseline's output."""
    output_2: str
    """The model's output."""
    generator_1: str
    """The baseline model."""
    generator_2: str
    """The evaluated model."""
    preference: float | None
    """1 (baseline better) to 2 (model better); None when the annotator gave none."""
    annotator: str = ""
    """The annotator configuration (e.g. ``weighted_alpaca_eval_gpt4_turbo``)."""


def load_annotations(path: Path) -> list[Annotation]:
    """The records of an ``annotations.json`` file, checked field by field."""
    out: list[Annotation] = []
    for line, obj in iter_json_records(path):
        pref = obj.get("preference")
        if pref is not None and not isinstance(pref, int | float):
            raise DataError(
                "preference should be a number or null", path=path, line=line, field="preference"
            )
        texts = {
            k: field(obj, k, str, path, line)
            for k in ("instruction", "output_1", "output_2", "generator_1", "generator_2")
        }
        out.append(Annotation(**texts, preference=pref, annotator=str(obj.get("annotator") or "")))
    if not out:
        raise DataError("no annotations in the file", path=path)
    return out


def score_annotations(path: Path, lc_data: Path | None = None) -> dict[str, Any]:
    """The summary of an annotations file: AlpacaEval's win rates, and its LC with ``lc_data``.

    Args:
        path: alpaca_eval's ``annotations.json`` of one model against one baseline.
        lc_data: alpaca_eval's ``df_gamed.csv``; with it the official LC is computed, without
            it no LC figure is given (``lc_omitted`` says why).
    """
    annotations = load_annotations(path)
    lc: dict[str, Any]
    if lc_data is not None:
        from tuneval.benchmarks.alpaca_lc import GamedData, length_controlled_v1

        official = length_controlled_v1(annotations, GamedData(lc_data))
        lc = {
            "length_controlled_winrate": official["value"],
            "lc_standard_error": official["standard_error"],
            "lc_weights": official["weights"],
        }
    else:
        lc = {"lc_omitted": LC_OMITTED}
    models = sorted({a.generator_2 for a in annotations})
    baselines = sorted({a.generator_1 for a in annotations})
    annotators = sorted({a.annotator for a in annotations})
    result = get_winrate([a.preference for a in annotations])
    return {
        "benchmark": "alpaca-eval",
        "source": "annotations",
        "model": "+".join(models),
        "reference": "+".join(baselines),
        "annotator": "+".join(annotators) or None,
        **result.model_dump(),
        **lc,
        "signature": protocol_signature(
            "alpaca-eval",
            source="annotations",
            annotator="+".join(annotators) or None,
            baseline="+".join(baselines),
            agg="alpaca_eval-get_winrate",
            lc="length_controlled_v1" if lc_data is not None else None,
        ),
    }
