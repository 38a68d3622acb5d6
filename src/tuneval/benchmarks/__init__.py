"""Standard benchmarks, registered by name (``tuneval bench list``)."""

from tuneval.benchmarks import alpaca_eval, humaneval, mbpp, mmlu, mt_bench
from tuneval.benchmarks.base import (
    BENCHMARKS,
    Benchmark,
    BenchOptions,
    get_benchmark,
    parse_signature,
    protocol_signature,
    signature_mismatch,
)

__all__ = [
    "BENCHMARKS",
    "BenchOptions",
    "Benchmark",
    "alpaca_eval",
    "get_benchmark",
    "humaneval",
    "mbpp",
    "mmlu",
    "mt_bench",
    "parse_signature",
    "protocol_signature",
    "signature_mismatch",
]
