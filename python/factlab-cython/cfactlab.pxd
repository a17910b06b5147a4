# The C ABI library (crates/clib), declared for Cython: a .pxd, as the Cython
# tutorial declares a C library, cimported by factlab_cython.pyx.
#
# Cython does not read the header: these lines must agree with factlab.h
# (tests/test_declarations.py compares them with the header, parsed by cffi);
# the C compiler then checks the generated calls against the real header.

from libc.stdint cimport int32_t, uint8_t, uint64_t

# ANCHOR: extern
cdef extern from "factlab.h":
    # `#define` constants: an anonymous enum is Cython's way to name them.
    enum:
        FACTLAB_OK
        FACTLAB_TOO_LARGE
        FACTLAB_PANIC
        FACTLAB_NO_MEMORY
        FACTLAB_NULL_POINTER
        FACTLAB_MAX_U64_N
        FACTLAB_MAX_U128_N
        FACTLAB_MAX_N
        FACTLAB_EXPENSIVE_N
        FACTLAB_BUFFER_TOO_SMALL
        FACTLAB_MAX_SMALL_N
        FACTLAB_STOPPED
        FACTLAB_INTERRUPTIBLE_N
        FACTLAB_EXHAUSTED

    ctypedef struct FactlabU128:
        uint64_t lo
        uint64_t hi

    ctypedef struct FactlabBig:
        uint64_t *limbs
        size_t len

    ctypedef struct FactlabSmall:
        uint64_t limbs[16]

    # Opaque: no fields, so Cython only ever handles a pointer to it (as C does).
    ctypedef struct FactlabFactorials

    # The hook's type: a C function the kernel calls back, without the GIL
    # (`nogil`), and that must not raise (`noexcept`: C cannot carry an exception).
    ctypedef int32_t (*FactlabHook)(void *ctx, uint64_t done, uint64_t total) noexcept nogil

    # `nogil`: these functions never touch Python objects, so they may be
    # called with the GIL released.
    uint64_t factlab_factorial_u64(uint64_t n) nogil
    FactlabU128 factlab_factorial_u128(uint64_t n) nogil
    int32_t factlab_factorial(uint64_t n, FactlabBig *out) nogil
    int32_t factlab_debug_panic(FactlabBig *out) nogil
    void factlab_big_free(FactlabBig *big) nogil
    size_t factlab_factorial_bound(uint64_t n) nogil
    int32_t factlab_factorial_fill(uint64_t n, uint8_t *buf, size_t cap) nogil
    FactlabSmall factlab_factorial_small(uint64_t n) nogil
    int32_t factlab_factorials_u64(const uint64_t *ns, size_t len, uint64_t *out, size_t *big) nogil
    size_t factlab_factorial_digits_bound(uint64_t n) nogil
    int32_t factlab_factorial_digits(uint64_t n, uint8_t *buf, size_t cap, size_t *len) nogil
    int32_t factlab_factorial_progress(uint64_t n, FactlabHook hook, void *ctx, FactlabBig *out) nogil
    size_t factlab_workers_running() nogil
    int32_t factlab_factorials_new(uint64_t start, FactlabFactorials **it) nogil
    int32_t factlab_factorials_next(const FactlabFactorials *it, FactlabBig *out) nogil
    uint64_t factlab_factorials_n(const FactlabFactorials *it) nogil
    void factlab_factorials_free(FactlabFactorials *it) nogil
# ANCHOR_END: extern
