import sys
from pathlib import Path

import pytest

# The tiny-model helpers (tiny.py) sit next to these tests.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny models gain nothing from threads, and on a busy machine torch's spinning worker
    # threads make a 7 s training loop take minutes.
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
