"""Every test run keeps compiled glossaries in a folder of its own, never in ~/.cache."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    old = os.environ.get("GLOSSNORM_CACHE_DIR")
    os.environ["GLOSSNORM_CACHE_DIR"] = str(tmp_path_factory.mktemp("glossnorm-cache"))
    yield
    if old is None:
        del os.environ["GLOSSNORM_CACHE_DIR"]
    else:
        os.environ["GLOSSNORM_CACHE_DIR"] = old
