"""A run's results: assembled, written (``results.json``, ``summary.md``, ``figures.md``), and compared
with the committed ones (``--check-committed``): a cell they mark ok that is not ok now is a
regression; an interpreter they cover that this machine lacks is reported, never counted as one."""

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
