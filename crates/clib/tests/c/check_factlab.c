/*
 * check_factlab.c: the C ABI of factlab, exercised from C, as a C user would.
 *
 * Built and run by tests/c_program.rs (`cargo test -p factlab-clib`), linked
 * against the static library libfactlab_clib.a; `just check-memory` runs the
 * same binary under valgrind to prove that every buffer the library hands out
 * comes back, and that nothing reads or writes out of bounds.
 *
 * Prints one line per failed check and a summary; exits 1 on any failure.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "factlab.h"

static int passed = 0;
static int failed = 0;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (cond) {                                                             \
            passed++;                                                           \
        } else {                                                                \
            failed++;                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                     \
        }                                                                       \
    } while (0)

/* A FactlabBig full of garbage, to see that the library overwrites it. */
static FactlabBig garbage(void) {
    FactlabBig big;
    memset(&big, 0xA5, sizeof big);
    return big;
}

static int is_empty(const FactlabBig *big) {
    return big->limbs == NULL && big->len == 0;
}

/* The number of significant bits of a little-endian limb array. */
static uint64_t bit_length(const FactlabBig *big) {
    uint64_t top;
    uint64_t bits;
    if (big->len == 0) {
        return 0;
    }
    top = big->limbs[big->len - 1];
    bits = (uint64_t)(big->len - 1) * 64;
    while (top != 0) {
        bits++;
        top >>= 1;
    }
    return bits;
}

static void check_scalar_crossings(void) {
    FactlabU128 wide;

    CHECK(factlab_factorial_u64(0) == 1);
    CHECK(factlab_factorial_u64(1) == 1);
    CHECK(factlab_factorial_u64(20) == UINT64_C(2432902008176640000));
    CHECK(factlab_factorial_u64(21) == 0); /* 21! does not fit: 0, not a wrapped value */
    CHECK(factlab_factorial_u64(UINT64_MAX) == 0);

    wide = factlab_factorial_u128(25);
    CHECK(wide.lo == UINT64_C(0x619FB0907BC00000) && wide.hi == UINT64_C(0xCD4A0));
    wide = factlab_factorial_u128(35);
    CHECK(wide.lo == 0 && wide.hi == 0);
}

static void check_small_through_the_big_path(void) {
    FactlabBig big = garbage();

    /* 0! = 1: one limb. */
    CHECK(factlab_factorial(0, &big) == FACTLAB_OK);
    CHECK(big.len == 1 && big.limbs != NULL && big.limbs[0] == 1);
    factlab_big_free(&big);
    CHECK(is_empty(&big));

    /* 20! = 2432902008176640000: still one limb. */
    CHECK(factlab_factorial(20, &big) == FACTLAB_OK);
    CHECK(big.len == 1 && big.limbs[0] == UINT64_C(2432902008176640000));
    factlab_big_free(&big);

    /* 21! = 0x2_C5077D36B8C40000: the first factorial past 64 bits. */
    CHECK(factlab_factorial(21, &big) == FACTLAB_OK);
    CHECK(big.len == 2);
    if (big.len == 2) {
        CHECK(big.limbs[0] == UINT64_C(0xC5077D36B8C40000));
        CHECK(big.limbs[1] == 2);
    }
    factlab_big_free(&big);

    /* 25! = 15511210043330985984000000 = 0xCD4A0_619FB0907BC00000. */
    CHECK(factlab_factorial(25, &big) == FACTLAB_OK);
    CHECK(big.len == 2);
    if (big.len == 2) {
        CHECK(big.limbs[0] == UINT64_C(0x619FB0907BC00000));
        CHECK(big.limbs[1] == UINT64_C(0xCD4A0));
    }
    factlab_big_free(&big);
}

static void check_1000(void) {
    FactlabBig big = garbage();
    size_t i;
    int low_zero = 1;

    CHECK(factlab_factorial(1000, &big) == FACTLAB_OK);
    /* log2(1000!) = 8529.4: 8530 bits, 134 limbs, the top one 0x2A2A7. */
    CHECK(bit_length(&big) == 8530);
    CHECK(big.len == 134);
    if (big.len == 134) {
        CHECK(big.limbs[133] == UINT64_C(0x2A2A7));
        /* 1000! = 2^994 * odd (994 = 1000 - popcount(1000)): 994 zero bits
         * at the bottom, i.e. 15 zero limbs, then bit 34 of limb 15. */
        for (i = 0; i < 15; i++) {
            low_zero = low_zero && big.limbs[i] == 0;
        }
        CHECK(low_zero);
        CHECK(big.limbs[15] & (UINT64_C(1) << 34));
        CHECK((big.limbs[15] & ((UINT64_C(1) << 34) - 1)) == 0);
    }
    factlab_big_free(&big);
    CHECK(is_empty(&big));
}

static void check_errors(void) {
    FactlabBig big = garbage();

    /* Too large: refused at once, nothing allocated, out reset to {NULL, 0}. */
    CHECK(factlab_factorial((uint64_t)FACTLAB_MAX_N + 1, &big) == FACTLAB_TOO_LARGE);
    CHECK(is_empty(&big));
    big = garbage();
    CHECK(factlab_factorial(UINT64_MAX, &big) == FACTLAB_TOO_LARGE);
    CHECK(is_empty(&big));

    /* No place to put the result. */
    CHECK(factlab_factorial(5, NULL) == FACTLAB_NULL_POINTER);
    CHECK(factlab_debug_panic(NULL) == FACTLAB_NULL_POINTER);

    /* A panic inside Rust comes out as a status code: the process goes on. */
    big = garbage();
    CHECK(factlab_debug_panic(&big) == FACTLAB_PANIC);
    CHECK(is_empty(&big));
    CHECK(factlab_factorial(30, &big) == FACTLAB_OK);
    CHECK(big.len == 2);
    factlab_big_free(&big);
}

/* Out of memory: under a 256 MiB address-space limit, 10^8! (a 300 MiB
 * result) is refused before anything is allocated, and the process goes on.
 * In a child process, so that the limit does not reach the other checks. */
static void check_no_memory(void) {
#ifdef __linux__
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit limit = {256u << 20, 256u << 20};
        FactlabBig big = garbage();
        int ok = setrlimit(RLIMIT_AS, &limit) == 0;
        ok = ok && factlab_factorial(FACTLAB_MAX_N, &big) == FACTLAB_NO_MEMORY;
        ok = ok && is_empty(&big);
        ok = ok && factlab_factorial(30, &big) == FACTLAB_OK && big.len == 2;
        factlab_big_free(&big);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
#endif
}

static void check_free(void) {
    FactlabBig empty = {NULL, 0};
    FactlabBig big;

    factlab_big_free(NULL);   /* no-op */
    factlab_big_free(&empty); /* no-op */
    CHECK(is_empty(&empty));

    CHECK(factlab_factorial(100, &big) == FACTLAB_OK);
    factlab_big_free(&big);
    CHECK(is_empty(&big));
    factlab_big_free(&big); /* the first free reset it: the second is a no-op */
    CHECK(is_empty(&big));
}

/* The caller allocates: a bound, then the library fills the caller's buffer. */
static void check_caller_allocates(void) {
    unsigned char stack[24];
    unsigned char *heap;
    size_t cap;
    size_t i;
    int zeros = 1;
    FactlabBig big = garbage();

    /* 35! = 0x12_6...: 133 bits, 17 bytes; the bound says 3 limbs. */
    CHECK(factlab_factorial_bound(35) == 24);
    memset(stack, 0xA5, sizeof stack);
    CHECK(factlab_factorial_fill(35, stack, 23) == FACTLAB_BUFFER_TOO_SMALL);
    CHECK(stack[0] == 0xA5); /* nothing written */
    CHECK(factlab_factorial_fill(35, stack, sizeof stack) == FACTLAB_OK);
    CHECK(factlab_factorial(35, &big) == FACTLAB_OK);
    CHECK(big.len == 3 && memcmp(stack, big.limbs, 17) == 0);
    for (i = 17; i < sizeof stack; i++) {
        zeros = zeros && stack[i] == 0;
    }
    CHECK(zeros);
    factlab_big_free(&big);

    /* A heap buffer, as a C caller would for any n: malloc'd, freed by us. */
    cap = factlab_factorial_bound(1000);
    CHECK(cap >= 134 * 8 && cap % 8 == 0);
    heap = malloc(cap);
    CHECK(heap != NULL);
    if (heap != NULL) {
        CHECK(factlab_factorial_fill(1000, heap, cap) == FACTLAB_OK);
        CHECK(heap[133 * 8] == 0xA7 && heap[133 * 8 + 1] == 0xA2 && heap[133 * 8 + 2] == 0x02);
        free(heap);
    }

    /* Refusals. */
    CHECK(factlab_factorial_bound((uint64_t)FACTLAB_MAX_N + 1) == 0);
    CHECK(factlab_factorial_fill((uint64_t)FACTLAB_MAX_N + 1, stack, sizeof stack) == FACTLAB_TOO_LARGE);
    CHECK(factlab_factorial_fill(5, NULL, 8) == FACTLAB_NULL_POINTER);
}

/* Small results by value: nobody allocates. */
static void check_by_value(void) {
    FactlabSmall small = factlab_factorial_small(25);
    size_t i;
    int zeros = 1;

    CHECK(small.limbs[0] == UINT64_C(0x619FB0907BC00000) && small.limbs[1] == UINT64_C(0xCD4A0));
    for (i = 2; i < 16; i++) {
        zeros = zeros && small.limbs[i] == 0;
    }
    CHECK(zeros);
    small = factlab_factorial_small(FACTLAB_MAX_SMALL_N);
    CHECK(small.limbs[15] != 0); /* 170! has 1020 bits */
    small = factlab_factorial_small(FACTLAB_MAX_SMALL_N + 1);
    CHECK(small.limbs[0] == 0 && small.limbs[15] == 0);
}

/* Many values in one call: the caller allocates both arrays, the library
 * fills `out` with the factorials that fit in 64 bits and 0 for the others,
 * which the caller then computes one by one. */
static void check_batch(void) {
    const uint64_t ns[8] = {0, 5, 20, 21, 25, (uint64_t)FACTLAB_MAX_N + 1, UINT64_MAX, 3};
    const uint64_t expected[8] = {1, 120, UINT64_C(2432902008176640000), 0, 0, 0, 0, 6};
    uint64_t out[8];
    uint64_t inout[3] = {3, 4, 30};
    size_t big = 12345;
    FactlabBig result = garbage();

    memset(out, 0xA5, sizeof out);
    CHECK(factlab_factorials_u64(ns, 8, out, &big) == FACTLAB_OK);
    CHECK(memcmp(out, expected, sizeof out) == 0);
    CHECK(big == 4); /* 21, 25, MAX_N + 1, UINT64_MAX: more than 64 bits, or refused */

    /* A zero is the caller's to compute: 25! through the single-value path. */
    CHECK(out[4] == 0);
    CHECK(factlab_factorial(ns[4], &result) == FACTLAB_OK);
    CHECK(result.len == 2 && result.limbs[1] == UINT64_C(0xCD4A0));
    factlab_big_free(&result);

    /* In place: `ns` and `out` may be the same array. */
    CHECK(factlab_factorials_u64(inout, 3, inout, &big) == FACTLAB_OK);
    CHECK(inout[0] == 6 && inout[1] == 24 && inout[2] == 0 && big == 1);

    /* An empty batch may pass NULL arrays; a non-empty one may not. */
    big = 12345;
    CHECK(factlab_factorials_u64(NULL, 0, NULL, &big) == FACTLAB_OK);
    CHECK(big == 0);
    CHECK(factlab_factorials_u64(NULL, 1, out, &big) == FACTLAB_NULL_POINTER);
    CHECK(factlab_factorials_u64(ns, 1, NULL, &big) == FACTLAB_NULL_POINTER);
    CHECK(factlab_factorials_u64(ns, 1, out, NULL) == FACTLAB_NULL_POINTER);
}

/* A long batch in two malloc'd arrays of exactly `len` values: under valgrind,
 * a read or write past either end would be reported. */
static void check_long_batch(void) {
    const size_t len = 10000; /* factlab_core::EXPENSIVE_BATCH_LEN */
    uint64_t *ns = malloc(len * sizeof *ns);
    uint64_t *out = malloc(len * sizeof *out);
    size_t big = 0;
    size_t zeros = 0;
    size_t i;
    int same = 1;

    CHECK(ns != NULL && out != NULL);
    if (ns != NULL && out != NULL) {
        for (i = 0; i < len; i++) {
            ns[i] = i % 25; /* 0..24: 4 in 25 need more than 64 bits */
        }
        CHECK(factlab_factorials_u64(ns, len, out, &big) == FACTLAB_OK);
        for (i = 0; i < len; i++) {
            same = same && out[i] == factlab_factorial_u64(ns[i]);
            zeros += out[i] == 0;
        }
        CHECK(same);
        CHECK(big == zeros && big == len / 25 * 4);
    }
    free(ns);
    free(out);
}

/* Decimal digits into the caller's buffer: ASCII, most significant first, no NUL. */
static void check_digits(void) {
    static const char f25[] = "15511210043330985984000000";
    char stack[64]; /* the bound for 25! is 39: 128 bits (two limbs) hold at most 39 digits */
    size_t len = 12345;

    /* 0! = 1: one digit; the bound is larger (a limb's worth). */
    CHECK(factlab_factorial_digits_bound(0) >= 1 && factlab_factorial_digits_bound(0) <= sizeof stack);
    CHECK(factlab_factorial_digits(0, (uint8_t *)stack, sizeof stack, &len) == FACTLAB_OK);
    CHECK(len == 1 && stack[0] == '1');

    /* 25! = 15511210043330985984000000: 26 digits. */
    CHECK(factlab_factorial_digits_bound(25) <= sizeof stack);
    CHECK(factlab_factorial_digits(25, (uint8_t *)stack, sizeof stack, &len) == FACTLAB_OK);
    CHECK(len == sizeof f25 - 1 && memcmp(stack, f25, len) == 0);

    /* Too small a buffer: refused before anything is computed or written. */
    memset(stack, '#', sizeof stack);
    len = 12345;
    CHECK(factlab_factorial_digits(25, (uint8_t *)stack, factlab_factorial_digits_bound(25) - 1, &len)
          == FACTLAB_BUFFER_TOO_SMALL);
    CHECK(len == 0 && stack[0] == '#');

    /* Too large: no bound, and refused. */
    CHECK(factlab_factorial_digits_bound((uint64_t)FACTLAB_MAX_N + 1) == 0);
    len = 12345;
    CHECK(factlab_factorial_digits((uint64_t)FACTLAB_MAX_N + 1, (uint8_t *)stack, sizeof stack, &len)
          == FACTLAB_TOO_LARGE);
    CHECK(len == 0 && stack[0] == '#');

    /* No buffer, or nowhere to put the length. */
    CHECK(factlab_factorial_digits(5, NULL, 8, &len) == FACTLAB_NULL_POINTER);
    CHECK(factlab_factorial_digits(5, (uint8_t *)stack, sizeof stack, NULL) == FACTLAB_NULL_POINTER);
}

/* 1000!: 2568 digits in a malloc'd buffer of exactly the bound, so that
 * valgrind sees any write past it. */
static void check_digits_1000(void) {
    static const char head[] = "40238726007709377354";
    size_t cap = factlab_factorial_digits_bound(1000);
    size_t len = 0;
    size_t i;
    int zeros = 1;
    char *digits = malloc(cap);

    /* A bound, a few percent above the count: 8530 bits hold at most 2568 digits. */
    CHECK(cap >= 2568 && cap <= 2568 * 11 / 10);
    CHECK(digits != NULL);
    if (digits != NULL) {
        CHECK(factlab_factorial_digits(1000, (uint8_t *)digits, cap, &len) == FACTLAB_OK);
        CHECK(len == 2568);
        if (len == 2568) {
            CHECK(memcmp(digits, head, sizeof head - 1) == 0);
            /* 1000! ends with 249 zeros (1000/5 + 1000/25 + 1000/125 + 1000/625). */
            for (i = len - 249; i < len; i++) {
                zeros = zeros && digits[i] == '0';
            }
            CHECK(zeros);
            CHECK(digits[len - 250] != '0');
        }
        free(digits);
    }
}

/* A hook that counts its calls, checks that done only grows, and asks to
 * stop at call number `stop_at` (0: never). */
struct ticks {
    int calls;
    int stop_at;
    uint64_t done;
    uint64_t total;
    int grows;
};

static int32_t count_ticks(void *ctx, uint64_t done, uint64_t total) {
    struct ticks *t = ctx;
    t->calls++;
    t->grows = t->grows && done >= t->done && done <= total;
    t->done = done;
    t->total = total;
    return t->stop_at != 0 && t->calls >= t->stop_at;
}

static void check_progress(void) {
    struct ticks t = {0, 0, 0, 0, 1};
    struct ticks stop = {0, 1, 0, 0, 1};
    FactlabBig hooked = garbage();
    FactlabBig plain = garbage();
    FactlabBig stopped = garbage();
    uint64_t n = FACTLAB_INTERRUPTIBLE_N + 1;

    CHECK(factlab_factorial_progress(n, count_ticks, &t, &hooked) == FACTLAB_OK);
    CHECK(factlab_factorial(n, &plain) == FACTLAB_OK);
    CHECK(hooked.len == plain.len && hooked.len > 0);
    CHECK(memcmp(hooked.limbs, plain.limbs, plain.len * sizeof(uint64_t)) == 0);
    CHECK(t.calls >= 1 && t.grows && t.done == t.total && t.total > 0);
    factlab_big_free(&hooked);
    factlab_big_free(&plain);

    /* Stopped at the first tick (or, on a fast machine, at the end). */
    CHECK(factlab_factorial_progress(n, count_ticks, &stop, &stopped) == FACTLAB_STOPPED);
    CHECK(is_empty(&stopped) && stop.calls == 1);
    /* No hook: never stops. A refused n never calls the hook. */
    CHECK(factlab_factorial_progress(25, NULL, NULL, &plain) == FACTLAB_OK);
    factlab_big_free(&plain);
    t.calls = 0;
    CHECK(factlab_factorial_progress(FACTLAB_MAX_N + 1, count_ticks, &t, &plain) == FACTLAB_TOO_LARGE);
    CHECK(t.calls == 0 && is_empty(&plain));
    CHECK(factlab_factorial_progress(5, count_ticks, &t, NULL) == FACTLAB_NULL_POINTER);
    /* The stopped worker ends after its step in flight and frees what it
     * held: wait for it (a spin, as C99 has no sleep shorter than a second). */
    while (factlab_workers_running() > 0) {
    }
}

/* An object C owns: make it, step it 60 times across the u64, u128 and limb
 * shapes, compare with factlab_factorial, free it. */
static void check_iterator(void) {
    FactlabFactorials *it = (FactlabFactorials *)&passed; /* garbage: must be overwritten */
    FactlabBig step = garbage();
    FactlabBig want = garbage();
    uint64_t n;
    int same = 1;

    CHECK(factlab_factorials_new(FACTLAB_MAX_N + 1, &it) == FACTLAB_TOO_LARGE && it == NULL);
    CHECK(factlab_factorials_new(0, NULL) == FACTLAB_NULL_POINTER);
    CHECK(factlab_factorials_new(0, &it) == FACTLAB_OK && it != NULL);
    CHECK(factlab_factorials_next(NULL, &step) == FACTLAB_NULL_POINTER);
    CHECK(factlab_factorials_next(it, NULL) == FACTLAB_NULL_POINTER);
    for (n = 0; n < 60; n++) {
        same = same && factlab_factorials_n(it) == n;
        same = same && factlab_factorials_next(it, &step) == FACTLAB_OK;
        same = same && factlab_factorial(n, &want) == FACTLAB_OK && step.len == want.len;
        same = same && memcmp(step.limbs, want.limbs, want.len * sizeof(uint64_t)) == 0;
        factlab_big_free(&step);
        factlab_big_free(&want);
    }
    CHECK(same && factlab_factorials_n(it) == 60);
    factlab_factorials_free(it);
    factlab_factorials_free(NULL);
    CHECK(factlab_factorials_n(NULL) == 0);
    /* Dropped without a step, and after one big step: nothing to leak either way. */
    CHECK(factlab_factorials_new(5000, &it) == FACTLAB_OK);
    factlab_factorials_free(it);
    CHECK(factlab_factorials_new(5000, &it) == FACTLAB_OK);
    CHECK(factlab_factorials_next(it, &step) == FACTLAB_OK && step.len > 0);
    factlab_big_free(&step);
    factlab_factorials_free(it);
}

int main(void) {
    check_scalar_crossings();
    check_small_through_the_big_path();
    check_1000();
    check_errors();
    check_no_memory();
    check_free();
    check_caller_allocates();
    check_by_value();
    check_batch();
    check_long_batch();
    check_digits();
    check_digits_1000();
    check_progress();
    check_iterator();
    printf("check_factlab: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
