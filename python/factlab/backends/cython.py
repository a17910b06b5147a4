"""Cython: a ``.pyx`` module compiled to a CPython extension, calling the C ABI library.

``factlab_cython`` declares the library's functions in a ``cdef extern from
"factlab.h"`` block and calls them from C: the argument is converted like
``math.factorial`` does it (``PyNumber_Index``, then a C ``long`` with an
overflow check), the GIL is released with ``with nogil:`` for large n only,
the result ``int`` is built from the limbs, and the limbs are freed in a
``finally``. The Rust kernel is linked in statically. Source:
``python/factlab-cython/factlab_cython.pyx``; built by ``just setup``.

The functions are re-exported as they are: no Python code runs on the way in.
"""

from factlab_cython import crossing, factorial, raise_panic

__all__ = ["crossing", "factorial", "raise_panic"]
