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

cimport cython
from cpython.exc cimport PyErr_CheckSignals
from cpython.list cimport PyList_New, PyList_SetItem
from cpython.long cimport PyLong_AsLongAndOverflow
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.number cimport PyNumber_Index
from cpython.ref cimport Py_INCREF
from cpython.unicode cimport PyUnicode_DecodeASCII
from libc.limits cimport LONG_MAX
from libc.math cimport lgamma, log
from libc.stdint cimport int32_t, uint8_t, uint64_t

# The C ABI's declarations are in cfactlab.pxd.
from cfactlab cimport (
    FACTLAB_EXHAUSTED,
    FACTLAB_EXPENSIVE_N,
    FACTLAB_INTERRUPTIBLE_N,
    FACTLAB_MAX_N,
    FACTLAB_MAX_U64_N,
    FACTLAB_MAX_U128_N,
    FACTLAB_NO_MEMORY,
    FACTLAB_OK,
    FACTLAB_PANIC,
    FACTLAB_STOPPED,
    FACTLAB_TOO_LARGE,
    FactlabBig,
    FactlabFactorials,
    FactlabU128,
    factlab_big_free,
    factlab_debug_panic,
    factlab_factorial,
    factlab_factorial_digits,
    factlab_factorial_digits_bound,
    factlab_factorial_progress,
    factlab_factorial_u64,
    factlab_factorial_u128,
    factlab_factorials_free,
    factlab_factorials_n,
    factlab_factorials_new,
    factlab_factorials_next,
    factlab_factorials_u64,
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
    return _of(_index(n))


cdef long _index(object n) except -1:
    """``n`` converted as math.factorial converts it: a C long >= 0, or the same exception."""
    cdef int overflow
    # PyNumber_Index is operator.index(): ints (bool, subclasses) and objects
    # with __index__ pass, float/str/None/... raise TypeError. Then the same
    # conversion as math.factorial, with the same errors.
    cdef long value = PyLong_AsLongAndOverflow(PyNumber_Index(n), &overflow)
    if overflow > 0:
        raise OverflowError(f"factorial() argument should not exceed {LONG_MAX}")
    if overflow < 0 or value < 0:
        raise ValueError("factorial() not defined for negative values")
    # `except -1`: a valid answer is never negative, so -1 tells Cython's
    # caller "an exception is set" (a cdef function cannot return NULL).
    return value


cdef object _of(uint64_t n):
    """``n!`` as a Python int, for an n that _index accepted."""
    if n <= FACTLAB_MAX_U64_N:
        # A C uint64_t: Cython turns the return value into a Python int.
        return factlab_factorial_u64(n)
    if n <= FACTLAB_MAX_U128_N:
        return _from_u128(factlab_factorial_u128(n))
    return _big(n)
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
    # ANCHOR: interruptible
    if n >= FACTLAB_INTERRUPTIBLE_N:
        # Up to tens of seconds of work: through the kernel's hook, which takes
        # the GIL back every 20 ms to run Python's signal handlers (Ctrl-C).
        return _progress(n, None)
    # ANCHOR_END: interruptible
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
    return _owned_int(&big)


cdef object _owned_int(FactlabBig *big):
    """The int the limbs hold; they are ours: given back to Rust whatever happens."""
    try:
        # Little-endian limbs on a little-endian machine are the
        # little-endian bytes of the number.
        return factlab_int_from_le_bytes(<const unsigned char *>big.limbs, big.len * sizeof(uint64_t))
    finally:
        factlab_big_free(big)
    # ANCHOR_END: big


# ANCHOR: progress
def factorial_progress(n, callback, /):
    """``factorial(n)``, calling ``callback(done, total)`` as the work goes and once at the end."""
    cdef uint64_t value = _index(n)
    if value > FACTLAB_MAX_N:
        _raise_for(FACTLAB_TOO_LARGE, value)  # refused as factorial(n) refuses it, callback or not
    if not callable(callback):
        raise TypeError(f"callback must be callable, not {type(callback).__name__}")
    return _progress(value, callback)


cdef class _Call:
    """One call's state, handed to the kernel as the hook's ``void *ctx``."""
    cdef object callback  # None for factorial(): signals only
    cdef object error  # what the hook caught, for _progress to raise

    def __cinit__(self, callback):
        self.callback = callback


cdef int32_t _hook(void *ctx, uint64_t done, uint64_t total) noexcept with gil:
    # The kernel calls this from the thread that called it, which released the
    # GIL: `with gil` takes it back on entry and lets it go on return.
    # `noexcept`: no exception may leave a C callback (the kernel could not
    # carry it), so we catch everything, keep it on the state, and say stop.
    cdef _Call call = <_Call>ctx
    try:
        # Runs the handlers of signals that arrived (main thread only: in another
        # thread it does nothing). Ctrl-C's default one raises KeyboardInterrupt.
        PyErr_CheckSignals()
        if call.callback is not None:
            call.callback(done, total)  # two Python ints; the result is ignored
    except BaseException as exc:  # KeyboardInterrupt and SystemExit too
        call.error = exc
        return 1  # stop: the kernel returns FACTLAB_STOPPED at once
    return 0


cdef object _progress(uint64_t n, object callback):
    cdef FactlabBig big = FactlabBig(NULL, 0)
    cdef int32_t status
    # `call` is a local: it lives until we return, so the borrowed pointer the
    # kernel hands back to _hook stays valid for the whole call.
    cdef _Call call = _Call(callback)
    cdef void *ctx = <void *>call  # taken here: no Python object inside `with nogil`
    with nogil:  # always: the hook takes the GIL back when it needs it
        status = factlab_factorial_progress(n, _hook, ctx, &big)
    if status == FACTLAB_STOPPED:  # the hook caught an exception: that same object, unchanged
        raise call.error
    if status != FACTLAB_OK:
        _raise_for(status, n)  # nothing was allocated
    return _owned_int(&big)
    # ANCHOR_END: progress


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


# ANCHOR: factorials
# factlab_core::EXPENSIVE_BATCH_LEN: from this many values on, one batch of
# table lookups takes longer than giving the GIL away and taking it back. The
# header has no #define for it (the Rust constant is not part of the C ABI),
# so it is restated here.
cdef enum:
    EXPENSIVE_BATCH_LEN = 10_000


def factorials(ns, /):
    """Exactly ``[math.factorial(n) for n in ns]``, in one call."""
    try:
        view = memoryview(ns)  # Python's memoryview: its format, shape and itemsize, to check
    except TypeError:
        return _from_iterable(ns)  # no buffer: a list, a tuple, a generator, ...
    # `with view`: the export is released on the way out, not before. While
    # it lives the exporter refuses to move its memory (array.append raises
    # BufferError), so the kernel may read it with the GIL released.
    with view:
        code = view.format.lstrip("@=<")  # native or little-endian (this module is little-endian only)
        if view.ndim != 1 or view.itemsize != 8 or code not in ("q", "l", "Q", "L"):
            raise TypeError(
                "factorials() reads buffers of 64-bit integers (format 'q' or 'Q', one dimension), "
                f"got format {view.format!r}, itemsize {view.itemsize}, {view.ndim} dimension(s)"
            )
        return _from_buffer(view, code in "ql")


cdef list _from_iterable(object ns):
    """Each element converted as factorial() converts it: ``__index__`` once, in order."""
    cdef Py_ssize_t i = -1  # the element being converted; -1 while the iteration runs
    result = []
    # One try around the loop, not one per element: entering a try block saves
    # the exception state, which would cost more than the conversion itself.
    try:
        for n in ns:  # iterated once: a generator is consumed once
            i = len(result)
            result.append(_of(_index(n)))  # compiled to C calls, no Python frame per element
            i = -1
    except (TypeError, ValueError, OverflowError, MemoryError) as exc:
        if i < 0:
            raise  # the iteration's own error ('int' object is not iterable, ...): as it is
        raise _at(i, exc) from None
    return result


cdef object _nth(object n, Py_ssize_t i):
    """factorial(n) for ``ns[i]``: its exception, if any, with ``ns[i]: `` in front."""
    try:
        return _of(_index(n))
    except (ValueError, OverflowError, MemoryError) as exc:
        raise _at(i, exc) from None


cdef object _at(Py_ssize_t i, object exc):
    """The same exception type, its message prefixed with the element's place: ``ns[3]: ...``."""
    return type(exc)(f"ns[{i}]: {exc}")


# `IF` is Cython's compile-time condition (deprecated since Cython 3.0, still
# there, with a warning): a C `#if` could not do this, because using a typed
# memoryview makes Cython emit support code that needs Py_buffer, which the
# Limited API of 3.10 lacks. setup.py sets FACTLAB_BUFFER_PROTOCOL.
IF FACTLAB_BUFFER_PROTOCOL:  # False only in the Limited API build for 3.10
    # One function for both formats: Cython compiles a copy of _batch for each
    # type the fused type lists (signed, unsigned).
    ctypedef fused int64_or_uint64:
        long long
        unsigned long long

    cdef list _from_buffer(object view, bint signed):
        # Typed memoryviews: Cython asks `view` for its buffer (PyObject_GetBuffer)
        # and checks the format against the C type; no copy, no object per element.
        # They are released when this function returns, before `with view` ends.
        cdef const long long[:] signed_ns
        cdef const unsigned long long[:] unsigned_ns
        if signed:
            signed_ns = view
            return _batch(signed_ns)
        unsigned_ns = view
        return _batch(unsigned_ns)

    cdef list _batch(const int64_or_uint64[:] ns):
        """The factorials of a 1-D buffer, read where it is; n > 20 and refusals one by one."""
        cdef Py_ssize_t i, length = ns.shape[0]
        cdef size_t big = 0  # how many values need more than 64 bits (we look at each out[i] anyway)
        cdef object item
        cdef int32_t status
        if length == 0:
            return []
        if ns.strides[0] != sizeof(ns[0]):
            # Strided (numpy's a[::2]): `[:]` accepted it without copying and
            # ns[i] walks it by its stride (`[::1]` would have refused it), but
            # the C function wants the values side by side. The one copy: a
            # C-contiguous array of them. A contiguous buffer is never copied.
            ns = ns.copy()
        # A signed value is read as unsigned: a negative one is above 20, so the
        # kernel writes 0 for it and the loop below refuses it at its index.
        cdef const uint64_t *data = <const uint64_t *>&ns[0]
        cdef uint64_t *out = <uint64_t *>PyMem_Malloc(length * sizeof(uint64_t))
        if out == NULL:
            raise MemoryError()
        try:  # out is ours: freed whatever happens
            # The GIL goes when the batch is long (factlab_core::batch_is_expensive);
            # an n >= 1000 in it is computed by _big, which releases it for itself.
            if length >= EXPENSIVE_BATCH_LEN:
                with nogil:  # the buffer stays exported: nobody can move it meanwhile
                    status = factlab_factorials_u64(data, length, out, &big)
            else:
                status = factlab_factorials_u64(data, length, out, &big)
            if status != FACTLAB_OK:
                _raise_for(status, 0)
            # The list at its final size (its slots NULL), then filled: no regrowth.
            result = PyList_New(length)
            for i in range(length):  # a C loop: Cython types i and out[i]
                if out[i] != 0:
                    item = out[i]  # n <= 20: a C uint64_t becomes a Python int
                else:
                    item = _nth(ns[i], i)  # n > 20, or a refusal: factorial()'s path
                # PyList_SetItem STEALS a reference; Cython keeps its own for
                # `item` (and drops it at the next assignment): one more for the list.
                # (The macro PyList_SET_ITEM skips the checks, but is not in the Limited API.)
                Py_INCREF(item)
                PyList_SetItem(result, i, item)
            return result  # on an error above, Cython drops the half-filled list: never seen
        finally:
            PyMem_Free(out)
ELSE:
    cdef list _from_buffer(object view, bint signed):
        # The Limited API of 3.10 has no buffer protocol (Py_buffer came in
        # 3.11), so no typed memoryview: a copy to bytes (C order, the export
        # released right after), then a Python int per value.
        values = memoryview(view.tobytes()).cast("q" if signed else "Q")
        return _from_iterable(values.tolist())
    # ANCHOR_END: factorials


# ANCHOR: factorial-str
def factorial_str(n, /):
    """Exactly ``str(math.factorial(n))``, whatever ``sys.get_int_max_str_digits()`` says."""
    cdef uint64_t value = _index(n)
    cdef size_t length = 0
    cdef int32_t status
    # An upper bound of the digit count, from n alone: 0 when n > FACTLAB_MAX_N.
    cdef size_t cap = factlab_factorial_digits_bound(value)
    if cap == 0:
        _raise_for(FACTLAB_TOO_LARGE, value)
    # We allocate, the library writes, we free: the bytes are ours throughout.
    cdef char *buf = <char *>PyMem_Malloc(cap)
    if buf == NULL:
        _raise_for(FACTLAB_NO_MEMORY, value)  # the message factorial(n) would give
    try:
        if value >= FACTLAB_EXPENSIVE_N:
            with nogil:  # the kernel computes n! and converts it to decimal: let other threads run
                status = factlab_factorial_digits(value, <uint8_t *>buf, cap, &length)
        else:
            status = factlab_factorial_digits(value, <uint8_t *>buf, cap, &length)
        if status != FACTLAB_OK:
            _raise_for(status, value)
        # Copies: Rust's String -> buf (inside the C ABI), buf -> the str (here).
        # PyUnicode_New + writing the digits into the str's own memory would
        # save the second, but it is not in the Limited API and needs the exact
        # length first; the C ABI gives a bound, so we write into our buffer.
        return PyUnicode_DecodeASCII(buf, length, NULL)
    finally:
        PyMem_Free(buf)
    # ANCHOR_END: factorial-str


# ANCHOR: iterator
# factlab_core's next_is_expensive(): after the first step, a step is one
# multiplication, worth giving the GIL away for from n = 10 * EXPENSIVE_N on,
# that is once the value it multiplies has as many limbs as (10 * EXPENSIVE_N)!:
# int(log2(N!)) + 1 bits, log2(N!) from lgamma. Read from each step's result,
# so that no step has to ask for n (which takes the C object's lock).
cdef Py_ssize_t EXPENSIVE_STEP_LIMBS = <Py_ssize_t>(lgamma(10 * FACTLAB_EXPENSIVE_N + 1) / log(2)) // 64 + 1


# auto_pickle(False): Cython writes a __reduce__ for every cdef class it can;
# here there is nothing it could pickle (a pointer), and we say no ourselves.
# final: no subclass (as PyO3's #[pyclass]); Cython may then call its methods directly.
@cython.final
@cython.auto_pickle(False)
cdef class Factorials:
    """``start!``, ``(start+1)!``, ...: each value one multiplication from the last, in the kernel."""

    # The C library's object, owned by this Python object: made by __cinit__,
    # given back by __dealloc__. Opaque: Cython sees a pointer, never fields.
    cdef FactlabFactorials *it
    # Whether a step may be long enough to release the GIL for. Once true it
    # stays true (values only grow); it is set from a step's result, never from
    # n, which takes the C lock. (Free-threaded, two threads may both set it: the same value.)
    cdef bint expensive

    def __cinit__(self, start=0, /):
        # __cinit__, not __init__: Cython calls it exactly once, before any
        # Python code can see the object (a subclass cannot skip it).
        cdef uint64_t value = _index(start)  # TypeError, ValueError, OverflowError: as factorial()
        cdef int32_t status = factlab_factorials_new(value, &self.it)
        if status != FACTLAB_OK:
            _raise_for(status, value)  # past FACTLAB_MAX_N; self.it stays NULL
        self.expensive = value >= FACTLAB_EXPENSIVE_N  # the first step is a whole factorial

    def __dealloc__(self):
        # Once, when the last reference goes; also when __cinit__ raised (then
        # `it` is NULL). No next() is running then: a running call holds a reference.
        if self.it != NULL:
            factlab_factorials_free(self.it)
            self.it = NULL

    def __iter__(self):
        return self

    def __next__(self):
        cdef FactlabBig big = FactlabBig(NULL, 0)
        cdef int32_t status
        # Two threads stepping one iterator are serialized by the C library:
        # each step holds the C object's own lock. That lock never waits for
        # the GIL, so holding the GIL while waiting for it cannot deadlock; but
        # it would stop every Python thread, so a step that may wait long (one
        # that another thread runs without the GIL) waits without the GIL too.
        # While `expensive` is False no step runs without the GIL: the lock is free here.
        if self.expensive:
            with nogil:
                status = factlab_factorials_next(self.it, &big)
        else:
            status = factlab_factorials_next(self.it, &big)
        if status == FACTLAB_EXHAUSTED:
            raise StopIteration
        if status != FACTLAB_OK:
            # The iterator stays at this n: MemoryError, or (once, at MAX_N + 1) factorial's OverflowError.
            _raise_for(status, self.n)
        if big.len >= EXPENSIVE_STEP_LIMBS:
            self.expensive = True  # the next step multiplies this value
        return _owned_int(&big)  # the limbs are ours: freed whatever happens

    @property
    def n(self):
        """The n whose factorial the next ``next()`` returns."""
        cdef uint64_t n
        if self.expensive:
            with nogil:  # the C lock may be held by a long step: wait for it without the GIL
                n = factlab_factorials_n(self.it)
            return n
        return factlab_factorials_n(self.it)

    def __repr__(self):
        return f"Factorials({self.n})"

    def __reduce__(self):
        # copy.copy, copy.deepcopy and pickle all ask for this: two Python
        # objects must never share (and both free) one C object.
        raise TypeError(f"cannot pickle or copy {type(self).__name__!r} object: it owns native state")
    # ANCHOR_END: iterator
