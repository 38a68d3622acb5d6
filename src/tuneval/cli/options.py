"""Options shared by several commands, so that every command spells them the same way."""

from __future__ import annotations

from typing import Annotated

import typer

from tuneval.cli.record_flags import record_flags
from tuneval.stats import BootstrapConfig

MetricOpt = Annotated[
    list[str],
    typer.Option(
        "--metric",
        "-m",
        help="Metric spec NAME[:key=value,...], repeatable, "
        "e.g. -m bleu -m rouge:use_stemmer=true.",
    ),
]
ReferencesOpt = Annotated[
    str | None,
    typer.Option(
        "--references",
        "-r",
        help="Eval set or reference file (JSONL, JSON, CSV, Parquet or "
        "hf:DATASET[#CONFIG][@SPLIT]); "
        "default: the references inside the predictions file.",
    ),
]
PredictionFieldOpt = Annotated[
    str, typer.Option("--prediction-field", help="Field that holds the model output.")
]
ReferenceFieldOpt = Annotated[
    str,
    typer.Option(
        "--reference-field", help="Field that holds the reference (a string or a list of strings)."
    ),
]
IdFieldOpt = Annotated[str, typer.Option("--id-field", help="Field that holds the example id.")]
bootstrap_flags = record_flags(
    BootstrapConfig,
    "flags",
    help={
        "resamples": "Bootstrap resamples for confidence intervals.",
        "seed": "Seed of the bootstrap (recorded).",
        "confidence": "Confidence level of intervals.",
    },
)
"""``--resamples``, ``--seed`` and ``--confidence`` of `BootstrapConfig`, into ``flags``."""
NoCacheOpt = Annotated[
    bool, typer.Option("--no-cache", help="Do not use the call cache (calls.cache: false).")
]
RefreshOpt = Annotated[
    bool,
    typer.Option("--refresh", help="Ignore cached answers; store the fresh ones (calls.refresh)."),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")
]
ClusterFieldOpt = Annotated[
    str | None,
    typer.Option(
        "--cluster-field",
        help="Eval-set field that groups related items (same prompt, category or source); "
        "whole groups are resampled so correlated items do not narrow CIs or shrink p-values.",
    ),
]
