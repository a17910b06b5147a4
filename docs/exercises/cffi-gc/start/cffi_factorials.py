"""A small cffi wrapper (ABI mode, in-line) over factlab's C ABI library: an iterator over factorials.

The library (``crates/clib``, declared in ``crates/clib/include/factlab.h``)
keeps the iterator's state on its side, behind an opaque pointer:

- ``factlab_factorials_new(start, &it)`` allocates an iterator and writes
  its address into ``it``;
- ``factlab_factorials_next(it, &out)`` writes the next factorial into
  ``out`` (a ``FactlabBig``, freed with ``factlab_big_free``) and moves on;
- ``factlab_factorials_free(it)`` gives the iterator back to the library.

Read the header's comment on ``FactlabFactorials``: who owns the iterator
once ``factlab_factorials_new`` returned it, and how it goes back.
"""

from __future__ import annotations

import operator
from typing import Any, NoReturn, SupportsIndex

from cffi import FFI

from factlab.backends._clib import cdef_source, check, error, library_path

__all__ = ["Factorials", "ffi", "lib"]

# cffi reads the C declarations itself (factlab_cdef.h: the header without the
# preprocessor lines cffi cannot parse), then dlopen()s the library.
ffi = FFI()
ffi.cdef(cdef_source())
lib = ffi.dlopen(str(library_path()))


class Factorials:
    """``start!``, ``(start+1)!``, ...: each value one multiplication inside the library."""

    __slots__ = ("_it",)
    _it: Any  # a cdata `FactlabFactorials *`: the library's iterator

    def __init__(self, start: SupportsIndex = 0, /) -> None:
        k = check(operator.index(start))  # TypeError, ValueError, OverflowError as math.factorial
        made = ffi.new("FactlabFactorials **")  # where the library writes the pointer
        status = lib.factlab_factorials_new(k, made)
        if status != lib.FACTLAB_OK:
            raise error(status, k)  # past FACTLAB_MAX_N: OverflowError; nothing was made
        # The library's iterator, kept by this object for all its steps.
        self._it = made[0]

    def __iter__(self) -> Factorials:
        return self

    def __next__(self) -> int:
        out = ffi.new("FactlabBig *")  # the library fills it; we free its limbs
        try:
            status = lib.factlab_factorials_next(self._it, out)  # cffi releases the GIL
            if status == lib.FACTLAB_EXHAUSTED:
                raise StopIteration
            if status != lib.FACTLAB_OK:
                raise error(status, self.n)  # past the bound: factorial's OverflowError
            return int.from_bytes(ffi.buffer(out.limbs, out.len * 8), "little")
        finally:
            lib.factlab_big_free(out)  # {NULL, 0} after a refusal: a no-op

    @property
    def n(self) -> int:
        """The n whose factorial the next ``next()`` returns."""
        return lib.factlab_factorials_n(self._it)

    def __repr__(self) -> str:
        return f"Factorials({self.n})"

    def __reduce__(self) -> NoReturn:
        # copy.copy, copy.deepcopy and pickle all ask for this: a copy would be a
        # second Python object holding the same pointer.
        raise TypeError("cannot pickle or copy 'Factorials' object: it owns a native iterator")
