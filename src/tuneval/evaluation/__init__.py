"""Scoring one system and comparing two, with bootstrap CIs and paired tests."""

from tuneval.evaluation.compare import ComparisonReport, compare
from tuneval.evaluation.score import BootstrapConfig, ScoreReport, score

__all__ = ["BootstrapConfig", "ComparisonReport", "ScoreReport", "compare", "score"]
