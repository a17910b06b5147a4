"""The matrix's results as Markdown: ``summary.md`` (its tables, each between mdBook anchors) and
``figures.md`` (single figures for the book's sentences). Tables are :class:`factlab._render.Table`,
numbers :mod:`factlab._render`'s, as in the bench. Both render any results.json, the committed one
included: a figure a run did not measure shows as not measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import factlab
from factlab._render import Table, X, anchored, code, ns, to_markdown

F25, X25 = "factorial(25)", "crossing(25)"
NOT_MEASURED = "not measured"
MARKS = {"ok": "ok", "unsupported": "unsupported", "failed": "**failed**"}


def section(anchor: str, table: Table) -> list[str]:
    """A table under its heading; the table and its notes between anchors (the chapter has its heading)."""
    heading, _blank, *body = to_markdown(table).splitlines()
    while body and not body[-1]:
        body.pop()
    return [heading, "", *anchored(anchor, body)]


def nanoseconds(value: float | None) -> str:
    return "" if value is None else ns(value * 1e-9)


def count(value: float | None) -> str:
    return NOT_MEASURED if value is None else f"{value:,.0f}"


def refer(notes: list[str], text: str) -> str:
    """`` [k]``: the number of ``text`` among the table's numbered notes (added to them if new)."""
    numbered = [n.split("] ", 1)[1] for n in notes if n.startswith("[")]
    if text not in numbered:
        numbered.append(text)
        notes.append(f"[{len(numbered)}] {text}")
    return f" [{numbered.index(text) + 1}]"


def timing_words(results: dict[str, Any]) -> str:
    """How the run timed its calls, in the words of its results (older runs used timeit)."""
    timing = results.get("timing", {})
    if timing.get("describe"):
        return str(timing["describe"])
    if str(timing.get("method", "")).startswith("timeit"):
        return f"timeit, best of {timing.get('repeats')} repeats"
    return str(timing.get("method", "unknown"))


def instructions_words(results: dict[str, Any]) -> str:
    counted = results.get("instructions")
    if not counted:
        return f"instructions per call: {NOT_MEASURED} (these results predate the column)"
    return f"instructions per call: {counted['describe']}"


def status_table(results: dict[str, Any], interps: list[str], backends: list[str]) -> Table:
    cells = {(c["interpreter"], c["backend"]): c for c in results["cells"]}
    found = ", ".join(f"{i['id']} ({i['version']})" for i in results["interpreters"] if not i.get("missing"))
    table = Table("Does it build, load and pass the contract?", ["backend", *interps], left=1 + len(interps))
    table.notes.append(f"Interpreters: {found}.")
    missing = [i for i in results["interpreters"] if i.get("missing")]
    if missing:
        table.notes.append(
            "**Missing here**: " + ", ".join(f"{i['id']} ({code(i['install'])})" for i in missing)
        )
    for b in backends:
        row = [b]
        for i in interps:
            c = cells.get((i, b))
            mark = MARKS[c["status"]] if c else ""
            if c and c["status"] != "ok":
                mark += refer(table.notes, f"**{b}**: {code(c['reason'])}")
            row.append(mark + (" (abi3)" if c and c.get("abi3") and c["status"] == "ok" else ""))
        table.rows.append(row)
    contract = results.get("contract", {})
    if contract:
        table.notes.append(f"The contract: {contract['tests']}.")
        for interp, left in contract.get("left_out", {}).items():
            table.notes.append(f"On {interp} it leaves out {', '.join(left['tests'])}: {left['why']}.")
    return table


def timing_table(results: dict[str, Any], interps: list[str], backends: list[str], call: str) -> Table:
    """ns per call of ``call`` per backend and interpreter; for factorial(25), instructions beside each."""
    cells = {(c["interpreter"], c["backend"]): c for c in results["cells"]}
    counted = call == F25
    headers = ["backend"]
    for i in interps:
        headers += [f"{i} (ns)", f"{i} (instructions)"] if counted else [i]
    title = f"{call}: ns per call" + (" and instructions per call" if counted else "")
    table = Table(title, headers, notes=[f"ns: {timing_words(results)}."])
    if counted:
        table.notes.append(instructions_words(results) + ".")
    for b in backends:
        row = [b]
        for i in interps:
            c = cells.get((i, b)) or {"status": "absent"}
            ok = c["status"] == "ok"
            row.append(nanoseconds(c["ns"].get(call)) if ok else "")
            if counted:
                row.append(count((c.get("instructions") or {}).get(call)) if ok else "")
        table.rows.append(row)
    return table


def stable_abi_table(results: dict[str, Any]) -> Table:
    headers = [
        "backend",
        "artifact (built once)",
        "built with",
        "imports and passes the contract on",
        "fails on",
    ]
    table = Table("One binary for every CPython (stable ABI, abi3)", headers, left=len(headers))
    for r in results["stable_abi"]:
        b = r["backend"]
        if r["status"] != "ok":
            reason = r["reason"] if r["status"] == "unsupported" else code(r["reason"])
            why = refer(table.notes, f"**{b}**: {reason}").strip()
            table.rows.append([b, f"none ({r['status']})", r.get("built_with", ""), "", why])
            continue
        fails = [f"{i}{refer(table.notes, f'**{b}** on {i}: {code(v)}')}" for i, v in r["fails_on"].items()]
        artifact = f"`{Path(r['artifact']).name}`" if r["artifact"] else ""
        table.rows.append(
            [b, artifact, r["built_with"], ", ".join(r["passes_on"]), ", ".join(fails) or "none"]
        )
    return table


def limited_cost_table(results: dict[str, Any]) -> Table:
    headers = ["backend", "interpreter", f"{F25} abi3", "version-specific", f"{X25} abi3", "version-specific"]
    title = "What the limited API costs: ns per call, the abi3 binary beside the version-specific one"
    table = Table(title, headers, notes=[f"ns: {timing_words(results)}."], left=2)
    for r in results["stable_abi"]:
        for i, timed in (r.get("ns") or {}).items():
            mine = timed.get("version_specific") or {}
            figures = [timed["abi3"].get(F25), mine.get(F25), timed["abi3"].get(X25), mine.get(X25)]
            table.rows.append([r["backend"], i, *map(nanoseconds, figures)])
    return table


def subinterpreters_table(results: dict[str, Any], backends: list[str]) -> Table:
    subs = results["subinterpreters"]
    columns = list(dict.fromkeys((r["interpreter"], r["gil"]) for r in subs))
    headers = ["backend", *(f"{i}, {g} GIL" for i, g in columns)]
    table = Table("Subinterpreters: import, then factorial(25) and factorial(1000) in there", headers)
    table.left = len(headers)
    by = {(r["interpreter"], r["backend"], r["gil"]): r for r in subs}
    for b in backends:
        row = [b]
        for i, g in columns:
            r = by.get((i, b, g))
            mark = MARKS[r["status"]] if r else ""
            if r and r["status"] != "ok":
                mark += refer(table.notes, f"**{b}**: {code(r['reason'])}")
            row.append(mark)
        table.rows.append(row)
    return table


def render_summary(results: dict[str, Any]) -> str:
    """The Markdown tables of a run, each between mdBook anchors (the book's chapter includes them)."""
    interps = [i["id"] for i in results["interpreters"] if not i.get("missing")]
    backends = list(dict.fromkeys(c["backend"] for c in results["cells"]))
    run_kind = "just matrix --quick" if results.get("quick") else "just matrix"
    out = [
        f"<!-- generated by `{run_kind}` (python -m factlab matrix) on {results['generated'][:10]}, "
        f"in {results['seconds'] // 60} min {results['seconds'] % 60} s: do not edit -->",
        "",
        *section("status", status_table(results, interps, backends)),
        *section("factorial", timing_table(results, interps, backends, F25)),
        *section("crossing", timing_table(results, interps, backends, X25)),
    ]
    if results.get("stable_abi"):
        out += section("stable-abi", stable_abi_table(results))
        out += section("limited-cost", limited_cost_table(results))
    if results.get("subinterpreters"):
        out += section("subinterpreters", subinterpreters_table(results, backends))
    return "\n".join(out)


def seed_backend() -> str | None:
    """The seed article's CFFI: the cffi backend that links the C library in (API mode), by its spec."""
    return next((s.name for s in factlab.specs() if s.tool == "cffi" and s.clib == "static"), None)


def figure(name: str, text: str) -> list[str]:
    return anchored(name, [text])[:-1]


def render_figures(results: dict[str, Any]) -> str:
    """Single figures for the book's sentences, between anchors: ``figures.md:pypy-39-cffi-api-f25``."""
    out = ["<!-- generated by python -m factlab matrix from results.json: do not edit -->", ""]
    by = {(c["interpreter"], c["backend"]): c for c in results["cells"]}
    for (interp, backend), c in by.items():
        if c["status"] != "ok":
            continue
        for call, short in ((F25, "f25"), (X25, "x25")):
            if c["ns"].get(call) is not None:
                out += figure(f"{interp}-{backend}-{short}", f"{nanoseconds(c['ns'][call])} ns")
        if c["ns"].get(F25) is not None:  # the seed article's unit: a million calls of factorial(25)
            out += figure(f"{interp}-{backend}-million", f"{c['ns'][F25] / 1000:.2f} s")
        counted = (c.get("instructions") or {}).get(F25)
        if counted is not None:
            out += figure(f"{interp}-{backend}-f25-instructions", f"{counted:,.0f} instructions")
    for row in results.get("stable_abi", []):
        for interp, timed in (row.get("ns") or {}).items():
            prefix = f"abi3-{interp}-{row['backend']}"
            out += figure(f"{prefix}-f25", f"{nanoseconds(timed['abi3'][F25])} ns")
            if timed.get("version_specific"):
                out += figure(f"{prefix}-specific-f25", f"{nanoseconds(timed['version_specific'][F25])} ns")
    return "\n".join(out + seed_ratios(results, by)) + "\n"


def seed_ratios(results: dict[str, Any], by: dict[tuple[str, str], Any]) -> list[str]:
    """The seed article's ratio on each interpreter: the pure loop's factorial(25) over cffi's API mode's."""
    cffi = seed_backend()
    if cffi is None:  # no cffi backend registered: no seed experiment to redo
        return []
    out = [
        f"<!-- seed-ratio: {factlab.PURE} over {cffi}, the first cffi backend that links the C library in -->"
    ]
    for interp in dict.fromkeys(c["interpreter"] for c in results["cells"]):
        pure, api = by.get((interp, factlab.PURE)), by.get((interp, cffi))
        if pure and api and pure["status"] == api["status"] == "ok":
            ratio = pure["ns"][F25] / api["ns"][F25]
            out += figure(f"{interp}-seed-ratio", f"{ratio:.1f}{X}")
    return out
