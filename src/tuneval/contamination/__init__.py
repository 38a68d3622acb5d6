"""Contamination checks: exact n-gram overlap between training data and eval sets.

The eval side (small) is indexed; the training side (any size) is streamed through a compiled
scanner in shards, so memory is bounded by the eval set. Every reported match is verified on
the tokens. See `check`, `duplicates` and `write_clean`.
"""

from tuneval.contamination.check import check, duplicates, load_eval, write_clean
from tuneval.contamination.report import ContaminationReport, ExampleOverlap

__all__ = [
    "ContaminationReport",
    "ExampleOverlap",
    "check",
    "duplicates",
    "load_eval",
    "write_clean",
]
