# cython: language_level=3, embedsignature=True, embedsignature.format=clinic, binding=False
# cython: freethreading_compatible=True
# embedsignature.format=clinic: the docstrings start with the signature in the form CPython
# reads for inspect.signature() (`factorial($module, n, /)` then `--`), as for C builtins.
# binding=False: plain builtin functions (the C-API's PyCFunction), the cheapest call CPython
# has, instead of Cython's richer function objects. (No indexing here: boundscheck changes nothing.)
# freethreading_compatible=True: the module tells a free-threaded CPython (3.13t) that it needs no
# GIL (Py_mod_gil), which is true: it keeps no state of its own, and the kernel shares none.
"""factlab's Cython backend: a compiled extension calling the C ABI library.

Cython translates this file into C that uses the CPython C-API, so it can
do what a foreign-function interface cannot: convert the argument exactly as
``math.factorial`` does, decide in C whether to release the GIL, and build the
result ``int`` straight from the kernel's limbs. The Rust kernel is linked in
statically (``libfactlab_clib.a``, see setup.py).
"""

from cpython.long cimport PyLong_AsLongAndOverflow
from cpython.number cimport PyNumber_Index
from libc.limits cimport LONG_MAX
from libc.stdint cimport int32_t, uint8_t, uint64_t

# The C ABI's declarations are in cfactlab.pxd.
from cfactlab cimport (
    FACTLAB_EXPENSIVE_N,
    FACTLAB_MAX_N,
    FACTLAB_MAX_U64_N,
    FACTLAB_MAX_U128_N,
    FACTLAB_NO_MEMORY,
    FACTLAB_OK,
    FACTLAB_PANIC,
    FACTLAB_TOO_LARGE,
    FactlabBig,
    FactlabU128,
    factlab_big_free,
    factlab_debug_panic,
    factlab_factorial,
    factlab_factorial_u64,
    factlab_factorial_u128,
)

import sys

# The results are built from the bytes of 64-bit words, read as little-endian.
if sys.byteorder != "little":
    raise ImportError("factlab_cython reads the kernel's words as little-endian bytes: x86-64, arm64, ...")

# ANCHOR: pylong
cdef extern from *:
    """
    /* An int from little-endian bytes, in one pass. _PyLong_FromByteArray is
       what int.from_bytes() does inside: CPython-private, but present in every
       version we support. The stable ABI (Cython's Limited API mode, one abi3
       binary for CPython 3.10+, see setup.py) has no such call before 3.14:
       there we call int.from_bytes itself, one bytes object more. */
    #ifdef Py_LIMITED_API
    static PyObject *factlab_int_from_le_bytes(const unsigned char *data, size_t n) {
        PyObject *bytes = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)n);
        if (bytes == NULL) return NULL;
        PyObject *result = PyObject_CallMethod((PyObject *)&PyLong_Type, "from_bytes", "Os", bytes, "little");
        Py_DECREF(bytes);
        return result;
    }
    #else
    #define factlab_int_from_le_bytes(data, n) _PyLong_FromByteArray((data), (n), 1, 0)
    #endif
    """
    object factlab_int_from_le_bytes(const unsigned char *data, size_t n)
    # ANCHOR_END: pylong


# ANCHOR: factorial
def factorial(n, /):
    """Exactly ``math.factorial(n)``, computed by the Rust kernel."""
    cdef int overflow
    # PyNumber_Index is operator.index(): ints (bool, subclasses) and objects
    # with __index__ pass, float/str/None/... raise TypeError. Then the same
    # conversion as math.factorial, with the same errors.
    cdef long value = PyLong_AsLongAndOverflow(PyNumber_Index(n), &overflow)
    if overflow > 0:
        raise OverflowError(f"factorial() argument should not exceed {LONG_MAX}")
    if overflow < 0 or value < 0:
        raise ValueError("factorial() not defined for negative values")
    if value <= FACTLAB_MAX_U64_N:
        # A C uint64_t: Cython turns the return value into a Python int.
        return factlab_factorial_u64(value)
    if value <= FACTLAB_MAX_U128_N:
        return _from_u128(factlab_factorial_u128(value))
    return _big(value)
    # ANCHOR_END: factorial


def crossing(uint64_t n, /):
    """The bare entry point: n! for n <= 20, else 0. No check beyond Cython's argument conversion."""
    return factlab_factorial_u64(n)


def raise_panic():
    """Make the kernel panic through the same boundary as factorial(); RuntimeError."""
    cdef FactlabBig big = FactlabBig(NULL, 0)
    _raise_for(factlab_debug_panic(&big), 0)


cdef object _from_u128(FactlabU128 r):
    # {lo, hi}: on a little-endian machine the struct's 16 bytes are the
    # number's little-endian bytes, so one call makes the int (one object;
    # `(<object>r.hi) << 64 | r.lo` would make four).
    return factlab_int_from_le_bytes(<const unsigned char *>&r, sizeof(r))


# ANCHOR: big
cdef object _big(uint64_t n):
    cdef FactlabBig big = FactlabBig(NULL, 0)
    cdef int32_t status
    if n >= FACTLAB_EXPENSIVE_N:
        # Milliseconds to seconds of work: let other Python threads run.
        # Inside `with nogil` Cython refuses any Python object: a compile-time guarantee.
        with nogil:
            status = factlab_factorial(n, &big)
    else:
        # Below EXPENSIVE_N the work is shorter than giving the GIL away and taking it back.
        status = factlab_factorial(n, &big)
    if status != FACTLAB_OK:
        _raise_for(status, n)  # nothing was allocated
    # From here we own big.limbs: give them back to Rust whatever happens.
    try:
        # Little-endian limbs on a little-endian machine are the
        # little-endian bytes of the number.
        return factlab_int_from_le_bytes(<const unsigned char *>big.limbs, big.len * sizeof(uint64_t))
    finally:
        factlab_big_free(&big)
    # ANCHOR_END: big


cdef int _raise_for(int32_t status, uint64_t n) except -1:
    """Turn a factlab status code into the Python exception (always raises)."""
    if status == FACTLAB_TOO_LARGE:
        raise OverflowError(
            f"factorial() argument should not exceed {FACTLAB_MAX_N} (factlab's bound), got {n}"
        )
    if status == FACTLAB_NO_MEMORY:
        raise MemoryError(
            f"factorial({n}) would not fit in the memory this process has left (FACTLAB_NO_MEMORY)"
        )
    if status == FACTLAB_PANIC:
        raise RuntimeError(
            "the factlab kernel panicked; the panic was caught at the C ABI boundary "
            "(FACTLAB_PANIC, see the message on stderr)"
        )
    raise RuntimeError(f"factlab C ABI: unexpected status {status} for n = {n}")
