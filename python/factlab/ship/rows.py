"""The rows of a ship run: the shared dependencies first, then one per backend.

:class:`Plan` is what a run measures (the backends that load, the mode);
:func:`measure` builds, then reads each backend's facts
(:mod:`factlab.ship.facts`). Every backend comes from the registry: one
registered with :func:`factlab.register` is in the plan and in the rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import factlab
from factlab import CLIB, BackendSpec
from factlab._common import CommandError, require_repo
from factlab.ship import build, facts
from factlab.ship.build import SHARED_CLIB, SHARED_CORE, Build, Builds, chain, chains

IMPORT_RUNS = {"quick": 5, "default": 21, "rigorous": 51}
Say = Callable[[str], None]


@dataclass
class Plan:
    """What a ship run measures: the mode and the backends (those that load, in the registry's order)."""

    mode: str
    backends: list[str]

    @classmethod
    def make(cls, mode: str, names: list[str] | None) -> Plan:
        loaded = []
        for name in names if names is not None else factlab.backend_names():
            with suppress(factlab.BackendNotBuilt):
                factlab.load(name)
                loaded.append(name)
        return cls(mode, loaded)

    @property
    def specs(self) -> list[BackendSpec]:
        return [factlab.spec(name) for name in self.backends]

    def lines(self) -> list[str]:
        """The plan in words, one line per build and per backend (``--plan``)."""
        native = [s for s in self.specs if s.native]
        cold = self.mode != "quick"
        out = [f"build {SHARED_CORE}"] if native and cold else []
        out += (
            [f"build {SHARED_CLIB} ({CLIB.project})"]
            if cold and any(s.clib != "none" for s in native)
            else []
        )
        out += [f"build {key}: {'cold, ' if cold else ''}incremental" for key in chains(native)]
        runs = IMPORT_RUNS[self.mode]
        return out + [f"measure {s.name}: artifact, needs, {runs}+{runs} imports, lines" for s in self.specs]


def measure(plan: Plan, work: Path, say: Say) -> dict[str, Any]:
    """Every row of the plan (shared rows first), the build problem if any, the seconds it took."""
    root, t0 = require_repo("python -m factlab ship"), time.perf_counter()
    native = [s for s in plan.specs if s.native]
    try:  # nothing to build for the baselines alone
        builds, problem = (
            (build.measure_builds(root, native, plan.mode, work, say) if native else Builds()),
            None,
        )
    except CommandError as exc:
        builds, problem = Builds(), str(exc)
        say(f"ship: builds failed: {problem}")
    rows = shared_rows(root, native, builds, plan.mode)
    for s in plan.specs:
        say(f"ship: {s.name}: sizes, needs, {IMPORT_RUNS[plan.mode]}+{IMPORT_RUNS[plan.mode]} fresh imports")
        rows.append(backend_row(root, s, builds, plan.mode, problem))
    return {"seconds": time.perf_counter() - t0, "build_problem": problem, "rows": rows}


def rel(path: Path, root: Path) -> str:
    """A path for the results: relative to the repository when inside it (no machine path in a commit)."""
    with suppress(ValueError):
        return str(path.resolve().relative_to(root))
    return str(path)


def wheel(built: Build | None) -> dict[str, Any]:
    w = built.wheel if built else None
    return {
        "wheel": w.name if w else None,
        "wheel_bytes": w.bytes if w else None,
        "wheel_tags": w.tags if w else None,
    }


def shared_rows(root: Path, native: list[BackendSpec], builds: Builds, mode: str) -> list[dict[str, Any]]:
    """The kernel's row (every native backend), then the C ABI library's (the backends over it)."""
    if not native:
        return []
    core = builds.shared.get(SHARED_CORE)
    out: list[dict[str, Any]] = [{
        "backend": SHARED_CORE, "shared": True, "status": "ok", "used_by": [s.name for s in native],
        "build_cold_s": core.seconds if core else None, "build_incremental_s": None,
    }]  # fmt: skip
    users = [s.name for s in native if s.clib != "none"]
    if users:
        lib, static = facts.clib_paths()
        cold, inc = builds.shared.get(SHARED_CLIB), builds.incremental.get(CLIB.project)
        out.append({
            "backend": SHARED_CLIB, "shared": True, "status": "ok", "used_by": users,
            "build_cold_s": cold.seconds if cold else None,
            "build_incremental_s": inc.seconds if inc else None,
            "artifact": rel(lib, root), "artifact_bytes": lib.stat().st_size,
            "stripped_bytes": facts.stripped_bytes(lib),
            "static": rel(static, root), "static_bytes": static.stat().st_size,
            "static_stripped_bytes": facts.stripped_bytes(static, "--strip-debug"),
            **wheel(cold or inc), "needs_run": facts.ldd(lib),
        })  # fmt: skip
    return out


def build_fields(s: BackendSpec, builds: Builds, mode: str) -> dict[str, Any]:
    """A backend's build times and wheel (None where nothing is built for it)."""
    if not s.native:
        return {"build_cold_s": None, "build_incremental_s": None, **wheel(None)}
    key = chain(s)
    cold, inc = builds.cold.get(key), builds.incremental.get(key)
    own_cold = 0.0 if key == CLIB.project and mode != "quick" else (cold.seconds if cold else None)
    return {
        "build_cold_s": own_cold, "build_incremental_s": inc.seconds if inc else None, "builds": key,
        "shared_with": [o.name for o in factlab.specs() if o is not s and o.native and chain(o) == key],
        **wheel(inc or cold),
    }  # fmt: skip


def artifact_fields(root: Path, s: BackendSpec) -> tuple[dict[str, Any], Path | None]:
    """What ships: the artifact as built and stripped, and the library it opens; (fields, what it loads)."""
    art = facts.artifact(s)
    row: dict[str, Any] = {
        "artifact": rel(art, root) if art else None,
        "artifact_bytes": art.stat().st_size if art else None,
        "stripped_bytes": facts.stripped_bytes(art) if art else None,
    }
    loaded = art
    if s.clib == "dlopen":  # its module opens the library at run time: that is what the loader maps
        loaded = CLIB.library_path()
        if s.extension:
            row |= {"opens": rel(loaded, root), "opens_bytes": loaded.stat().st_size}
    return row, loaded


def backend_row(root: Path, s: BackendSpec, builds: Builds, mode: str, problem: str | None) -> dict[str, Any]:
    """One backend's row: builds, what ships, what it needs, imports, lines (status failed: why)."""
    row: dict[str, Any] = {"backend": s.name, "status": "ok", "kind": s.kind, "tool": s.tool}
    row |= build_fields(s, builds, mode)
    shipped, loaded = artifact_fields(root, s)
    row |= shipped
    row["needs_build"] = facts.needs_build(root, s, facts.artifact(s)) if s.native else []
    try:
        found = facts.imports(s, IMPORT_RUNS[mode])
    except CommandError as exc:
        return row | {"status": "failed", "note": str(exc)}
    row["needs_run"] = facts.needs_run(root, s, loaded, found.pop("modules"))
    row |= found
    row["binding_lines"] = facts.binding_lines(root, s)
    if problem and s.native:
        row["note"] = f"builds failed: {problem.splitlines()[0]}"
    return row
