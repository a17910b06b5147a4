"""The stable ABI: each abi3 wheel built ONCE, on the oldest CPython, and proven on every CPython.

The recipes are the registry's (``BackendSpec.stable_abi``): pip's ``-C`` config settings and the
environment of each project's abi3 build, or why a backend has none. Several backends may share one
project (cffi's modes): each project is built once. Each wheel must be tagged abi3 (read by
``packaging``); it is then installed with ``pip install --target`` beside every CPython's own build,
put first on ``sys.path``, checked to be the ``.abi3.so`` that loads, held to the contract there,
and timed right after the version-specific build on the same interpreter.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import factlab
from factlab._facts import StableAbi, Version
from factlab.matrix.cells import Cell, call_name
from factlab.matrix.contract import contract
from factlab.matrix.discovery import Interpreter
from factlab.matrix.loading import probe
from factlab.matrix.timing import time_backend
from factlab.matrix.venvs import Build, build_wheel, install, is_abi3, wheel_tags
from factlab.matrix.workspace import Progress, logs, out, root

ABI3_FLOOR: Version = (3, 10)  # the oldest CPython the abi3 wheels target (abi3-py310, cp310)


@dataclass(frozen=True)
class Abi3Project:
    """One project's abi3 build and the backends it serves."""

    project: str
    recipe: StableAbi
    backends: tuple[str, ...]

    def pip_options(self) -> list[str]:
        """pip's options: the registry keeps each config setting without its ``-C``."""
        return [option for setting in self.recipe.config_settings for option in ("-C", setting)]


@dataclass
class Abi3Plan:
    projects: list[Abi3Project] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    """backend -> why it has no stable-ABI build."""
    backends: list[str] = field(default_factory=list)
    """Every backend with a row in the table, in the registry's order."""


def abi3_plan() -> Abi3Plan:
    """From the registry: the projects to build once as abi3 wheels, and the backends refused."""
    projects: dict[str, Abi3Project] = {}
    found = Abi3Plan()
    for s in factlab.specs():
        if s.stable_abi is None:  # nothing compiled of its own (baselines, ctypes, cffi's ABI modes)
            continue
        found.backends.append(s.name)
        if s.stable_abi.refused or not s.project:
            found.refused[s.name] = s.stable_abi.refused or "no project builds it"
        elif s.project in projects:
            projects[s.project] = replace(
                projects[s.project], backends=(*projects[s.project].backends, s.name)
            )
        else:
            projects[s.project] = Abi3Project(s.project, s.stable_abi, (s.name,))
    found.projects = list(projects.values())
    return found


def build_once(builder: Interpreter, planned: Abi3Plan, say: Progress) -> dict[str, Build]:
    """Each project's abi3 wheel, built with ``builder``: project -> Build (failed if not tagged abi3)."""
    say("stable ABI", f"building the abi3 wheels once, with {builder.id}")
    builds: dict[str, Build] = {}
    for p in planned.projects:
        name = Path(p.project).name
        say("stable ABI", f"pip wheel {p.project} (abi3)")
        built = build_wheel(
            builder,
            p.project,
            out() / "wheels" / "abi3" / name,
            logs("abi3") / f"build-{name}.log",
            options=p.pip_options(),
            env=dict(p.recipe.env),
        )
        if built.ok and built.wheel is not None and not is_abi3(built.wheel):
            built = Build(False, f"built {built.wheel.name}, tagged {wheel_tags(built.wheel)}: not abi3")
        builds[p.project] = built
    return builds


def rows(planned: Abi3Plan, builds: dict[str, Build], builder: Interpreter) -> dict[str, dict[str, Any]]:
    """The table's row per backend, before any proof: built (ok), failed, or refused (unsupported)."""
    by_backend = {b: p for p in planned.projects for b in p.backends}
    table: dict[str, dict[str, Any]] = {}
    for name in planned.backends:
        if name in planned.refused:
            table[name] = {"backend": name, "status": "unsupported", "reason": planned.refused[name]}
            continue
        p = by_backend[name]
        built = builds[p.project]
        table[name] = {
            "backend": name,
            "status": "ok" if built.ok else "failed",
            "reason": built.reason,
            "artifact": str(built.wheel.relative_to(root())) if built.wheel else None,
            "built_with": f"{builder.id}: {p.recipe.how}",
            "passes_on": [],
            "fails_on": {},
            "ns": {},
        }
    return table


def stable_abi(
    interps: list[Interpreter], cells: list[Cell], quick: bool, say: Progress
) -> list[dict[str, Any]]:
    """Build each abi3 artifact once, on the oldest CPython, and prove it on every CPython."""
    cpythons = [i for i in interps if i.gil_cpython and i.version >= ABI3_FLOOR and i.python.exists()]
    if not cpythons:
        return []
    planned = abi3_plan()
    builds = build_once(cpythons[0], planned, say)
    table = rows(planned, builds, cpythons[0])
    wheels = [b.wheel for b in builds.values() if b.ok and b.wheel is not None]
    ok_cells = {(c.interpreter, c.backend) for c in cells if c.status == "ok"}
    names = [n for n, r in table.items() if r["status"] == "ok"]
    for interp in cpythons:
        if names:
            prove_on(interp, names, table, wheels, ok_cells, quick, say)
    return list(table.values())


def prove_on(
    interp: Interpreter,
    names: list[str],
    table: dict[str, dict[str, Any]],
    wheels: list[Path],
    ok_cells: set[tuple[str, str]],
    quick: bool,
    say: Progress,
) -> None:
    """Install the abi3 wheels beside ``interp``'s own builds; load, test and time them there."""
    site, where = out() / "abi3" / interp.id, logs(interp.id)
    ran = install(interp, wheels, where / "abi3-install.log", target=site)
    if not ran.ok:
        for n in names:
            table[n]["fails_on"][interp.id] = f"does not install: {ran.error()}"
        return
    say("stable ABI", f"{interp.id}: load, test and time the abi3 artifacts")
    loaded = probe(interp, names, where / "abi3-probe.log", pythonpath=site)
    outcomes = contract(interp, names, where / "abi3-contract.log", quick=quick, pythonpath=site)
    suites = {kind: where / f"{kind}-pyperf.json" for kind in ("abi3", "specific")}  # one name, two builds
    for suite in suites.values():
        suite.unlink(missing_ok=True)
    for n in names:
        got = loaded[n]
        if "error" in got:
            table[n]["fails_on"][interp.id] = got["error"]
        elif not got["abi3"]:
            table[n]["fails_on"][interp.id] = f"imported {got['artifact']}, not the abi3 artifact"
        elif outcomes.get(n):
            table[n]["fails_on"][interp.id] = f"contract: {outcomes[n]}"
        else:
            table[n]["passes_on"].append(interp.id)
            log = where / f"abi3-time-{n}.log"
            timed = time_backend(interp, n, got["calls"], quick, log, suites["abi3"], site)
            mine = None  # the version-specific build, timed right after, when it is ok here
            if (interp.id, n) in ok_cells:
                log = where / f"specific-time-{n}.log"
                mine = time_backend(interp, n, got["calls"], quick, log, suites["specific"])
            table[n]["ns"][interp.id] = {
                "abi3": means(timed),
                "version_specific": means(mine) if mine else None,
            }


def means(timed: dict[str, dict[str, float | None]] | str) -> dict[str, float | None]:
    """``{"factorial(25)": mean ns, "crossing(25)": ...}`` from a timing (None where it failed)."""
    calls = [call_name("factorial"), call_name("crossing")]
    if isinstance(timed, str):
        return dict.fromkeys(calls)
    return {call: (timed.get(call) or {}).get("mean_ns") for call in calls}
