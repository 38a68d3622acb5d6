"""Hugging Face datasets as a record source: ``hf:DATASET[#CONFIG][@SPLIT]``.

``datasets`` is an optional extra, imported only when such a source is read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneval.errors import DataError, require

if TYPE_CHECKING:
    from tuneval.data.readers import SourceRecord

HF_PREFIX = "hf:"
"""Prefix of a Hugging Face dataset source: ``hf:DATASET[#CONFIG][@SPLIT]``."""
# Packaged `datasets` builders for local data files named in an ``hf:`` source.
_HF_BUILDERS = dict.fromkeys((".jsonl", ".ndjson", ".json"), "json") | {
    ".csv": "csv",
    ".parquet": "parquet",
}


def parse_hf_source(source: str) -> tuple[str, str | None, str | None]:
    """Split ``hf:DATASET[#CONFIG][@SPLIT]`` into its parts.

    A ``#`` or ``@`` followed by a ``/`` belongs to the dataset path, not to a config or split.

    Args:
        source: The source, starting with ``hf:``.

    Returns:
        ``(dataset, config, split)``; config and split are None when not given.
    """
    spec, config, split = source[len(HF_PREFIX) :], None, None
    head, sep, tail = spec.rpartition("@")
    if sep and tail and "/" not in tail:
        spec, split = head, tail
    head, sep, tail = spec.rpartition("#")
    if sep and tail and "/" not in tail:
        spec, config = head, tail
    if not spec:
        raise DataError(
            "no dataset named; write hf:DATASET[#CONFIG][@SPLIT], e.g. hf:squad@validation",
            path=source,
        )
    return spec, config, split


def read_hf(source: str) -> Iterator[SourceRecord]:
    """Read a Hugging Face dataset: a hub id, a local dataset directory or a local data file.

    Without ``@SPLIT`` the split is ``test``, else ``validation``, else the only split; the
    chosen split is appended to the record paths so that every error message names it.
    """
    datasets: Any = require(
        "datasets", package="datasets", extra="hf", purpose="Reading Hugging Face datasets"
    )
    dataset, config, split = parse_hf_source(source)
    args, kwargs = hf_load_args(dataset, config)
    failures = (OSError, ValueError, getattr(datasets.exceptions, "DatasetsError", OSError))
    where = source
    try:
        if split is None:
            split = _default_split(datasets.get_dataset_split_names(*args, **kwargs), source)
            where = f"{source}@{split}"
        rows = datasets.load_dataset(*args, split=split, **kwargs)
    except failures as exc:
        chosen = f" (split '{split}')" if split else ""
        raise DataError(
            f"cannot load Hugging Face dataset '{dataset}'{chosen}: {str(exc).rstrip('. ')}. "
            "Check the dataset name, the config after '#' and the split after '@'; offline, "
            "only local directories, local files and cached datasets can be read",
            path=where,
        ) from exc
    from tuneval.data.readers import SourceRecord

    for index, row in enumerate(rows, start=1):
        yield SourceRecord(dict(row), where, index, "record")


def hf_load_args(dataset: str, config: str | None) -> tuple[list[Any], dict[str, Any]]:
    """Arguments for ``load_dataset``: a local data file goes through its packaged builder."""
    local = Path(dataset)
    if not local.is_file():
        return [dataset, config], {}
    suffixes = [s.lower() for s in local.suffixes if s.lower() != ".gz"]
    builder = _HF_BUILDERS.get(suffixes[-1] if suffixes else "")
    if builder is None:
        raise DataError(
            f"cannot tell the format of data file '{dataset}'; use one of "
            f"{', '.join(_HF_BUILDERS)}, or read the file directly without '{HF_PREFIX}'",
            path=HF_PREFIX + dataset,
        )
    return [builder], {"data_files": str(local)}


def _default_split(splits: list[str], source: str) -> str:
    for preferred in ("test", "validation"):
        if preferred in splits:
            return preferred
    if len(splits) == 1:
        return splits[0]
    raise DataError(
        f"the dataset has splits {', '.join(splits)} but no 'test' or 'validation' split; "
        f"choose one with @SPLIT, e.g. {source}@{splits[0]}",
        path=source,
    )
