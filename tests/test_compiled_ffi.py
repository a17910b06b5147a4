"""The backends pre-built against the C ABI library: cffi (ABI out-of-line, API) and Cython.

- drift: the declarations each one was built with agree with the committed
  header (``crates/cabi/include/factlab_cdef.h``). In ABI mode nothing else
  checks them: a wrong signature would be a crash, not an error;
- ownership: every big result's limbs go back to the library, even when
  building the ``int`` fails; memory does not grow over many big results;
- panics come out as RuntimeError;
- static linking: the extensions that link ``libfactlab_cabi.a`` do not need
  (or load) ``libfactlab_cabi.so``.
"""

from __future__ import annotations

import importlib
import math
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import factlab
from factlab.backends import _cffi as cffi_wrapper
from factlab.backends._cffi import bind

ROOT = Path(__file__).resolve().parents[1]
CDEF_HEADER = ROOT / "crates" / "cabi" / "include" / "factlab_cdef.h"
PYX = ROOT / "python" / "cython" / "factlab_cython.pyx"

# The registry names of this room's backends, and the modules their builds produce.
ROOM = ("cffi-abi-outofline", "cffi-api", "cython")
CFFI_BACKENDS = ("cffi-abi-inline", "cffi-abi-outofline", "cffi-api")
STATIC_EXTENSIONS = ("factlab_cffi_api", "factlab_cython")


# --- the committed header, parsed without cffi ---------------------------------


def _norm_type(text: str) -> str:
    """``struct FactlabBig *`` and ``FactlabBig*`` are the same type: one spelling."""
    text = re.sub(r"\bstruct\s+", "", " ".join(text.split()))
    return re.sub(r"\s*\*\s*", "*", text).strip()


def _param_type(param: str) -> str:
    """``uint64_t n`` -> ``uint64_t``; ``struct FactlabBig *out`` -> ``FactlabBig*``."""
    return _norm_type(re.sub(r"\w+\s*$", "", param.strip()))


Signature = tuple[str, tuple[str, ...]]


def _header() -> tuple[dict[str, Signature], dict[str, list[tuple[str, str]]], dict[str, int]]:
    """(functions, structs, defines) of factlab_cdef.h."""
    text = re.sub(r"/\*.*?\*/", "", CDEF_HEADER.read_text(encoding="utf-8"), flags=re.DOTALL)
    functions = {}
    for ret, name, params in re.findall(
        r"^([A-Za-z_][\w \t*]*?)\s*\b(factlab_\w+)\s*\(([^)]*)\)\s*;", text, re.M
    ):
        args = tuple(_param_type(p) for p in params.split(",")) if params.strip() != "void" else ()
        functions[name] = (_norm_type(ret), args)
    structs = {}
    for name, body in re.findall(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*\1\s*;", text, re.DOTALL):
        structs[name] = [
            (field, _norm_type(ftype) + array)
            for ftype, field, array in re.findall(r"([\w \t*]+?)\s*\b(\w+)(\[\d+\])?\s*;", body)
        ]
    defines = {name: int(value) for name, value in re.findall(r"^#define\s+(\w+)\s+(\d+)\s*$", text, re.M)}
    return functions, structs, defines


HEADER_FUNCTIONS, HEADER_STRUCTS, HEADER_DEFINES = _header()


def test_the_header_parser_finds_the_whole_api() -> None:
    # The drift tests below compare against these: they must not be vacuous.
    assert set(HEADER_FUNCTIONS) == {
        "factlab_factorial_u64",
        "factlab_factorial_u128",
        "factlab_factorial",
        "factlab_big_free",
        "factlab_debug_panic",
        "factlab_factorial_bound",
        "factlab_factorial_fill",
        "factlab_factorial_small",
    }
    assert HEADER_FUNCTIONS["factlab_factorial"] == ("int32_t", ("uint64_t", "FactlabBig*"))
    assert HEADER_STRUCTS["FactlabU128"] == [("lo", "uint64_t"), ("hi", "uint64_t")]
    assert HEADER_STRUCTS["FactlabSmall"] == [("limbs", "uint64_t[16]")]
    assert {"FACTLAB_OK", "FACTLAB_PANIC", "FACTLAB_MAX_N", "FACTLAB_EXPENSIVE_N"} <= set(HEADER_DEFINES)


# --- drift: cffi ------------------------------------------------------------------


def _cffi(name: str) -> tuple[Any, Any]:
    """(ffi, lib) of a cffi backend."""
    if name == "cffi-api":
        module = importlib.import_module("factlab_cffi_api")
        return module.ffi, module.lib
    backend = factlab.load(name)
    return backend.ffi, backend.lib


@pytest.mark.parametrize("name", CFFI_BACKENDS)
def test_cffi_functions_match_the_header(name: str) -> None:
    ffi, lib = _cffi(name)
    declared = {attr for attr in dir(lib) if attr.startswith("factlab_")}
    assert declared == set(HEADER_FUNCTIONS)
    for fn, (ret, args) in HEADER_FUNCTIONS.items():
        ctype = ffi.typeof(getattr(lib, fn))
        assert ctype.kind == "function"
        assert not ctype.ellipsis, fn
        got = (_norm_type(ctype.result.cname), tuple(_norm_type(a.cname) for a in ctype.args))
        assert got == (ret, args), fn


@pytest.mark.parametrize("name", CFFI_BACKENDS)
def test_cffi_structs_and_constants_match_the_header(name: str) -> None:
    ffi, lib = _cffi(name)
    for struct_name, fields in HEADER_STRUCTS.items():
        ctype = ffi.typeof(struct_name)
        assert [(field, _norm_type(f.type.cname)) for field, f in ctype.fields] == fields, struct_name
    assert {attr: getattr(lib, attr) for attr in dir(lib) if attr.startswith("FACTLAB_")} == HEADER_DEFINES


# --- drift: Cython ----------------------------------------------------------------


def _pyx_extern_block() -> list[str]:
    """The lines of the ``cdef extern from "factlab.h":`` block, comments removed."""
    lines = PYX.read_text(encoding="utf-8").splitlines()
    start = lines.index('cdef extern from "factlab.h":') + 1
    block = []
    for line in lines[start:]:
        if line.strip() and not line.startswith((" ", "\t")):
            break  # back at column 0: the block is over
        code = line.split("#", 1)[0].rstrip()
        if code.strip():
            block.append(code)
    return block


def _pyx_declarations() -> tuple[dict[str, Signature], dict[str, list[tuple[str, str]]], set[str]]:
    functions: dict[str, Signature] = {}
    structs: dict[str, list[tuple[str, str]]] = {}
    names: set[str] = set()
    current: list[tuple[str, str]] | None = None  # the struct or enum being read
    for line in _pyx_extern_block():
        depth = len(line) - len(line.lstrip())
        code = line.strip()
        if depth == 4:
            current = None
            if match := re.fullmatch(r"ctypedef struct (\w+):", code):
                current = structs.setdefault(match[1], [])
            elif code == "enum:":
                current = []  # the anonymous enum of #define names
            elif match := re.fullmatch(r"(.+?)\s*\b(factlab_\w+)\((.*)\)(\s+nogil)?", code):
                ret, name, params = match[1], match[2], match[3]
                args = tuple(_param_type(p) for p in params.split(",")) if params.strip() else ()
                functions[name] = (_norm_type(ret), args)
            else:
                raise AssertionError(f"unexpected line in the extern block: {code!r}")
        elif current is not None and re.fullmatch(r"FACTLAB_\w+", code):
            names.add(code)
        elif current is not None:
            ftype, field = code.rsplit(maxsplit=1)
            # `uint64_t *limbs`: the star belongs to the type; so does `[16]`.
            field, _, array = field.partition("[")
            array = f"[{array}" if array else ""
            current.append((field.lstrip("*"), _norm_type(ftype + "*" * field.count("*")) + array))
    return functions, structs, names


def test_cython_declarations_match_the_header() -> None:
    functions, structs, names = _pyx_declarations()
    assert functions == HEADER_FUNCTIONS
    assert structs == HEADER_STRUCTS
    # Cython names the #define constants; the C compiler takes their values from the header.
    assert names == set(HEADER_DEFINES)


# --- ownership: big results are freed ----------------------------------------------


class _CountingLib:
    """Stands in for a cffi ``lib``: forwards everything, counts allocations and frees."""

    def __init__(self, lib: Any, null: Any) -> None:
        self._lib = lib
        self._null = null
        self.allocated = 0
        self.freed = 0  # calls that really gave limbs back: {NULL, 0} afterwards

    def factlab_factorial(self, n: int, out: Any) -> int:
        status = self._lib.factlab_factorial(n, out)
        self.allocated += status == self._lib.FACTLAB_OK
        return status

    def factlab_big_free(self, big: Any) -> None:
        had_limbs = big.limbs != self._null
        self._lib.factlab_big_free(big)
        self.freed += had_limbs and big.limbs == self._null and big.len == 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, name)


@pytest.fixture(params=CFFI_BACKENDS)
def counted(request: pytest.FixtureRequest) -> tuple[Callable[[int], int], _CountingLib]:
    backend = factlab.load(request.param)
    counting = _CountingLib(backend.lib, backend.ffi.NULL)
    # The very wrapper the backend is made of, bound to the counting lib.
    # The callee-allocates strategy: the one that allocates and frees.
    _factorial, _crossing, _raise_panic, strategies = bind(backend.ffi, counting)
    factorial = strategies["callee-allocates"]
    return factorial, counting


def test_cffi_frees_every_big_result(counted: tuple[Callable[[int], int], _CountingLib]) -> None:
    factorial, lib = counted
    for n in (35, 100, 999, 1000, 12_345):
        assert factorial(n) == math.factorial(n)
    assert lib.allocated == lib.freed == 5
    # Small results and refusals allocate nothing and free nothing.
    factorial(20)
    factorial(34)
    with pytest.raises(OverflowError):
        factorial(100_000_001)
    assert lib.allocated == lib.freed == 5


def test_cffi_frees_even_when_building_the_int_fails(
    counted: tuple[Callable[[int], int], _CountingLib], monkeypatch: pytest.MonkeyPatch
) -> None:
    factorial, lib = counted

    class Boom(int):
        @classmethod
        def from_bytes(cls, *args: Any, **kwargs: Any) -> int:
            raise MemoryError("simulated: the int could not be built")

    monkeypatch.setattr(cffi_wrapper, "int", Boom, raising=False)  # shadows the builtin in the module
    with pytest.raises(MemoryError, match="simulated"):
        factorial(1000)
    assert lib.allocated == lib.freed == 1


# In a fresh interpreter: the resident memory after warming up, then after
# many more big results; a leak of the limbs would grow it by ~40 MB.
LEAK_CHILD = """
import gc, math, psutil, factlab
backend = factlab.load({name!r})
rss = lambda: psutil.Process().memory_info().rss
n, expected = 100_000, math.factorial(100_000)
for _ in range(20):
    assert backend.factorial(n) == expected
gc.collect()
before = rss()
for _ in range(200):
    backend.factorial(n)
gc.collect()
print(rss() - before)
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ROOM)
def test_big_results_do_not_leak(name: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", LEAK_CHILD.format(name=name)], capture_output=True, text=True, check=True
    )
    growth = int(result.stdout)
    limbs = 200 * math.factorial(100_000).bit_length() // 8  # what a leak of every result would cost
    assert growth < limbs // 4, f"{name}: RSS grew by {growth} bytes over 200 results of {limbs // 200} bytes"


# --- panics -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ROOM)
def test_panic_is_a_runtime_error(name: str) -> None:
    backend = factlab.load(name)
    with pytest.raises(RuntimeError, match="panic"):
        backend.raise_panic()
    assert backend.factorial(1000) == math.factorial(1000)  # the library still works


# --- static linking ---------------------------------------------------------------


def _elf_needed(path: Path) -> list[str]:
    """The NEEDED entries of a 64-bit little-endian ELF file's dynamic section (what ldd follows)."""
    data = path.read_bytes()
    assert data[:4] == b"\x7fELF", f"{path}: not an ELF file"
    assert (data[4], data[5]) == (2, 1), f"{path}: not a 64-bit little-endian ELF file"
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    for _name, sh_type, _flags, _addr, offset, size, link, _info, _align, entsize in sections:
        if sh_type != 6:  # SHT_DYNAMIC
            continue
        strtab = sections[link][4]  # the section of the names: .dynstr
        needed = []
        for pos in range(offset, offset + size, entsize):
            tag, value = struct.unpack_from("<qQ", data, pos)
            if tag == 0:  # DT_NULL: the end
                break
            if tag == 1:  # DT_NEEDED: a library name, as an offset in .dynstr
                needed.append(data[strtab + value : data.index(b"\0", strtab + value)].decode())
        return needed
    return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads ELF files")
@pytest.mark.parametrize("module", STATIC_EXTENSIONS)
def test_static_extensions_need_no_cabi_shared_library(module: str) -> None:
    path = Path(importlib.import_module(module).__file__ or "")
    needed = _elf_needed(path)
    assert any(lib.startswith("libc.so") for lib in needed), needed  # the parser sees the real list
    assert not [lib for lib in needed if "factlab" in lib], needed


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/maps")
def test_static_extensions_load_no_cabi_shared_library() -> None:
    child = (
        "import factlab_cffi_api, factlab_cython\n"
        "assert factlab_cffi_api.lib.factlab_factorial_u64(20) == factlab_cython.crossing(20)\n"
        "print(open('/proc/self/maps').read())"
    )
    maps = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True).stdout
    assert "factlab_cython" in maps  # the maps list what is loaded
    assert "libfactlab_cabi" not in maps
