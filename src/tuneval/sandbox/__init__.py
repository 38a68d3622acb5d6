"""Sandboxed execution of untrusted generated code (HumanEval, MBPP)."""

from tuneval.sandbox.execute import ExecResult, Limits, run_python
from tuneval.sandbox.isolation import chosen_isolation, detect_isolation
from tuneval.sandbox.pool import run_many

__all__ = ["ExecResult", "Limits", "chosen_isolation", "detect_isolation", "run_many", "run_python"]
