"""AlpacaEval 2's official length-controlled win rate (``length_controlled_v1``), restated.

alpaca_eval fits, per evaluated model, a logistic GLM of the preference on
``tanh(std_delta_len) + instruction_difficulty + not_gamed_baseline`` (no intercept), where
``std_delta_len`` is ``len(output_1) - len(output_2)`` over its standard deviation. The fit
also sees the annotations of the leaderboard's length-gamed baselines (weight 0.1 each: the
regularisation λ = 0.2 split over two), with an L1 ``LogisticRegressionCV`` (liblinear,
five grouped folds, soft labels by duplicating each row with weights p and 1 - p). The LC
win rate is the mean predicted preference with the length term at zero.

The per-instruction difficulty and the gamed baselines' annotations come from
``df_gamed.csv``, which alpaca_eval downloads from its Hugging Face dataset
(``tatsu-lab/alpaca_eval``); here it is read from a local path (``--lc-data``), as network
access at run time is not assumed. It belongs to the ``weighted_alpaca_eval_gpt4_turbo``
annotator against ``gpt4_1106_preview``; other annotators need their own file.
"""

from __future__ import annotations

import csv
import math
import statistics
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tuneval.benchmarks.alpaca_winrate import Annotation
from tuneval.errors import DataError, require

REGULARIZE_TO_BASELINE = 0.2
"""``regularize_to_baseline_lambda`` of ``length_controlled_v1``."""
N_SPLITS = 5
GAMED_COLUMNS = (
    "index",
    "preference",
    "std_delta_len",
    "instruction_difficulty",
    "not_gamed_baseline",
)


class GamedData:
    """The rows of ``df_gamed.csv``: design-matrix inputs of the gamed baselines."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise DataError("file not found (alpaca_eval's df_gamed.csv)", path=path)
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        if not rows:
            raise DataError("no rows", path=path)
        missing = [c for c in GAMED_COLUMNS if c not in rows[0]]
        if missing:
            raise DataError(
                f"missing column(s) {', '.join(missing)}", path=path, line=1, field=missing[0]
            )
        try:
            self.preference = np.array([float(r["preference"]) for r in rows])
            self.std_delta_len = np.array([float(r["std_delta_len"]) for r in rows])
            self.difficulty = np.array([float(r["instruction_difficulty"]) for r in rows])
        except ValueError as exc:
            raise DataError(f"not a number: {exc}", path=path) from None
        self.not_gamed = np.array(
            [r["not_gamed_baseline"].strip() == "True" for r in rows], dtype=float
        )
        # alpaca_eval: df_gamed.drop_duplicates("index")["instruction_difficulty"] looked up
        # by row label, i.e. the difficulty on the first row of each instruction index.
        self.difficulty_of: dict[int, float] = {}
        seen: set[str] = set()
        for label, row in enumerate(rows):
            if row["index"] not in seen:
                seen.add(row["index"])
                self.difficulty_of[label] = float(row["instruction_difficulty"])


def _design(tanh_len: np.ndarray, difficulty: np.ndarray, not_gamed: np.ndarray) -> np.ndarray:
    # Column order of the patsy formula: tanh(std_delta_len), difficulty, not_gamed_baseline.
    return np.column_stack([tanh_len, difficulty, not_gamed])


def _logloss_continuous(
    y_true: Any, y_pred: Any, true_prob: Any, true_sample_weight: Any = None
) -> float:
    # alpaca_eval's CV score: log loss against the soft labels (sklearn sees 0/1 labels).
    y = np.where(np.asarray(y_true) == 1, true_prob, 1 - np.asarray(true_prob))
    p = np.clip(y_pred, 1e-15, 1 - 1e-15)
    losses = y * np.log(p) + (1 - y) * np.log(1 - p)
    if true_sample_weight is not None:
        losses = losses * np.asarray(true_sample_weight)
    return float(-np.mean(losses))


def _fit(x: np.ndarray, pref: np.ndarray, weight: np.ndarray) -> Any:
    """``fit_LogisticRegressionCV(..., is_ytrue_proba=True, n_splits=5)`` of alpaca_eval."""
    sklearn: Any = require(
        "sklearn",
        package="scikit-learn",
        extra="lc",
        purpose="the official length-controlled win rate",
    )
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics import make_scorer
    from sklearn.model_selection import GroupKFold

    n = len(pref)
    x_dup = np.concatenate([x, x])
    y_dup = np.concatenate([np.ones(n, dtype=int), np.zeros(n, dtype=int)])
    true_prob = np.concatenate([pref, 1 - pref])
    true_weight = np.concatenate([weight, weight])
    groups = np.concatenate([np.arange(n), np.arange(n)])
    # alpaca_eval's settings, verbatim; scikit-learn >= 1.8 warns that ``penalty`` will give
    # way to ``l1_ratios``, which would not change this fit.
    with warnings.catch_warnings(), sklearn.config_context(enable_metadata_routing=True):
        warnings.simplefilter("ignore", FutureWarning)
        scorer = make_scorer(
            _logloss_continuous, response_method="predict_proba", greater_is_better=False
        ).set_score_request(true_sample_weight=True, true_prob=True)
        model = LogisticRegressionCV(
            cv=GroupKFold(n_splits=N_SPLITS),
            scoring=scorer,
            random_state=123,
            dual=False,
            penalty="l1",
            solver="liblinear",
            n_jobs=None,
            fit_intercept=False,
        )
        model.set_fit_request(sample_weight=True)
        model.fit(
            x_dup,
            y_dup,
            sample_weight=true_prob * true_weight,
            groups=groups,
            true_sample_weight=true_weight,
            true_prob=true_prob,
        )
    return model


def length_controlled_v1(annotations: Sequence[Annotation], gamed: GamedData) -> dict[str, Any]:
    """The official LC win rate and its standard error (percent), and the fitted weights."""
    if all(a.generator_1 == a.generator_2 for a in annotations):
        return {"value": 50.0, "standard_error": 0.0, "weights": {}}  # by construction
    len_1 = np.array([len(a.output_1) for a in annotations], dtype=float)
    len_2 = np.array([len(a.output_2) for a in annotations], dtype=float)
    delta = len_1 - len_2
    std = statistics.stdev(delta.tolist()) if len(delta) > 1 else math.nan
    missing = [i for i in range(len(annotations)) if i not in gamed.difficulty_of]
    if missing:
        raise DataError(
            f"df_gamed.csv has no instruction difficulty for annotation {missing[0]} (it "
            "covers the 805 AlpacaEval instructions in their order)"
        )
    difficulty = np.array([gamed.difficulty_of[i] for i in range(len(annotations))])
    prefs = np.array(
        [
            math.nan if a.preference is None else (1.5 if a.preference == 0 else a.preference) - 1
            for a in annotations
        ]
    )
    own_x = _design(np.tanh(delta / std), difficulty, np.ones(len(annotations)))
    gamed_x = _design(np.tanh(gamed.std_delta_len), gamed.difficulty, gamed.not_gamed)
    x = np.concatenate([gamed_x, own_x])
    pref = np.concatenate([gamed.preference, prefs])
    not_gamed = np.concatenate([gamed.not_gamed, np.ones(len(annotations))])
    weight = not_gamed + REGULARIZE_TO_BASELINE * (1 - not_gamed) / 2
    keep = ~np.isnan(pref)
    model = _fit(x[keep], pref[keep], weight[keep])
    test_x = _design(np.zeros(len(annotations)), difficulty, np.ones(len(annotations)))
    predicted = model.predict_proba(test_x)[:, 1]
    sem = (
        float(np.std(predicted, ddof=1) / math.sqrt(len(predicted)))
        if len(predicted) > 1
        else math.nan
    )
    names = ("np.tanh(std_delta_len)", "instruction_difficulty", "not_gamed_baseline.astype(float)")
    return {
        "value": float(predicted.mean() * 100),
        "standard_error": sem * 100,
        "weights": dict(zip(names, (float(w) for w in model.coef_[0]), strict=True)),
    }
