"""Standard benchmarks, registered by name (``tuneval bench list``)."""

from tuneval.benchmarks import alpaca_eval, humaneval, mbpp, mmlu, mt_bench
from tuneval.benchmarks.base import (
    BENCHMARKS,
    Benchmark,
    Item,
    Scored,
    get_benchmark,
    parse_signature,
    protocol_signature,
    signature_mismatch,
)
from tuneval.benchmarks.framework import BenchRun, run_benchmark
from tuneval.benchmarks.options import (
    AlpacaEvalOptions,
    BenchOptions,
    CodeOptions,
    CommonOptions,
    MMLUOptions,
    MTBenchOptions,
)

__all__ = [
    "BENCHMARKS",
    "AlpacaEvalOptions",
    "BenchOptions",
    "BenchRun",
    "Benchmark",
    "CodeOptions",
    "CommonOptions",
    "Item",
    "MMLUOptions",
    "MTBenchOptions",
    "Scored",
    "alpaca_eval",
    "get_benchmark",
    "humaneval",
    "mbpp",
    "mmlu",
    "mt_bench",
    "parse_signature",
    "protocol_signature",
    "run_benchmark",
    "signature_mismatch",
]
