"""Scoring one system and comparing two, with bootstrap CIs and paired tests."""

from tuneval.evaluation.options import ComparisonOptions
from tuneval.evaluation.paired import ComparisonReport, compare
from tuneval.evaluation.single import BootstrapConfig, ScoreReport, score

__all__ = [
    "BootstrapConfig",
    "ComparisonOptions",
    "ComparisonReport",
    "ScoreReport",
    "compare",
    "score",
]
