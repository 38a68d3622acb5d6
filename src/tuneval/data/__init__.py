"""Reading eval sets and predictions from JSONL, JSON, CSV/TSV, Parquet and Hugging Face datasets.

`read_records` turns any supported source into plain records that remember their file and
line; `load_examples` and `load_predictions` check them into `Example`s and `Generation`s;
`align` pairs the two by id. Every problem is a `tuneval.errors.DataError` that names the
file, the line and the field, and says how to fix it.
"""

from __future__ import annotations

from tuneval.data.evalset import RecordList, load_examples, references_from
from tuneval.data.hf import HF_PREFIX, parse_hf_source
from tuneval.data.predictions import align, load_predictions
from tuneval.data.readers import (
    SUPPORTED_EXTENSIONS,
    SourceRecord,
    read_records,
    supported_formats,
)

__all__ = [
    "HF_PREFIX",
    "SUPPORTED_EXTENSIONS",
    "RecordList",
    "SourceRecord",
    "align",
    "load_examples",
    "load_predictions",
    "parse_hf_source",
    "read_records",
    "references_from",
    "supported_formats",
]
