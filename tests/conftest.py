"""Shared fixtures: every test that takes ``backend`` runs once per registered backend."""

from __future__ import annotations

import os
from types import ModuleType

import pytest

import factlab

ALL = factlab.backend_names()
NATIVE = factlab.native_names()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # `backend_name`: every backend in the registry; `native_name`: the ones
    # that cross into native code. Registering a backend is all it takes.
    if "backend_name" in metafunc.fixturenames:
        metafunc.parametrize("backend_name", ALL)
    if "native_name" in metafunc.fixturenames:
        metafunc.parametrize("native_name", NATIVE)


def _load(name: str) -> ModuleType:
    try:
        return factlab.load(name)
    except factlab.BackendNotBuilt as exc:
        # A registered backend that is not built is a failure, not a skip:
        # `just test` builds every backend first. FACTLAB_ALLOW_UNBUILT=1
        # turns it into a skip while a backend is being written.
        if os.environ.get("FACTLAB_ALLOW_UNBUILT"):
            pytest.skip(str(exc))
        raise


@pytest.fixture
def backend(backend_name: str) -> ModuleType:
    return _load(backend_name)


@pytest.fixture
def native(native_name: str) -> ModuleType:
    return _load(native_name)
