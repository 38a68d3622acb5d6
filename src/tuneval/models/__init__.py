"""Model backends behind one protocol (`ModelBackend`), chosen by spec string."""

from tuneval.models import anthropic_backend, file, hf, inmemory, llamacpp, mock, openai_backend
from tuneval.models.base import (
    BACKENDS,
    Completion,
    Decoding,
    Message,
    ModelBackend,
    Request,
    Usage,
    create_backend,
    register_backend,
)

__all__ = [
    "BACKENDS",
    "Completion",
    "Decoding",
    "Message",
    "ModelBackend",
    "Request",
    "Usage",
    "anthropic_backend",
    "create_backend",
    "file",
    "hf",
    "inmemory",
    "llamacpp",
    "mock",
    "openai_backend",
    "register_backend",
]
