"""Scoring one system and comparing two, with bootstrap CIs and paired tests."""

from tuneval.evaluation.paired import ComparisonReport, compare
from tuneval.evaluation.single import BootstrapConfig, ScoreReport, score

__all__ = ["BootstrapConfig", "ComparisonReport", "ScoreReport", "compare", "score"]
