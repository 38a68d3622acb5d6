import pytest


@pytest.fixture(autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    # Keep the call cache and the weights-hash memo out of the user's home directory.
    monkeypatch.setenv("TUNEVAL_CACHE_DIR", str(tmp_path_factory.mktemp("tuneval-cache")))
