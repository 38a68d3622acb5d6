"""Options shared by several commands, so that every command spells them the same way."""

from __future__ import annotations

from typing import Annotated

import typer

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
ResamplesOpt = Annotated[
    int, typer.Option("--resamples", min=1, help="Bootstrap resamples for confidence intervals.")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the bootstrap (recorded).")]
ConfidenceOpt = Annotated[
    float, typer.Option("--confidence", min=0.5, max=0.999, help="Confidence level of intervals.")
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
