"""factlab.h restated for ctypes: its structs, its hook type, every function's signature.

ctypes cannot read a C header (cffi parses one, Cython's ``cfactlab.pxd``
restates one and the C compiler checks it). Here each type and signature is
written again with ctypes' classes, and nothing checks them at run time: a
wrong ``restype`` or ``argtypes`` is no error, only a wrong value or a crash.
``tests/test_declarations.py`` compares every line below with ``factlab.h``.

:func:`open_library` opens the C ABI library with these signatures set;
``ctypes_cdll.py`` opens it twice, once per GIL policy.
"""

from __future__ import annotations

import ctypes
from ctypes import CFUNCTYPE, POINTER, Structure, c_int32, c_size_t, c_uint8, c_uint64, c_void_p
from typing import Any

from factlab.backends._clib import library_path, reported

__all__ = ["SIGNATURES", "FactlabBig", "FactlabHook", "FactlabSmall", "FactlabU128", "open_library"]


# ANCHOR: structs
class FactlabU128(Structure):
    """``typedef struct FactlabU128 { uint64_t lo; uint64_t hi; } FactlabU128;``"""

    _fields_ = (("lo", c_uint64), ("hi", c_uint64))


class FactlabBig(Structure):
    """``typedef struct FactlabBig { uint64_t *limbs; size_t len; } FactlabBig;``"""

    _fields_ = (("limbs", POINTER(c_uint64)), ("len", c_size_t))


class FactlabSmall(Structure):
    """``typedef struct FactlabSmall { uint64_t limbs[16]; } FactlabSmall;``"""

    _fields_ = (("limbs", c_uint64 * 16),)


# ``typedef int32_t (*FactlabHook)(void *ctx, uint64_t done, uint64_t total);``
FactlabHook = CFUNCTYPE(c_int32, c_void_p, c_uint64, c_uint64)
# ANCHOR_END: structs


# ANCHOR: signatures
# Every function of factlab.h: name -> (restype, argtypes). Without a restype
# ctypes assumes a C int: 20! would come back cut to 32 bits.
SIGNATURES: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "factlab_factorial_u64": (c_uint64, (c_uint64,)),
    "factlab_factorial_u128": (FactlabU128, (c_uint64,)),
    "factlab_factorial": (c_int32, (c_uint64, POINTER(FactlabBig))),
    "factlab_big_free": (None, (POINTER(FactlabBig),)),
    "factlab_debug_panic": (c_int32, (POINTER(FactlabBig),)),
    "factlab_factorial_bound": (c_size_t, (c_uint64,)),
    "factlab_factorial_fill": (c_int32, (c_uint64, POINTER(c_uint8), c_size_t)),
    "factlab_factorial_small": (FactlabSmall, (c_uint64,)),
    "factlab_factorials_u64": (c_int32, (POINTER(c_uint64), c_size_t, POINTER(c_uint64), POINTER(c_size_t))),
    "factlab_factorial_digits_bound": (c_size_t, (c_uint64,)),
    "factlab_factorial_digits": (c_int32, (c_uint64, POINTER(c_uint8), c_size_t, POINTER(c_size_t))),
    "factlab_factorial_progress": (c_int32, (c_uint64, FactlabHook, c_void_p, POINTER(FactlabBig))),
    "factlab_workers_running": (c_size_t, ()),
    # FactlabFactorials is opaque: a pointer to it is a c_void_p here.
    "factlab_factorials_new": (c_int32, (c_uint64, POINTER(c_void_p))),
    "factlab_factorials_next": (c_int32, (c_void_p, POINTER(FactlabBig))),
    "factlab_factorials_n": (c_uint64, (c_void_p,)),
    "factlab_factorials_free": (None, (c_void_p,)),
}


def open_library(kind: type[ctypes.CDLL]) -> ctypes.CDLL:
    """The C ABI library opened as ``kind`` (CDLL or PyDLL), every function given its signature."""
    path = library_path()
    # A broken file (OSError from dlopen, AttributeError for a missing
    # function) becomes the registry's "not built", naming the file.
    with reported(path):
        lib = kind(str(path))
        for name, (restype, argtypes) in SIGNATURES.items():
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes
    return lib
    # ANCHOR_END: signatures
