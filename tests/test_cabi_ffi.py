"""The backends that load the C ABI library at run time: ctypes and cffi's in-line ABI mode.

What the shared contract suite cannot see: that the declarations each FFI
works from agree with the committed header, that every buffer the library
hands out is given back, and how a missing library is reported.
"""

from __future__ import annotations

import ctypes
import math
import re
import threading
import time
from pathlib import Path
from types import ModuleType

import psutil
import pytest

import factlab
from factlab.backends import _cabi
from factlab.backends._cffi import bind

ROOT = Path(__file__).resolve().parents[1]
CDEF_H = ROOT / "crates/cabi/include/factlab_cdef.h"
FACTLAB_H = ROOT / "crates/cabi/include/factlab.h"
CABI_BACKENDS = ["ctypes", "cffi-abi-inline"]


def _strip_comments(text: str) -> str:
    return re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)


def header_functions() -> dict[str, tuple[str, list[str]]]:
    """name -> (return type, [parameter types]) of every function in factlab_cdef.h."""
    found = {}
    for ret, name, params in re.findall(
        r"^([\w ]+?[\s*]+)(factlab_\w+)\(([^)]*)\);", _strip_comments(CDEF_H.read_text()), re.MULTILINE
    ):
        types = [re.sub(r"\s*\b\w+$", "", p.strip()) for p in params.split(",")]
        found[name] = (ret.strip(), [t for t in types if t and t != "void"])
    return found


def header_structs() -> dict[str, list[tuple[str, str]]]:
    """struct name -> [(field type, field name)] of factlab_cdef.h."""
    text = _strip_comments(CDEF_H.read_text())
    return {
        name: [(t + a, f) for t, f, a in re.findall(r"([\w ]+?\s*\**)\s*(\w+)(\[\d+\])?;", body)]
        for name, body in re.findall(r"typedef struct (\w+) \{(.*?)\}", text, re.DOTALL)
    }


@pytest.fixture(params=CABI_BACKENDS)
def cabi(request: pytest.FixtureRequest) -> ModuleType:
    return factlab.load(request.param)


@pytest.fixture
def ctypes_backend() -> ModuleType:
    return factlab.load("ctypes")


@pytest.fixture
def cffi_backend() -> ModuleType:
    return factlab.load("cffi-abi-inline")


# --- the header and the declarations built from it ---------------------------


def test_header_lists_the_eight_functions() -> None:
    assert set(header_functions()) == {
        "factlab_factorial_u64",
        "factlab_factorial_u128",
        "factlab_factorial",
        "factlab_big_free",
        "factlab_debug_panic",
        "factlab_factorial_bound",
        "factlab_factorial_fill",
        "factlab_factorial_small",
    }


def test_cdef_header_is_plain() -> None:
    # cffi's cdef accepts `#define NAME integer` and nothing else of the preprocessor.
    for line in CDEF_H.read_text().splitlines():
        if line.startswith("#"):
            assert re.fullmatch(r"#define FACTLAB_\w+ \d+", line), line
    full = FACTLAB_H.read_text()
    assert "#ifndef FACTLAB_H" in full
    assert "#include <stdint.h>" in full


def test_shipped_cdef_is_the_committed_one() -> None:
    # A stale copy in the installed package means `just setup` was not re-run.
    assert _cabi.cdef_source() == CDEF_H.read_text(), "run `just setup`"


def test_defines_are_the_status_codes_and_bounds() -> None:
    assert _cabi.defines() == {
        "FACTLAB_OK": 0,
        "FACTLAB_TOO_LARGE": 1,
        "FACTLAB_PANIC": 2,
        "FACTLAB_NULL_POINTER": 3,
        "FACTLAB_MAX_U64_N": 20,
        "FACTLAB_MAX_U128_N": 34,
        "FACTLAB_MAX_N": 100_000_000,
        "FACTLAB_EXPENSIVE_N": 1000,
        "FACTLAB_BUFFER_TOO_SMALL": 5,
        "FACTLAB_MAX_SMALL_N": 170,
    }


def test_ctypes_signatures_agree_with_the_header(ctypes_backend: ModuleType) -> None:
    m = ctypes_backend
    c_types = {
        "uint64_t": ctypes.c_uint64,
        "int32_t": ctypes.c_int32,
        "size_t": ctypes.c_size_t,
        "void": None,
        "struct FactlabU128": m.FactlabU128,
        "struct FactlabBig *": ctypes.POINTER(m.FactlabBig),
        "struct FactlabSmall": m.FactlabSmall,
        "uint8_t *": ctypes.POINTER(ctypes.c_uint8),
    }
    header = header_functions()
    assert set(m.SIGNATURES) == set(header)
    for name, (ret, params) in header.items():
        restype, argtypes = m.SIGNATURES[name]
        assert restype is c_types[ret], name
        assert list(argtypes) == [c_types[p] for p in params], name
        # ...and they were applied to the function objects ctypes calls.
        for handle in (m._held, m._released):
            function = getattr(handle, name)
            assert function.restype is restype
            assert tuple(function.argtypes) == tuple(argtypes)


def test_ctypes_structs_agree_with_the_header(ctypes_backend: ModuleType) -> None:
    m = ctypes_backend
    c_types = {
        "uint64_t": ctypes.c_uint64,
        "uint64_t *": ctypes.POINTER(ctypes.c_uint64),
        "size_t": ctypes.c_size_t,
        "uint64_t [16]": ctypes.c_uint64 * 16,
    }
    structs = header_structs()
    assert set(structs) == {"FactlabU128", "FactlabBig", "FactlabSmall"}
    for name, fields in structs.items():
        declared = [(field, c_types[ctype.strip()]) for ctype, field in fields]
        assert list(getattr(m, name)._fields_) == declared, name


def test_cffi_declarations_agree_with_the_header(cffi_backend: ModuleType) -> None:
    ffi, lib = cffi_backend.ffi, cffi_backend.lib
    # cffi names `struct FactlabBig` by its typedef, FactlabBig.
    for name, (ret, params) in header_functions().items():
        function = ffi.typeof(getattr(lib, name))
        assert function.result.cname == ret.removeprefix("struct "), name
        assert [a.cname for a in function.args] == [p.removeprefix("struct ") for p in params], name
    for name, value in _cabi.defines().items():
        assert getattr(lib, name) == value
    # The two FFIs lay the structs out alike.
    assert ffi.sizeof("FactlabBig") == ctypes.sizeof(factlab.load("ctypes").FactlabBig)
    assert ffi.sizeof("FactlabU128") == 16


# --- values through every entry -------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 20, 21, 25, 34, 35, 999, 1000, 1001, 5000])
def test_every_shape_exact(cabi: ModuleType, n: int) -> None:
    # 0..20: u64; 21..34: u128 by value; 35..999: big, GIL held; 1000..: big, GIL released.
    assert cabi.factorial(n) == math.factorial(n)


def test_crossing_is_unchecked(cabi: ModuleType) -> None:
    assert cabi.crossing(20) == math.factorial(20)
    assert cabi.crossing(21) == 0
    assert cabi.crossing(2**64 - 1) == 0


def test_too_large_message_is_the_kernels(cabi: ModuleType) -> None:
    n = 100_000_001
    with pytest.raises(OverflowError) as info:
        cabi.factorial(n)
    assert str(info.value) == f"factorial() argument should not exceed 100000000 (factlab's bound), got {n}"


def test_python_side_checks(cabi: ModuleType) -> None:
    with pytest.raises(ValueError, match="negative"):
        cabi.factorial(-(2**70))
    with pytest.raises(OverflowError, match=str(_cabi.LONG_MAX)):
        cabi.factorial(_cabi.LONG_MAX + 1)
    with pytest.raises(TypeError):
        cabi.factorial(5.0)


# --- ownership: the library's buffers go back to the library --------------------


def test_ctypes_frees_what_it_was_given(ctypes_backend: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    m = ctypes_backend
    real_free = m._free
    freed: list[tuple[int | None, int]] = []

    def spy(ref: object) -> None:
        big = ref._obj  # type: ignore[attr-defined]  # byref(out) -> out
        freed.append((ctypes.cast(big.limbs, ctypes.c_void_p).value, big.len))
        real_free(ref)
        assert not big.limbs, "factlab_big_free resets the struct to {NULL, 0}"
        assert big.len == 0

    monkeypatch.setattr(m, "_free", spy)
    assert m.strategies["callee-allocates"](3000) == math.factorial(3000)
    limbs = (math.factorial(3000).bit_length() + 63) // 64
    assert len(freed) == 1
    assert freed[0][0] is not None
    assert freed[0][1] == limbs
    with pytest.raises(OverflowError):
        m.strategies["callee-allocates"](100_000_001)
    with pytest.raises(RuntimeError):
        m.raise_panic()
    # Errors too went through the free: with {NULL, 0}, a no-op.
    assert freed[1:] == [(None, 0), (None, 0)]


def test_cffi_frees_what_it_was_given(cffi_backend: ModuleType) -> None:
    m = cffi_backend
    freed: list[tuple[bool, int]] = []

    class SpyLib:
        """Forwards to the real lib; records every factlab_big_free."""

        def __getattr__(self, name: str) -> object:
            return getattr(m.lib, name)

        def factlab_big_free(self, out: object) -> None:
            freed.append((out.limbs != m.ffi.NULL, out.len))  # type: ignore[attr-defined]
            m.lib.factlab_big_free(out)
            assert out.limbs == m.ffi.NULL  # type: ignore[attr-defined]
            assert out.len == 0  # type: ignore[attr-defined]

    # The very wrapper the backend is made of, bound to the spy.
    # The callee-allocates strategy: the one that allocates and frees.
    _factorial, _crossing, raise_panic, strategies = bind(m.ffi, SpyLib())
    factorial = strategies["callee-allocates"]
    assert factorial(3000) == math.factorial(3000)
    with pytest.raises(OverflowError):
        factorial(100_000_001)  # refused: nothing allocated; the finally's free of {NULL, 0} is a no-op
    with pytest.raises(RuntimeError):
        raise_panic()
    assert freed == [(True, (math.factorial(3000).bit_length() + 63) // 64), (False, 0)]


@pytest.mark.slow
def test_no_growth_over_many_big_results(cabi: ModuleType) -> None:
    # 300 results of 20000! (32 KiB each): a missing free would keep ~10 MiB.
    process = psutil.Process()
    for _ in range(30):
        cabi.factorial(20_000)
    before = process.memory_info().rss
    for _ in range(300):
        cabi.factorial(20_000)
    grown = process.memory_info().rss - before
    assert grown < 4 * 2**20, f"RSS grew by {grown} bytes"


# --- panics and the GIL ----------------------------------------------------------


def test_panic_is_a_runtime_error_and_the_process_goes_on(
    cabi: ModuleType, capfd: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        with pytest.raises(RuntimeError, match="panicked"):
            cabi.raise_panic()
    assert "deliberate panic" in capfd.readouterr().err  # Rust's panic hook, on fd 2
    assert cabi.factorial(40) == math.factorial(40)


def test_ctypes_keeps_the_gil_for_small_and_releases_it_for_big(ctypes_backend: ModuleType) -> None:
    # ctypes: PyDLL keeps the GIL around a call, CDLL releases it.
    assert type(ctypes_backend._held) is ctypes.PyDLL
    assert type(ctypes_backend._released) is ctypes.CDLL
    # Behaviour: while one big factorial runs, another Python thread runs too.
    ticks = 0
    done = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0)

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        time.sleep(0.01)
        start = ticks
        ctypes_backend.factorial(1_000_000)
        during = ticks - start
    finally:
        done.set()
        thread.join()
    assert during > 10, f"the other thread ran {during} times during the call"


# --- a missing library ---------------------------------------------------------


def test_missing_library_is_not_built(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(_cabi, "_SHIPPED", tmp_path)
    with pytest.raises(_cabi.CabiNotBuilt, match="just setup") as info:
        _cabi.library_path()
    assert isinstance(info.value, factlab.BackendNotBuilt)
    assert isinstance(info.value, ImportError)
    assert "libfactlab_cabi" in str(info.value)
    with pytest.raises(_cabi.CabiNotBuilt, match=r"factlab_cdef\.h"):
        _cabi.cdef_source()
