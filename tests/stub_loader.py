"""The loopback stub OpenAI/Anthropic server (tests/models/stub_server.py) for tests elsewhere."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def stub_server_module() -> ModuleType:
    """tests/models/stub_server.py as the module ``stub_server``, loaded once per process."""
    loaded = sys.modules.get("stub_server")
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(
        "stub_server", Path(__file__).parent / "models" / "stub_server.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["stub_server"] = module
    spec.loader.exec_module(module)
    return module
