"""A run's results: assembled, written (``results.json``, ``summary.md``, ``figures.md``), compared
with the committed ones (``--check-committed``: a cell they mark ok that is not ok now is a
regression; an interpreter they cover that this machine lacks is reported, never counted as one),
and merged into them (``--merge-committed``: a run of some interpreters replaces theirs)."""

from __future__ import annotations

import copy
import datetime
import json
import os
import platform
from pathlib import Path
from typing import Any

import factlab.matrix.contract as contract
import factlab.matrix.timing as timing
from factlab.matrix.cells import Cell
from factlab.matrix.discovery import Interpreter, Missing, install_hint
from factlab.matrix.render import render_figures, render_summary
from factlab.matrix.venvs import pinned_tools
from factlab.matrix.workspace import out


def assemble(
    *,
    quick: bool,
    seconds: float,
    interps: list[Interpreter],
    missing: list[Missing],
    cells: list[Cell],
    stable_abi: list[dict[str, Any]],
    subinterpreters: list[dict[str, Any]],
    threads: dict[str, Any],
) -> dict[str, Any]:
    """The run as results.json holds it."""
    why_not = timing.not_counted(quick)
    return {
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "timing": timing.timing_record(quick),
        "instructions": {
            "counted": not why_not,
            "describe": why_not
            or f"callgrind (factlab.instructions.per_call, K = {timing.COUNTED_CALLS:,}), loop included",
        },
        "seconds": round(seconds),
        "interpreters": [
            {
                "id": i.id,
                "version": i.full_version,
                "implementation": i.implementation,
                "tools": pinned_tools(i),
            }
            for i in interps
        ]
        + [{"id": m.id, "missing": True, "install": m.install} for m in missing],
        "contract": contract.describe(quick, interps),
        "cells": [c.as_dict() for c in cells],
        "stable_abi": stable_abi,
        "subinterpreters": subinterpreters,
        "threads": threads,
    }


def write(results: dict[str, Any]) -> Path:
    """results.json, summary.md and figures.md into target/matrix; returns that folder."""
    folder = out()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    (folder / "summary.md").write_text(render_summary(results), encoding="utf-8")
    (folder / "figures.md").write_text(render_figures(results), encoding="utf-8")
    return folder


def ran(results: dict[str, Any]) -> list[str]:
    """The interpreters a run covers (not those it lists as missing)."""
    return [i["id"] for i in results["interpreters"] if not i.get("missing")]


def within(committed: dict[str, Any], interps: list[str]) -> dict[str, Any]:
    """The committed results, restricted to ``interps``: what this run can be held to."""
    kept = copy.deepcopy(committed)
    kept["cells"] = [c for c in kept.get("cells", []) if c["interpreter"] in interps]
    kept["subinterpreters"] = [r for r in kept.get("subinterpreters", []) if r["interpreter"] in interps]
    for row in kept.get("stable_abi", []):
        row["passes_on"] = [i for i in row.get("passes_on", []) if i in interps]
    return kept


def compare(committed: dict[str, Any], now: dict[str, Any]) -> list[str]:
    """What the committed results mark ok and this run does not: one line each (empty: no regression)."""
    lost: list[str] = []
    cells = {(c["interpreter"], c["backend"]): c for c in now["cells"]}
    for c in committed.get("cells", []):
        got = cells.get((c["interpreter"], c["backend"]))
        if c["status"] != "ok" or (got and got["status"] == "ok"):
            continue
        where = f"{c['interpreter']} / {c['backend']}: ok in the committed results"
        lost.append(
            f"{where}, not run now" if got is None else f"{where}, now {got['status']}: {got['reason']}"
        )
    abi = {r["backend"]: r for r in now.get("stable_abi", [])}
    for r in committed.get("stable_abi", []) if now.get("stable_abi") else []:
        for interp in r.get("passes_on", []):
            if interp not in (abi.get(r["backend"]) or {}).get("passes_on", []):
                lost.append(
                    f"stable ABI {r['backend']} on {interp}: passed in the committed results, not now"
                )
    subs = {(r["interpreter"], r["backend"], r["gil"]): r for r in now.get("subinterpreters", [])}
    for r in committed.get("subinterpreters", []):
        key = (r["interpreter"], r["backend"], r["gil"])
        if r["status"] == "ok" and (subs.get(key) or {}).get("status") != "ok":
            lost.append(
                f"subinterpreter {r['backend']} ({r['gil']} GIL) on {r['interpreter']}: ok before, not now"
            )
    return lost


def check_committed(
    committed: dict[str, Any], now: dict[str, Any], only: list[str]
) -> tuple[list[str], list[str]]:
    """(regressions, interpreters not checked): the run held to the committed results where it ran.

    An interpreter the committed results cover that this run did not (missing on this machine) is
    reported with the command that installs it; one that ``--only`` left out is not mentioned.
    """
    here = ran(now)
    absent = [i for i in ran(committed) if i not in here and (not only or i in only)]
    unchecked = [
        f"{i} is not on this machine (install: {install_hint(i)}): its committed cells are not checked"
        for i in absent
    ]
    return compare(within(committed, here), now), unchecked


def order(interpreter: str) -> tuple[int, tuple[int, ...], bool]:
    """Where an interpreter's column goes: CPythons by version (each free-threaded build after its
    GIL build), then PyPy."""
    implementation, _, version = interpreter.partition("-")
    numbers = tuple(int(part) for part in version.rstrip("t").split("."))
    return ({"cpython": 0, "pypy": 1}.get(implementation, 2), numbers, version.endswith("t"))


def replaced(old: list[dict[str, Any]], new: list[dict[str, Any]], here: list[str]) -> list[dict[str, Any]]:
    """``old``'s rows of the interpreters not in ``here``, then ``new``'s, in the columns' order."""
    rows = [r for r in old if r["interpreter"] not in here] + [r for r in new if r["interpreter"] in here]
    return sorted(rows, key=lambda r: order(r["interpreter"]))  # stable: each column's rows keep their order


def merge(committed: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """The committed results with the run's interpreters in place of theirs, or added.

    Per interpreter (its listing, cells, subinterpreters, threads, what its contract left out): the
    run's. The whole-run parts stay the committed run's: its header and the stable-ABI proof (each
    abi3 wheel built once, on the oldest CPython, and proven on all of them is one experiment).
    ``merged`` says which interpreters came from which run, and how that run timed its calls.
    """
    here = ran(run)
    merged = copy.deepcopy(committed)
    listed = [i for i in committed["interpreters"] if i["id"] not in here]
    listed += [i for i in run["interpreters"] if i["id"] in here]
    merged["interpreters"] = sorted(listed, key=lambda i: order(i["id"]))
    merged["cells"] = replaced(committed["cells"], run["cells"], here)
    merged["subinterpreters"] = replaced(committed.get("subinterpreters", []), run["subinterpreters"], here)
    threads = copy.deepcopy(run.get("threads") or committed.get("threads") or {})
    if threads:
        threads["rows"] = replaced((committed.get("threads") or {}).get("rows", []), threads["rows"], here)
    merged["threads"] = threads
    left_out = {k: v for k, v in committed["contract"].get("left_out", {}).items() if k not in here}
    merged["contract"]["left_out"] = left_out | run["contract"].get("left_out", {})
    earlier = [m for m in committed.get("merged", []) if set(m["interpreters"]) - set(here)]
    for m in earlier:
        m["interpreters"] = [i for i in m["interpreters"] if i not in here]
    part = {k: run[k] for k in ("generated", "seconds", "quick", "timing", "instructions") if k in run}
    merged["merged"] = [*earlier, {"interpreters": here, **part}]
    return merged
