"""Standard benchmarks, registered by name (``tuneval bench list``)."""

from tuneval.benchmarks import humaneval, mbpp, mmlu, mt_bench
from tuneval.benchmarks.base import BENCHMARKS, Benchmark, BenchOptions, get_benchmark

__all__ = [
    "BENCHMARKS",
    "BenchOptions",
    "Benchmark",
    "get_benchmark",
    "humaneval",
    "mbpp",
    "mmlu",
    "mt_bench",
]
