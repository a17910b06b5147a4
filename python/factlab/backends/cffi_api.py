"""cffi, API mode: a compiled extension that links the C ABI library statically.

``factlab_cffi_api`` was generated and compiled at install time
(``python/factlab-cffi/build_api.py``): cffi wrote a C file that includes
``factlab.h`` and calls the functions directly, and the C compiler checked
every declaration against the header. The Rust kernel is linked into the
extension (``libfactlab_clib.a``): nothing is ``dlopen``-ed at run time.

The calls themselves are the same in all three cffi modes: see ``_cffi.py``.
API mode makes each call cheaper (no libffi in between), but every call
through ``lib`` still releases the GIL, and a struct returned by value
(``FactlabU128``) still comes back as a new cdata object whose two fields
are two attribute lookups.
"""

from __future__ import annotations

# ANCHOR: open
from factlab_cffi_api import ffi, lib  # compiled and linked at install time

from factlab.backends._cffi import bind, bind_data, bind_iterator

factorial, crossing, raise_panic, strategies, factorial_progress = bind(ffi, lib)
factorials, factorial_str = bind_data(ffi, lib, factorial)
Factorials = bind_iterator(ffi, lib)
# ANCHOR_END: open

__all__ = [
    "Factorials",
    "crossing",
    "factorial",
    "factorial_progress",
    "factorial_str",
    "factorials",
    "ffi",
    "lib",
    "raise_panic",
    "strategies",
]
