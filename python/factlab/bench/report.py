"""The run's tables, from its results: rich in the terminal, Markdown in ``summary.md``.

Every ratio reads one way, the way the targets read: "A is r x faster than
B", r = B's time / A's time (below 1x when A is slower).
"""

from __future__ import annotations

from typing import Any

from factlab._render import Table, X, ns, seconds, times, to_markdown, why
from factlab.bench.scenarios import GMPY2, SCENARIOS, TITLES

ARTICLE = {"calls": 1_000_000, "python_s": 1.91, "cffi_s": 0.13, "speedup": 14}  # the seed article's figures


class Results:
    """Lookups into one run's results.json."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.scenarios: dict[str, list[dict[str, Any]]] = data["scenarios"]

    def rows(self, scenario: str) -> list[dict[str, Any]]:
        return self.scenarios.get(scenario, [])

    def row(self, scenario: str, backend: str, n: int | None = None, **match: Any) -> dict[str, Any] | None:
        match.setdefault("strategy", "")  # a backend's own row, not one of its strategies
        for r in self.rows(scenario):
            mine = r["backend"] == backend and (n is None or r.get("n") == n)
            if mine and all(r.get(k, "" if k == "strategy" else 0) == v for k, v in match.items()):
                return r
        return None

    def mean(self, scenario: str, backend: str, n: int | None = None, **match: Any) -> float | None:
        r = self.row(scenario, backend, n, **match)
        return r["mean"] if r is not None and r["status"] == "ok" else None

    def faster(self, mine: float | None, other: float | None) -> float | None:
        """How many times faster ``mine`` is than ``other``."""
        return other / mine if mine and other else None

    def backends(self, scenario: str) -> list[str]:
        return list(dict.fromkeys(r["backend"] for r in self.rows(scenario)))


def article_table(res: Results) -> Table:
    faster = [f"{X} faster than pure Python", f"{X} faster than math"]
    t = Table(TITLES["article"], ["backend", "ns per call", "1,000,000 calls", *faster])
    py, m = res.mean("article", "python"), res.mean("article", "math")
    for b in res.backends("article"):
        r, mean = res.row("article", b), res.mean("article", b)
        if mean is None:
            t.problem(b, r)
            continue
        speedups = [times(res.faster(mean, py)), times(res.faster(mean, m))]
        t.rows.append([b, ns(mean, r["stdev"]), f"{mean * 1e6:.3f} s", *speedups])  # type: ignore[index]
    a = ARTICLE
    t.rows.append(["the article: pure Python", "—", f"{a['python_s']:.2f} s", f"1{X}", "—"])
    t.rows.append(["the article: CFFI (25! wrong)", "—", f"{a['cffi_s']:.2f} s", f"{a['speedup']}{X}", "—"])
    t.notes.append(
        "Mean ± std dev of pyperf's values, per call, loop included. Every timed loop's last value was "
        "compared with math.factorial(25): a wrong answer fails its row instead of giving a figure."
    )
    t.notes.append(
        "The article's rows are its own figures on its own machine (compare ratios): its CFFI function "
        "returned a C long, which overflows at 21!, and its pure-Python loop gave 0! = 0."
    )
    return t


def crossing_table(res: Results) -> Table:
    t = Table(TITLES["crossing"], f"backend|crossing(25) ns|factorial(25) ns|cost of exactness ns|factorial "
              f"{X} faster than crossing".split("|"))  # fmt: skip
    for b in res.backends("crossing"):
        cross, fact = res.mean("crossing", b), res.mean("article", b)
        if cross is None:
            t.problem(b, res.row("crossing", b))
            continue
        extra = None if fact is None else fact - cross
        noise = " (noise: crossing ≥ call)" if extra is not None and extra <= 0 else ""
        t.rows.append(
            [
                b,
                ns(cross, res.row("crossing", b)["stdev"]),  # type: ignore[index]
                "—" if fact is None else ns(fact),
                "—" if extra is None else ns(extra) + noise,
                times(res.faster(fact, cross)),
            ]
        )
    t.notes.append(
        "crossing(n) is each binding's bare entry point: u64 in, u64 out, no checks, no big int (0 past 20!, "
        "by design). math's crossing is math.factorial itself. A cost of exactness at or below 0 is noise."
    )
    return t


def sweep_table(res: Results) -> Table:
    rows = res.rows("sweep")
    ns_list = sorted({r["n"] for r in rows if "n" in r})
    t = Table(TITLES["sweep"] + " (ns per call)", ["backend", *[f"n={n:,}" for n in ns_list]])
    labels = list(dict.fromkeys((r["backend"], r.get("strategy", "")) for r in rows))
    for b, strategy in labels:
        cells = {}
        for r in rows:
            if r["backend"] == b and r.get("strategy", "") == strategy and "n" in r:
                cells[r["n"]] = ns(r["mean"]) if r["status"] == "ok" else r["status"]
                if r["status"] != "ok":
                    t.notes.append(f"{r['name']}: {r.get('note', r['status'])}")
        whole = next((r for r in rows if r["backend"] == b and "n" not in r), None)
        label = f"{b} [{strategy}]" if strategy else ("gmpy2 (GMP, reference)" if b == GMPY2 else b)
        if whole:
            t.problem(label, whole)
        else:
            t.rows.append([label, *[cells.get(n, "—") for n in ns_list]])
    t.notes.append(
        "0..20: the u64 table; 21..34: u128; 35 on: a big integer from limbs. gmpy2's row is "
        "int(gmpy2.fac(n)): GMP with its conversion to a Python int. [name]: one of the backend's "
        "allocation strategies."
    )
    return t


def big_table(res: Results) -> Table:
    ns_list = sorted({r["n"] for r in res.rows("big") if "n" in r})
    headers = ["backend"]
    for n in ns_list:
        headers += [f"n={n:,}", f"{X} faster than math", f"{X} faster than gmpy2"]
    t = Table(TITLES["big"], headers)
    for b in res.backends("big"):
        cells = ["gmpy2 (GMP, reference)" if b == GMPY2 else b]
        for n in ns_list:
            mean, r = res.mean("big", b, n), res.row("big", b, n) or res.row("big", b)
            if mean is None:
                cells += [why(r), "", ""]
                continue
            cells += [
                seconds(mean),
                times(res.faster(mean, res.mean("big", "math", n))),
                times(res.faster(mean, res.mean("big", GMPY2, n))),
            ]
        t.rows.append(cells)
    t.notes.append("Every timed value was checked against n! from GMP (or math.factorial without gmpy2).")
    return t


def threads_table(res: Results) -> Table:
    rows = res.rows("threads")
    n = next((r["n"] for r in rows if "n" in r), 0)
    t = Table(
        f"{TITLES['threads']} (n={n:,})",
        ["backend", "t1: one call", "t2: two calls, two threads", f"two threads {X} faster than in turns",
         "other thread ran", "releases the GIL", "idle cores"],
    )  # fmt: skip
    for b in res.backends("threads"):
        one, two = res.row("threads", b, threads=1), res.row("threads", b, threads=2)
        if one is None or two is None or one["status"] != "ok" or two["status"] != "ok":
            bad = next((r for r in (one, two) if r is not None and r["status"] != "ok"), None)
            t.problem(b, bad or res.row("threads", b))
            continue
        share = one["gil_share"]
        t.rows.append(
            [b, seconds(one["mean"]), seconds(two["mean"]), times(2 * one["mean"] / two["mean"]),
             f"{min(share, 1.0):.0%}", releases_gil(b, share), f"{two['idle_cores']:.1f}"]
        )  # fmt: skip
    t.notes.append(
        f"In turns is 2·t1: two threads reach 2{X} when both calls run at once, 1{X} when they take turns; "
        "that needs two idle cores ('idle cores': measured just before the two-thread timing)."
    )
    t.notes.append(
        "'Other thread ran': how fast a second thread ran Python while the first was inside the call, "
        "against its speed alone. 0% means the call held the GIL: it does not need idle cores, so it decides "
        "'releases the GIL'."
    )
    return t


def size(n: int | None) -> str:
    """Bytes in the unit a reader takes in at once: 1.31 kB, 2.46 MB (powers of 1000)."""
    if n is None:
        return "—"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def ship_table(res: Results) -> Table:
    """Build, ship and import costs: one row per backend, the shared dependencies first."""
    t = Table(
        TITLES["ship"],
        ["backend", "needs to build", "needs to run", "wheel tags", "build: cold", "incremental",
         "artifact", "stripped", "wheel", "import alone", "import via load", "first call",
         "lines: code / comment / blank"],
        left=4,
    )  # fmt: skip

    def secs(v: float | None) -> str:
        return "—" if v is None else f"{v:.1f} s"

    for r in res.rows("ship"):
        if r["status"] != "ok":
            t.problem(r["backend"], r)
            continue
        lines = r.get("binding_lines")
        art = size(r.get("artifact_bytes")) + (
            f" (+ opens {size(r['opens_bytes'])})" if r.get("opens") else ""
        )
        if r.get("static_bytes"):
            art += f"; .a {size(r['static_bytes'])}"
        stripped = size(r.get("stripped_bytes"))
        if r.get("static_stripped_bytes"):
            stripped += f"; .a {size(r['static_stripped_bytes'])}"
        ms = "—" if r.get("import_ms") is None else f"{r['import_ms']:.1f} ms"
        t.rows.append([
            r["backend"], ", ".join(r.get("needs_build") or []) or ("—" if r.get("shared") else "nothing"),
            ", ".join(r.get("needs_run") or []) or "—", r.get("wheel_tags") or "—",
            secs(r.get("build_cold_s")), secs(r.get("build_incremental_s")), art, stripped,
            size(r.get("wheel_bytes")),
            "—" if r.get("import_module_ms") is None else f"{r['import_module_ms']:.1f} ms", ms,
            "—" if r.get("first_call_us") is None else f"{r['first_call_us']:.1f} µs",
            "—" if not lines else f"{lines['code']} / {lines['comment']} / {lines['blank']}",
        ])  # fmt: skip
    t.notes.append(
        "Builds: `pip wheel --no-deps --no-build-isolation` of each project in a copy of the sources. "
        "Cold: from a state where only the shared rows are built (each reported once); incremental: after "
        "a one-line change to the kernel, the backend's chain (the C ABI library first, for the backends "
        "over it). A backend without a project of its own builds nothing cold (0 s): its artifact is the "
        "shared library."
    )
    t.notes.append(
        "Artifact: the installed file its calls go through, as `just setup` built it; stripped: after "
        "`strip` (`--strip-debug` for the static library). Needs to run: Python distributions its "
        "import loads, then `ldd`. Imports: a fresh interpreter each, median of the runs (module alone: "
        "the compiled module or the backend's module; via load: `factlab.load(name)`); "
        "first call: `factorial(25)`."
    )
    return t


GIL_SHARE_THRESHOLD = 0.05  # a held GIL gives exactly 0; a released one > 0.1 even on a busy machine


def releases_gil(backend: str, share: float) -> str:
    if backend == "python":
        return "no: bytecode takes turns"
    return "yes" if share >= GIL_SHARE_THRESHOLD else "no"


NOT_MEASURED = "not measured"  # a target's "why" when nothing else explains it; unjudged: no figures


def targets_table(targets: list[dict[str, Any]]) -> Table:
    t = Table(
        "Speed targets: each a ratio within this run",
        ["target", "backend", "measured", "required", "verdict"],
        left=2,
    )
    # A target whose figures this run did not take (a scenario or backend left out) is counted, not listed.
    listed = [g for g in targets if g["met"] is not None or g.get("why", NOT_MEASURED) != NOT_MEASURED]
    for g in listed:
        digits = (
            ".4g" if f"{g['measured'] or 0:.3g}" == f"{g['required']:.3g}" else ".3g"
        )  # 19.98x is not 20x
        measured = (
            "—"
            if g["measured"] is None
            else f"{g['measured']:{digits}}{X}" + (f" ({g['where']})" if g.get("where") else "")
        )
        verdict = {True: "met", False: "NOT MET", None: g.get("why", NOT_MEASURED)}[g["met"]]
        t.rows.append([g["target"], g["backend"], measured, f"≥ {g['required']:.3g}{X}", verdict])
    judged = [g for g in targets if g["met"] is not None]
    t.notes.append(
        f"{sum(g['met'] for g in judged)} of {len(judged)} judged targets met; docs/src/targets.md says "
        "why each exists and what stops the others. (n=...): the worst n of a target over several."
        + (f" {len(targets) - len(listed)} more need figures this run did not take (a default run takes "
           "them all)." if len(listed) < len(targets) else "")
    )  # fmt: skip
    return t


TABLES = {
    "article": article_table,
    "crossing": crossing_table,
    "sweep": sweep_table,
    "big": big_table,
    "threads": threads_table,
    "ship": ship_table,
}


def tables(data: dict[str, Any]) -> list[Table]:
    res = Results(data)
    out = [TABLES[s](res) for s in SCENARIOS if res.rows(s)]
    return out + ([targets_table(data["targets"])] if data.get("targets") else [])


def summary_markdown(data: dict[str, Any]) -> str:
    """summary.md: the run, its machine, the charts and every table."""
    m = data["machine"]
    out = [
        "## factlab benchmark results",
        "",
        f"Measured {data['created']} in `{data['mode']}` mode ({data['wall_seconds']:.0f} s), "
        f"factlab commit {m.get('commit', 'unknown')}.",
        "",
        f"- Machine: {m.get('cpu_model_name')}, {m.get('cpu_count')} cores, {m.get('platform')}",
        f"- Python: {m.get('python_implementation')} {m.get('python_version')}; Rust: {m.get('rustc')}",
        "- Packages: " + ", ".join(f"{k} {v}" for k, v in m.get("packages", {}).items() if v),
        "- Harness: pyperf, one suite for the run (`pyperf.json` in the run's directory, readable with "
        "`python -m pyperf show`); settings: " + ", ".join(f"{k} {v}" for k, v in data["settings"].items()),
        "",
        "![factorial(25) per backend](chart.png)",
        "",
        "![per-call time across n](chart-detail.png)",
        "",
        *(["![build, ship and import costs](chart-ship.png)", ""] if data["scenarios"].get("ship") else []),
    ]
    return "\n".join(out + [to_markdown(t) for t in tables(data)]).rstrip() + "\n"
