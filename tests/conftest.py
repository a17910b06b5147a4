"""Shared fixtures: every test that takes ``backend`` runs once per registered backend.

Parametrizing over the registry is what makes a new backend tested by
registering it. The fixtures:

- ``backend``: every backend (``backend_name`` is its name);
- ``native``: the backends that cross into native code (``native_name``);

and ``throwaway()``, a backend registered for one test only.

Narrower sets come from the registry's facts in the test files themselves
(``spec.kind``, ``spec.clib``, ``spec.refcounts_by_hand``, ...).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

import factlab


def names(keep: Callable[[factlab.BackendSpec], bool]) -> list[str]:
    """The registered backends for which ``keep(spec)`` is true, in the registry's order."""
    return [entry.name for entry in factlab.specs() if keep(entry)]


def throwaway(monkeypatch: pytest.MonkeyPatch, **fields: object) -> factlab.BackendSpec:
    """Register a backend named ``throwaway`` for one test (``monkeypatch`` removes it after).

    An extension of its own project by default; ``fields`` set any other fact.
    """
    spec = factlab.BackendSpec(
        **{  # type: ignore[arg-type]
            "name": "throwaway",
            "module": "factlab_throwaway",
            "summary": "a test's backend",
            "kind": "extension",
            "tool": "throwaway-tool",
            "project": "crates/throwaway",
            **fields,
        }
    )
    monkeypatch.setitem(factlab._registry._REGISTERED, spec.name, spec)
    return spec


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_name" in metafunc.fixturenames:
        metafunc.parametrize("backend_name", factlab.backend_names())
    if "native_name" in metafunc.fixturenames:
        metafunc.parametrize("native_name", factlab.native_names())


def load(name: str) -> factlab.Backend:
    """The backend's module; an unbuilt backend fails the test (`just test` builds them all)."""
    try:
        return factlab.load(name)
    except factlab.BackendNotBuilt as exc:
        # FACTLAB_ALLOW_UNBUILT=1 turns it into a skip while a backend is being written.
        if os.environ.get("FACTLAB_ALLOW_UNBUILT"):
            pytest.skip(str(exc))
        raise


@pytest.fixture
def backend(backend_name: str) -> factlab.Backend:
    return load(backend_name)


@pytest.fixture
def native(native_name: str) -> factlab.Backend:
    return load(native_name)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        action="append",
        default=[],
        metavar="NAME",
        help="only the tests run for this backend (repeatable); `just test-backend NAME`",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--backend NAME``: keep the tests parametrized with that backend's name, deselect the rest."""
    chosen = config.getoption("backend")
    if not chosen:
        return
    unknown = sorted(set(chosen) - set(factlab.backend_names()))
    if unknown:
        raise pytest.UsageError(f"--backend {', '.join(unknown)}: the backends are {factlab.backend_names()}")
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        values = callspec.params.values() if callspec else ()
        (keep if any(value in chosen for value in values if isinstance(value, str)) else drop).append(item)
    config.hook.pytest_deselected(items=drop)
    items[:] = keep
