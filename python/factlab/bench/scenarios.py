"""What a run times: the modes, the scenarios, and the plan of pyperf benchmarks (:func:`factlab.bench.plan`).

A scenario is a function from a :class:`Context` (the backends, the mode) to
:class:`Entry` items, each named like ``article/pyo3/factorial(25)``: a pyperf
benchmark, or, for the scenarios in :data:`COUNTED`, an instruction count
under callgrind (:mod:`factlab.bench._count`), or, for the shapes in
:data:`CONTROLLED`, a measurement in a fresh process of its own
(:mod:`factlab.bench._control`): its ``step``. Adding a scenario is one such
function in :data:`SCENARIOS` and one table in :mod:`factlab.bench.report`.
Every backend list comes from the registry; nothing here names a backend.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import cache

import factlab
from factlab import PURE, STDLIB

ARTICLE_N = 25
GMPY2 = "gmpy2"  # the reference row: int(gmpy2.fac(n)), GMP's factorial with its conversion
FLOOR = "floor"  # batch's reference row: array('Q', the n!).tolist(), one Python int per element
GMPY2_NS = (35, 100, 300, 1_000, 3_000, 10**4, 10**5)  # issue 16's range, and 10**6 in *big*
HEAVY_N = 10**5  # from here on a call takes milliseconds: one call per value, no calibration
IDLE_CORES = 1.8  # two threads can only run at once on two idle cores


@dataclass(frozen=True)
class Mode:
    """pyperf's settings for one kind of run, and the n each scenario covers."""

    name: str
    processes: int  # pyperf worker processes per benchmark (plus one that calibrates the loops)
    values: int
    warmups: int
    min_time: float  # seconds of one value: pyperf calibrates the loops to reach it
    heavy_processes: int  # n >= HEAVY_N and threads: loops=1, values chosen by the budget
    heavy_values: int
    budget: float  # seconds of timed calls a heavy benchmark aims at
    skip_above: float  # seconds a call: a heavy benchmark estimated slower is skipped
    sweep_ns: tuple[int, ...]
    big_ns: tuple[int, ...]
    strategy_ns: tuple[int, ...]
    threads_n: int
    count_calls: int  # K of an instruction count (the runs of K and 2K calls): fewer for n >= 1000
    count_ns: tuple[int, ...]  # the sweep's n counted with callgrind (beside the article's 25 and crossing)
    batch_sizes: tuple[int, ...]  # how many values one factorials(ns) call gets (the batch scenario)
    digits_ns: tuple[int, ...]  # the n of factorial_str(n) (the digits scenario)
    sigint_ns: tuple[int, ...]  # the n of factorial(n) that a SIGINT interrupts (the callback scenario)
    control_runs: int  # SIGINTs per n, pairs of calls with and without the hook: the table gives medians


SWEEP_NS = (0, 5, 20, 21, 25, 34, 35, 100, 300, 1_000, 3_000, 10**4, 10**5)
STRATEGY_NS = (35, 100, 1_000, 10**5)  # issue 16: one sweep row per allocation strategy
# Counted with callgrind besides factorial(25) and crossing(25): the first big integer, and n where
# the kernel's work outweighs the crossing. About 6 s a count, two at once: 38 counts, 2 minutes.
COUNT_NS = (35, 1_000)
BATCH_SIZES = (1_000, 1_000_000)  # issue 21: a batch per element, short and long
DIGITS_NS = (1_000, 10**4, 10**5, 10**6)
SIGINT_NS = (10**6, 10**7)  # issue 22: Ctrl-C within 100 ms, at 10**6 (about 0.1 s a call) and 10**7 (2 s)
SIGINT_AFTER = 0.03  # seconds into the call when the SIGINT is sent: well before 10**6! is done
CALLBACK_N = 20  # factorial_progress(20, noop) against factorial(20): the kernel's hook runs once, at the end
HOOK_N = 10**6  # the hook's cost: factorial(10**6) against a path of the same backend that goes without it
OBJECT_N = 5  # issue 23: next(Factorials(5)), an object made, stepped once and dropped, against factorial(5)
# The per-step cost of next() on a running iterator: (first n timed, steps timed), from n <= 20 (the u64
# table) and around 10**4 (one multiplication over ~1,800 limbs, and the int made from them).
STEPS = ((5, 16), (10**4, 1_000))
MODES = {
    # A smoke run of seconds: rough figures, never published (`just docs-bench` refuses it).
    "quick": Mode("quick", 1, 2, 1, 0.005, 1, 2, 0.3, 1.0, (0, 25, 35, 1000), (10**5,), (35,), 100_000,
                  2_000, (), (1_000,), (1_000, 10**4), SIGINT_NS, 3),
    # A few minutes on two cores: fewer processes and shorter values than pyperf's defaults.
    "default": Mode("default", 2, 3, 1, 0.02, 1, 5, 2.0, 30.0, SWEEP_NS, (10**6,), STRATEGY_NS, 300_000,
                    20_000, COUNT_NS, BATCH_SIZES, DIGITS_NS, SIGINT_NS, 7),
    # pyperf's own defaults (20 processes x 3 values of 100 ms): for publication, about an hour.
    "rigorous": Mode("rigorous", 20, 3, 1, 0.1, 3, 10, 20.0, 600.0, SWEEP_NS, (10**6,), STRATEGY_NS, 300_000,
                     20_000, COUNT_NS, BATCH_SIZES, DIGITS_NS, SIGINT_NS, 21),
}  # fmt: skip


# How an entry calls its function f (the Entry's ``shape``). A batch's n is its number of values.
ONE = ""  # f(n), in a loop of calls
STR = "str"  # str(f(n)), the interpreter's digit limit lifted in the timing process (as a user would)
LIST, ARRAY = "list", "array"  # f(ns): n random values in 0..20 in a list, or in an array('Q')
LOOP = "loop"  # [f(k) for k in ns] over the list: the Python loop of single calls
BATCH_SHAPES = (LIST, ARRAY, LOOP)
HOOK = "hook"  # f(n, noop): factorial_progress with a callback that does nothing
NEW = "new"  # next(f(n)): a Factorials object created, stepped once and dropped
STEP = "step"  # next(it), ``steps`` times in a row, on an iterator that already returned (n-1)!
OBJECT_SHAPES = (NEW, STEP)  # timed by factlab.bench._objects
# Calls the backends gained one by one (issue 23): a backend without it yet is skipped, with the reason.
NEWER_CALLS = ("Factorials",)
# Measured in a fresh process of its own, not by pyperf (factlab.bench._control):
SIGINT = "sigint"  # f(n), a SIGINT sent 30 ms into it: the time until KeyboardInterrupt
PAIRED = "paired"  # f(n) through the kernel's hook, then without it (another path), in turns
CONTROLLED = (SIGINT, PAIRED)

# What measures an entry (its ``step``): pyperf's suite, callgrind, or a fresh process (CONTROLLED).
PYPERF, CALLGRIND, CONTROL = "pyperf", "callgrind", "control"


@dataclass(frozen=True)
class Entry:
    """One pyperf benchmark: ``module.call(n)`` (or a strategy of it), timed in a loop or in threads."""

    scenario: str
    backend: str
    module: str  # what the worker imports (a backend registered at run time is found without the registry)
    n: int
    call: str = "factorial"
    strategy: str = ""  # a key of the module's optional `strategies` dict (issue 16)
    threads: int = 0  # 0: a loop of calls; k: k threads computing f(n) at once
    checked: bool = True  # every timed value compared with an independent n!
    shape: str = ONE  # how f is called: one of ONE, STR, LIST, ARRAY, LOOP, HOOK, NEW, STEP, ...
    steps: int = 0  # STEP: the next() calls of one timed loop (pyperf's inner loops: its times are per step)

    @property
    def name(self) -> str:
        who = self.backend + (f"[{self.strategy}]" if self.strategy else "")
        call = {
            STR: f"str({self.call}({self.n}))",
            LIST: f"{self.call}(list[{self.n}])",
            ARRAY: f"{self.call}(array('Q')[{self.n}])",
            LOOP: f"[{self.call}(k) for k in list[{self.n}]]",
            HOOK: f"{self.call}({self.n}, noop)",
            SIGINT: f"SIGINT into {self.call}({self.n})",
            PAIRED: f"{self.call}({self.n}) with the hook and without",
            NEW: f"next({self.call}({self.n}))",
            STEP: f"next(it) for n={self.n}..{self.last}",
        }.get(self.shape, f"{self.call}({self.n})")
        return f"{self.scenario}/{who}/{call}" + (f"/threads={self.threads}" if self.threads else "")

    @property
    def heavy(self) -> bool:
        return self.threads > 0 or self.n >= HEAVY_N

    @property
    def series(self) -> str:
        """The entries whose times at other n predict this one's (a heavy one may be skipped)."""
        return f"{self.backend}[{self.strategy}].{self.call}/{self.shape}"

    @property
    def digits(self) -> bool:
        """It returns a string of decimal digits (checked as the number it writes)."""
        return self.shape == STR or self.call == "factorial_str"

    @property
    def linear(self) -> bool:
        """Its time grows as n (a batch: n values), not as a factorial's."""
        return self.shape in BATCH_SHAPES

    @property
    def calls_back(self) -> bool:
        """Its call is ``f(n, noop)``: factorial_progress with a callback that does nothing."""
        return self.shape == HOOK

    @property
    def makes_objects(self) -> bool:
        """Its loop makes Factorials objects (:mod:`factlab.bench._objects` times it)."""
        return self.shape in OBJECT_SHAPES

    @property
    def newer(self) -> bool:
        """Its call is one the backends gained one by one: a backend without it is skipped, not failed."""
        return self.call in NEWER_CALLS

    @property
    def last(self) -> int:
        """The n whose factorial the timed loop returns last (what its check compares)."""
        return self.n + self.steps - 1 if self.steps else self.n

    @property
    def step(self) -> str:
        """What measures it: pyperf (most), callgrind (COUNTED), a fresh process (CONTROLLED)."""
        return CALLGRIND if self.scenario in COUNTED else CONTROL if self.shape in CONTROLLED else PYPERF

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def lacks(e: Entry) -> dict[str, str] | None:
    """Why ``e``'s backend cannot be timed or counted (its outcome), or None: told, not as a crash.

    A call the backends gained one by one (``Entry.newer``) that one lacks is skipped; any other, failed.
    """
    if e.module in (GMPY2, FLOOR) or e.strategy:
        return None
    try:
        module = importlib.import_module(e.module)
    except ImportError as exc:
        return {"status": "failed", "note": f"cannot import {e.module}: {exc}"}
    if hasattr(module, e.call):
        return None
    return {"status": "skipped" if e.newer else "failed",
            "note": f"{e.backend} has no {e.call}() ({e.module})"}  # fmt: skip


@cache
def batch_ns(size: int) -> list[int]:
    """``size`` random n in 0..20, the same in every process (seeded): a batch's input."""
    return random.Random(21 * size).choices(range(21), k=size)


@dataclass
class Context:
    mode: Mode
    modules: dict[str, factlab.Backend]  # the selected backends that load, in the registry's order
    gmpy2: bool
    scenarios: tuple[str, ...] = ()  # the run's: a figure another scenario takes is not taken twice

    def entry(self, scenario: str, backend: str, n: int, **kw: object) -> Entry:
        module = backend if backend in (GMPY2, FLOOR) else factlab.spec(backend).module
        return Entry(scenario, backend, module, n, **kw)  # type: ignore[arg-type]


def article(c: Context) -> Iterator[Entry]:
    """factorial(25) per backend: the seed article's loop, exact this time."""
    for b in c.modules:
        yield c.entry("article", b, ARTICLE_N)


def crossing(c: Context) -> Iterator[Entry]:
    """crossing(25): the bare entry point of each native backend (math's is math.factorial itself)."""
    for b in c.modules:
        if factlab.spec(b).native:
            yield c.entry("crossing", b, ARTICLE_N, call="crossing", checked=False)


def sweep(c: Context) -> Iterator[Entry]:
    """factorial(n) from 0 to 10**5, gmpy2 beside it, and each allocation strategy a backend offers."""
    for b, module in c.modules.items():
        yield from (c.entry("sweep", b, n) for n in c.mode.sweep_ns)
        for strategy in getattr(module, "strategies", {}):
            yield from (c.entry("sweep", b, n, strategy=strategy) for n in c.mode.strategy_ns)
    if c.gmpy2:
        yield from (c.entry("sweep", GMPY2, n) for n in c.mode.sweep_ns if n in GMPY2_NS)


def big(c: Context) -> Iterator[Entry]:
    """n = 10**6: where the kernel's algorithm matters, not the binding."""
    for b in [*c.modules, *([GMPY2] if c.gmpy2 else [])]:
        yield from (c.entry("big", b, n) for n in c.mode.big_ns)


def threads(c: Context) -> Iterator[Entry]:
    """One factorial(n) in one thread, then two at once in two threads."""
    for b in c.modules:
        for k in (1, 2):
            yield c.entry("threads", b, c.mode.threads_n, threads=k)


def instructions(c: Context) -> Iterator[Entry]:
    """Instructions per call (callgrind), which the machine's load does not move: the article's call,
    each bare crossing, and a few n of the sweep (the load-independent column of their tables)."""
    for b in c.modules:
        yield c.entry("instructions", b, ARTICLE_N, checked=False)
    for b in c.modules:
        if factlab.spec(b).native:
            yield c.entry("instructions", b, ARTICLE_N, call="crossing", checked=False)
    for n in c.mode.count_ns:
        yield from (c.entry("instructions", b, n, checked=False) for b in c.modules)
    if "object" in c.scenarios:  # its target's backends: Factorials(5) made and dropped (the loop is f(n))
        natives = [b for b in c.modules if factlab.spec(b).native]
        for call in ("factorial", "Factorials"):
            yield from (c.entry("instructions", b, OBJECT_N, call=call, checked=False) for b in natives)


def batch(c: Context) -> Iterator[Entry]:
    """factorials(ns) from a list and from an array('Q'), beside the backend's own Python loop.

    The loop is ``[factorial(k) for k in ns]`` of single calls (math's is the plain-Python way);
    the floor is a list of as many ints made from 64-bit values, which any ``factorials`` pays.
    """
    for size in c.mode.batch_sizes:
        for b in c.modules:
            yield c.entry("batch", b, size, call="factorials", shape=LIST)
            yield c.entry("batch", b, size, call="factorials", shape=ARRAY)
            yield c.entry("batch", b, size, shape=LOOP)
        if STDLIB not in c.modules:  # the plain-Python way is every table's yardstick
            yield c.entry("batch", STDLIB, size, shape=LOOP)
        yield c.entry("batch", FLOOR, size, call="tolist", shape=ARRAY)


def digits(c: Context) -> Iterator[Entry]:
    """factorial_str(n) per backend, beside str() of math.factorial's int and of gmpy2's mpz (GMP).

    The gmpy2 rows are planned even without gmpy2: the run then marks them skipped, and says why.
    """
    for b in c.modules:
        yield from (c.entry("digits", b, n, call="factorial_str") for n in c.mode.digits_ns)
    yield from (c.entry("digits", STDLIB, n, shape=STR) for n in c.mode.digits_ns)
    yield from (c.entry("digits", GMPY2, n, call="fac", shape=STR) for n in c.mode.digits_ns)


def callback(c: Context) -> Iterator[Entry]:
    """Native code calling Python: one callback's cost, how soon Ctrl-C stops a long call, the hook's cost.

    factorial_progress(20, noop) beside factorial(20) per backend (below 100,000 the kernel calls the hook
    once, at the end: the difference is one callback), timed by pyperf; then, each backend in a fresh
    process: SIGINT into factorial(n) where the registry says how a long call lets Ctrl-C in (``ctrl_c``),
    and, per native backend, factorial(10**6) through the hook and another path of it without the hook,
    in turns.
    """
    for b in c.modules:
        yield c.entry("callback", b, CALLBACK_N)
        yield c.entry("callback", b, CALLBACK_N, call="factorial_progress", shape=HOOK)
    for b in c.modules:
        if factlab.spec(b).ctrl_c is not None:
            yield from (c.entry("callback", b, n, shape=SIGINT, checked=False) for n in c.mode.sigint_ns)
        if factlab.spec(b).native:
            yield c.entry("callback", b, HOOK_N, shape=PAIRED)


def object_(c: Context) -> Iterator[Entry]:
    """A native object per call: ``next(Factorials(5))`` beside ``factorial(5)``, and next() per step.

    factorial(5) is timed here unless the run's sweep times it. A step is timed on iterators that have
    already returned (n-1)!, made before the clock: at 10**4 the first value is a whole factorial, not a
    step. The pure-Python generator (the pure backend's Factorials) is every row's yardstick.
    """
    swept = "sweep" in c.scenarios and OBJECT_N in c.mode.sweep_ns
    for b in [*c.modules, *([] if PURE in c.modules else [PURE])]:
        if b in c.modules and not swept:
            yield c.entry("object", b, OBJECT_N)
        yield c.entry("object", b, OBJECT_N, call="Factorials", shape=NEW)
        for n, steps in STEPS:
            yield c.entry("object", b, n, call="Factorials", shape=STEP, steps=steps)


SCENARIOS: dict[str, Callable[[Context], Iterator[Entry]]] = {
    "article": article,
    "crossing": crossing,
    "sweep": sweep,
    "big": big,
    "threads": threads,
    "batch": batch,
    "digits": digits,
    "callback": callback,
    "object": object_,
    "instructions": instructions,
}
COUNTED = ("instructions",)  # counted with callgrind after pyperf's suite, not timed
DEFAULT_SCENARIOS = list(SCENARIOS)
TITLES = {
    "article": "The seed article's loop: factorial(25), 1,000,000 calls",
    "crossing": "The bare crossing: crossing(25), no checks, no big int",
    "sweep": "Per-call time across n",
    "big": "Big n: where the kernel's algorithm matters, not the binding",
    "threads": "Threads: two factorials at once, does the binding release the GIL?",
    "batch": "Many values in one call: factorials(ns), ns per value",
    "digits": "Decimal digits: factorial_str(n) against str() of a big integer",
    "callback": "Calling back into Python: one callback, Ctrl-C in a long call, the hook's cost",
    "object": "A native object: Factorials created, stepped once and dropped; next() per step",
    "instructions": "Instructions per call (callgrind)",
}


def calls(mode: Mode, e: Entry) -> int:
    """K, the calls of an instruction count's shorter run: fewer where one call is long, and a quarter for
    the object scenario's two (they explain a miss; a few instructions more or less change nothing)."""
    if e.n == OBJECT_N and e.call in ("factorial", "Factorials"):
        return mode.count_calls // 4
    return mode.count_calls if e.n < 1_000 else max(100, mode.count_calls // 40)


def has_gmpy2() -> bool:
    try:
        import gmpy2  # noqa: F401
    except ImportError:
        return False
    return True


def load(names: list[str] | None) -> tuple[dict[str, factlab.Backend], list[str]]:
    """(the selected backends that load, those that do not); KeyError for an unknown name."""
    modules, missing = {}, []
    for name in names if names is not None else factlab.backend_names():
        try:
            modules[name] = factlab.load(name)
        except factlab.BackendNotBuilt:
            missing.append(name)
    return modules, missing


def entries(
    mode: Mode, modules: dict[str, factlab.Backend], scenarios: list[str], gmpy2: bool
) -> list[Entry]:
    context = Context(mode, modules, gmpy2, tuple(scenarios))
    return [e for s in SCENARIOS if s in scenarios for e in SCENARIOS[s](context)]
