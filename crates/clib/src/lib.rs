//! # factlab-clib: the kernel behind a plain C ABI
//!
//! Python's foreign-function interfaces (ctypes, cffi) and Cython do not speak
//! Rust: they speak C. This crate puts [`factlab_core`] behind seventeen C
//! functions, three structs and a few `#define`s, and cbindgen writes the C
//! header from this very file (`include/factlab.h`, and
//! `include/factlab_cdef.h` for cffi's `cdef`; `just header` regenerates both,
//! `cargo test` fails when they are stale).
//!
//! Three rules make a C ABI safe to call from anywhere:
//!
//! 1. **Only C types cross.** Integers of a fixed width, `#[repr(C)]` structs
//!    and raw pointers. No `Vec`, no `Result`, no `u128` (C has none: it
//!    crosses as a [`FactlabU128`] of two words). Errors are status codes.
//! 2. **Nothing unwinds across `extern "C"`.** A Rust panic that reached a C
//!    caller would be undefined behaviour (today's Rust aborts the process
//!    instead). Every entry that can reach the kernel runs it inside
//!    [`std::panic::catch_unwind`] and turns a panic into [`FACTLAB_PANIC`].
//!    The workspace builds with `panic = "unwind"` for exactly this reason:
//!    with `panic = "abort"` there would be nothing to catch.
//! 3. **Whoever allocates, frees.** A big result is a buffer that Rust's
//!    allocator made. The caller must give it back to Rust
//!    ([`factlab_big_free`]), never to C's `free()`: the two allocators need
//!    not be the same. Or the caller allocates, and there is nothing to give
//!    back: [`factlab_factorial_bound`] says how many bytes `n!` may take,
//!    [`factlab_factorial_fill`] writes it into the caller's buffer (the
//!    book's "Who allocates?" compares the two).
//!
//! ```c
//! FactlabBig big;
//! if (factlab_factorial(1000, &big) == FACTLAB_OK) {
//!     /* use big.limbs[0 .. big.len) */
//!     factlab_big_free(&big); /* now big == {NULL, 0} */
//! }
//! ```

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use factlab_core::{Error, Factorial};

// Private modules, and still part of the ABI: a `#[no_mangle] extern "C"`
// function is exported from the library wherever it is declared, and
// cbindgen follows `mod` declarations into these files for the header.
mod control;
mod iterator;

// --- status codes and bounds: each becomes a `#define` in the header ---------

// ANCHOR: status
/// Status: success; for `factlab_factorial`, `*out` now holds the result.
pub const FACTLAB_OK: i32 = 0;
/// Status: `n > FACTLAB_MAX_N`; nothing was allocated, `*out` is `{NULL, 0}`.
pub const FACTLAB_TOO_LARGE: i32 = 1;
/// Status: the kernel panicked; the panic was caught at the boundary, nothing
/// was allocated, `*out` is `{NULL, 0}`.
pub const FACTLAB_PANIC: i32 = 2;
/// Status: the `out` pointer was NULL; nothing was computed.
pub const FACTLAB_NULL_POINTER: i32 = 3;
/// Status: `n!` would not fit in the memory this process has left (its
/// address-space or data rlimit, its cgroup's memory limit, the machine's
/// available memory); refused before anything was allocated, `*out` is
/// `{NULL, 0}`, and the process goes on. (An allocation failure inside the
/// library would abort the process: the library checks first instead.)
pub const FACTLAB_NO_MEMORY: i32 = 4;
/// The largest `n` that `factlab_factorial_u64` answers (20! < 2^64).
pub const FACTLAB_MAX_U64_N: u64 = 20;
/// The largest `n` that `factlab_factorial_u128` answers (34! < 2^128).
pub const FACTLAB_MAX_U128_N: u64 = 34;
/// The largest `n` that `factlab_factorial` accepts.
pub const FACTLAB_MAX_N: u64 = 100000000;
/// From this `n` on a computation takes long enough for a caller to release
/// its locks (Python's GIL) around the call; below it, don't bother.
pub const FACTLAB_EXPENSIVE_N: u64 = 1000;
// ANCHOR_END: status

// cbindgen reads literals, not paths into another crate, so the bounds are
// spelled out above; these checks keep them equal to the kernel's at compile
// time.
const _: () = assert!(FACTLAB_MAX_U64_N == factlab_core::MAX_U64_N);
const _: () = assert!(FACTLAB_MAX_U128_N == factlab_core::MAX_U128_N);
const _: () = assert!(FACTLAB_MAX_N == factlab_core::MAX_N);
const _: () = assert!(FACTLAB_EXPENSIVE_N == factlab_core::EXPENSIVE_N);

// --- the two structs ------------------------------------------------------------

// ANCHOR: structs
/// An unsigned 128-bit integer as two 64-bit words (C has no portable
/// 128-bit type). Returned by value: nothing to free.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactlabU128 {
    /// The low 64 bits.
    pub lo: u64,
    /// The high 64 bits.
    pub hi: u64,
}

/// A big number: `len` little-endian 64-bit limbs (`limbs[0]` is the least
/// significant word; the last one is not zero).
///
/// Ownership: the LIBRARY allocates `limbs` (in `factlab_factorial`); the
/// CALLER owns them from then on and must give them back with
/// `factlab_big_free`, exactly once, never with C's `free()`.
/// `{NULL, 0}` is the empty value: it owns nothing.
#[repr(C)]
#[derive(Debug)]
pub struct FactlabBig {
    /// The limbs, least significant first; NULL when empty.
    pub limbs: *mut u64,
    /// The number of limbs; 0 when empty.
    pub len: usize,
}
// ANCHOR_END: structs

// ANCHOR: from-limbs
impl FactlabBig {
    /// The empty value, `{NULL, 0}`: owns nothing, safe to free.
    const EMPTY: FactlabBig = FactlabBig {
        limbs: ptr::null_mut(),
        len: 0,
    };

    /// Hands the limbs over to C. A boxed slice, unlike a `Vec`, has no
    /// spare capacity to remember: `(pointer, len)` is all that
    /// [`factlab_big_free`] needs to rebuild it.
    fn from_limbs(limbs: Box<[u64]>) -> FactlabBig {
        let len = limbs.len();
        // into_raw: Rust stops managing the buffer; C now owns it.
        let limbs = Box::into_raw(limbs).cast::<u64>();
        FactlabBig { limbs, len }
    }
}
// ANCHOR_END: from-limbs

// --- the scalar crossings: no pointer, no allocation ------------------------

// ANCHOR: crossing
/// `n!` if `n <= 20`, else 0 (0 is never a factorial). No other check and
/// nothing to free: the bare crossing that benchmarks time.
#[no_mangle]
pub extern "C" fn factlab_factorial_u64(n: u64) -> u64 {
    // A table lookup: it cannot panic, and the optimiser proves it, so this
    // catch_unwind compiles to nothing. It is there so that the rule "every
    // entry catches panics" has no exception to remember.
    catch_unwind(|| factlab_core::factorial_u64(n)).map_or(0, |v| v.unwrap_or(0))
}
// ANCHOR_END: crossing

/// `n!` if `n <= 34`, else `{0, 0}`. Returned by value: nothing to free.
#[no_mangle]
pub extern "C" fn factlab_factorial_u128(n: u64) -> FactlabU128 {
    let v = catch_unwind(|| factlab_core::factorial_u128(n)).map_or(0, |v| v.unwrap_or(0));
    FactlabU128 {
        lo: v as u64,
        hi: (v >> 64) as u64,
    }
}

// --- the general entry: any n, status code, out-parameter ---------------------

// ANCHOR: factorial
/// Computes `n!` for any `n <= FACTLAB_MAX_N` into `*out`.
///
/// Returns `FACTLAB_OK`, and then the CALLER owns `out->limbs` and must
/// release them with `factlab_big_free(out)`. On any other status
/// (`FACTLAB_TOO_LARGE`, `FACTLAB_NO_MEMORY`, `FACTLAB_PANIC`) `*out` is
/// `{NULL, 0}` and nothing was allocated; `FACTLAB_NULL_POINTER` when `out`
/// is NULL.
///
/// `*out` is overwritten, not freed: free a previous result first.
/// Takes seconds for the largest `n`; it holds no lock of its own, so it may
/// run on many threads at once.
///
/// # Safety
///
/// `out` is NULL or points to memory writable as a `FactlabBig`.
#[no_mangle]
pub unsafe extern "C" fn factlab_factorial(n: u64, out: *mut FactlabBig) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { boundary(out, || factlab_core::factorial(n)) }
}
// ANCHOR_END: factorial

/// Test-only: drives a deliberate panic of the kernel through the same
/// boundary as `factlab_factorial`. Returns `FACTLAB_PANIC` with
/// `*out == {NULL, 0}`, and the process goes on (the panic message is printed
/// on stderr by Rust's panic hook). `FACTLAB_NULL_POINTER` when `out` is NULL.
///
/// # Safety
///
/// `out` is NULL or points to memory writable as a `FactlabBig`.
#[no_mangle]
pub unsafe extern "C" fn factlab_debug_panic(out: *mut FactlabBig) -> i32 {
    // SAFETY: forwarded from this function's contract.
    unsafe { boundary(out, factlab_core::testing::deliberate_panic) }
}

// ANCHOR: free
/// Gives limbs from `factlab_factorial` back to the library, then sets
/// `*big = {NULL, 0}`, so that a second call is a harmless no-op.
/// NULL and `{NULL, 0}` are no-ops too.
///
/// # Safety
///
/// `big` is NULL, or points to a `FactlabBig` that is `{NULL, 0}` or that
/// `factlab_factorial` filled and nobody freed since (not a copy of one that
/// was freed through another pointer).
#[no_mangle]
pub unsafe extern "C" fn factlab_big_free(big: *mut FactlabBig) {
    if big.is_null() {
        return;
    }
    // SAFETY: `big` is non-null and valid for reads and writes (contract).
    let FactlabBig { limbs, len } = unsafe { ptr::replace(big, FactlabBig::EMPTY) };
    if !limbs.is_null() {
        // SAFETY: (limbs, len) came from `Box::into_raw` of a `Box<[u64]>` of
        // exactly `len` elements (`FactlabBig::from_limbs`) and was not freed
        // since (contract). Rebuilding the box and dropping it hands the
        // buffer back to the allocator that made it. Freeing never panics.
        drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(limbs, len)) });
    }
}
// ANCHOR_END: free

// --- the caller allocates: a size bound, then "fill this buffer" --------------

// ANCHOR: caller-allocates
/// Status: `cap` is smaller than `factlab_factorial_bound(n)`; nothing was
/// computed and nothing was written.
pub const FACTLAB_BUFFER_TOO_SMALL: i32 = 5;

/// A number of bytes that always holds `n!` as `factlab_factorial_fill`
/// writes it: a multiple of 8, at least 8, at most a few percent more than
/// the exact size (the whole bound for `n <= 1`: 8 bytes). 0 when
/// `n > FACTLAB_MAX_N` (the fill will refuse that n with `FACTLAB_TOO_LARGE`).
///
/// Why it is a bound: a product of a `p`-bit and a `q`-bit number has at most
/// `p + q` bits, so `n!` has at most `bits(1) + bits(2) + ... + bits(n)` bits,
/// which is `L * (n + 1) - (2^L - 1)` with `L = bits(n)`. Nothing to compute
/// but that: the caller may call it for every `n`.
#[no_mangle]
pub extern "C" fn factlab_factorial_bound(n: u64) -> usize {
    if n > FACTLAB_MAX_N {
        return 0;
    }
    let l = u64::from(u64::BITS - n.leading_zeros()); // bits(n); n <= 10^8: l <= 27
    let bits = l * (n + 1) - ((1 << l) - 1);
    let limbs = bits.div_ceil(64).max(1); // 0! = 1 needs one limb
    usize::try_from(limbs * 8).unwrap_or(usize::MAX)
}

/// Computes `n!` into the CALLER's buffer: its little-endian bytes in
/// `buf[0 ..)`, then zeros up to `buf[cap - 1]`, so that the whole buffer
/// reads as the number.
///
/// Ownership: the CALLER allocates `buf` (with any allocator: a Python
/// `bytearray`, the stack, `malloc`) and frees it; the library writes into it
/// during the call only and keeps no pointer to it. Nothing to give back.
///
/// Returns `FACTLAB_OK`; `FACTLAB_BUFFER_TOO_SMALL` when
/// `cap < factlab_factorial_bound(n)`; `FACTLAB_TOO_LARGE` or
/// `FACTLAB_PANIC` as `factlab_factorial` does; `FACTLAB_NULL_POINTER` when
/// `buf` is NULL. On any status but `FACTLAB_OK`, `buf` is untouched.
///
/// # Safety
///
/// `buf` is NULL or valid for writes of `cap` bytes, and nothing else
/// (another thread) reads or writes them during the call.
#[no_mangle]
pub unsafe extern "C" fn factlab_factorial_fill(n: u64, buf: *mut u8, cap: usize) -> i32 {
    if buf.is_null() {
        return FACTLAB_NULL_POINTER;
    }
    if cap < factlab_factorial_bound(n) {
        return FACTLAB_BUFFER_TOO_SMALL;
    }
    // The same boundary as factlab_factorial (panics caught, n checked); the
    // limbs it hands out are copied into `buf`, then given back at once.
    let mut big = FactlabBig::EMPTY;
    // SAFETY: `big` is a valid FactlabBig.
    let status = unsafe { boundary(&mut big, || factlab_core::factorial(n)) };
    if status == FACTLAB_OK {
        // SAFETY: OK means `big` holds `len` limbs that nobody freed; `buf`
        // is valid for `cap` bytes (contract), and `cap >= bound(n) >= 8 *
        // len`, so the two slices fit and cannot overlap (the library made
        // one, the caller the other).
        let (limbs, bytes) = unsafe {
            (
                std::slice::from_raw_parts(big.limbs, big.len),
                std::slice::from_raw_parts_mut(buf, cap),
            )
        };
        let (number, rest) = bytes.split_at_mut(limbs.len() * 8);
        for (word, limb) in number.chunks_exact_mut(8).zip(limbs) {
            word.copy_from_slice(&limb.to_le_bytes()); // a memcpy on little-endian machines
        }
        rest.fill(0);
    }
    // SAFETY: `big` is `{NULL, 0}` or what `boundary` filled.
    unsafe { factlab_big_free(&mut big) };
    status
}
// ANCHOR_END: caller-allocates

// --- small results by value: nobody allocates -------------------------------

// ANCHOR: by-value
/// The largest `n` that `factlab_factorial_small` answers
/// (170! < 2^1024 <= 171!, the largest factorial a C `double` holds too).
pub const FACTLAB_MAX_SMALL_N: u64 = 170;

/// Up to 1024 bits as sixteen little-endian 64-bit limbs (`limbs[0]` least
/// significant, unused high limbs zero). Returned by value: the caller's
/// stack (or its FFI's temporary) holds it; nothing to free.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactlabSmall {
    /// The limbs, least significant first.
    pub limbs: [u64; 16],
}

/// `n!` if `n <= FACTLAB_MAX_SMALL_N`, else all zeros (0 is never a
/// factorial; a caught panic gives zeros too). Returned by value: nothing to
/// free; on a little-endian machine its 128 bytes are the number's.
#[no_mangle]
pub extern "C" fn factlab_factorial_small(n: u64) -> FactlabSmall {
    let mut small = FactlabSmall { limbs: [0; 16] };
    if n <= FACTLAB_MAX_SMALL_N {
        // The same boundary as factlab_factorial; its limbs are copied out,
        // then given back at once.
        let mut big = FactlabBig::EMPTY;
        // SAFETY: `big` is a valid FactlabBig.
        if unsafe { boundary(&mut big, || factlab_core::factorial(n)) } == FACTLAB_OK {
            // SAFETY: OK means `big` holds `len` limbs nobody freed; n <= 170
            // means len <= 16 (170! < 2^1024).
            let limbs = unsafe { std::slice::from_raw_parts(big.limbs, big.len) };
            small.limbs[..limbs.len()].copy_from_slice(limbs);
        }
        // SAFETY: `big` is `{NULL, 0}` or what `boundary` filled.
        unsafe { factlab_big_free(&mut big) };
    }
    small
}
// ANCHOR_END: by-value

// --- many values in one call, and decimal digits ---------------------------

// ANCHOR: batch
/// Writes `ns[i]!` into `out[i]` for every `i < len` whose `ns[i] <= 20`, and
/// 0 (never a factorial) for the others, whose results need more than 64
/// bits: the caller computes those one by one (`factlab_factorial_fill`).
/// `*big` receives how many zeros were written.
///
/// Ownership: the CALLER allocates both arrays (a Python `array('Q')`, a
/// numpy array, the stack) and frees them; nothing is kept, nothing to give
/// back. One call for the whole batch: the crossing is paid once.
///
/// Returns `FACTLAB_OK`, `FACTLAB_NULL_POINTER` when a pointer is NULL (an
/// empty batch may pass NULL arrays), or `FACTLAB_PANIC`.
///
/// # Safety
///
/// `ns` is valid for reads and `out` for writes of `len` `uint64_t` (the two
/// may be the same array: each `out[i]` is written after `ns[i]` is read);
/// `big` is valid for a write.
#[no_mangle]
pub unsafe extern "C" fn factlab_factorials_u64(
    ns: *const u64,
    len: usize,
    out: *mut u64,
    big: *mut usize,
) -> i32 {
    if big.is_null() || (len > 0 && (ns.is_null() || out.is_null())) {
        return FACTLAB_NULL_POINTER;
    }
    let outcome = caught(|| -> Result<usize, Error> {
        let mut zeros = 0;
        for i in 0..len {
            // SAFETY: i < len, and both arrays hold len values (contract).
            // Raw reads and writes, not slices: `ns` and `out` may alias.
            let n = unsafe { ns.add(i).read() };
            let value = factlab_core::factorial_u64(n).unwrap_or(0);
            zeros += usize::from(value == 0);
            // SAFETY: as above.
            unsafe { out.add(i).write(value) };
        }
        Ok(zeros)
    });
    let (status, zeros) = outcome.map_or_else(|status| (status, 0), |zeros| (FACTLAB_OK, zeros));
    // SAFETY: `big` is non-null and valid for a write (contract).
    unsafe { big.write(zeros) };
    status
}
// ANCHOR_END: batch

// ANCHOR: digits
/// A number of bytes that always holds the decimal digits of `n!` (no sign,
/// no terminating NUL): at most a few percent more than their count. 0 when
/// `n > FACTLAB_MAX_N`.
///
/// From the bit bound of `factlab_factorial_bound`: a number of `b` bits has
/// at most `floor(b * log10(2)) + 1` digits, and 0.30103 > log10(2).
#[no_mangle]
pub extern "C" fn factlab_factorial_digits_bound(n: u64) -> usize {
    let bits = factlab_factorial_bound(n) as u64 * 8;
    if bits == 0 {
        return 0;
    }
    usize::try_from(bits * 30_103 / 100_000 + 1).unwrap_or(usize::MAX)
}

/// Writes the decimal digits of `n!` (ASCII, most significant first, no
/// NUL) into the CALLER's buffer `buf[0 .. *len)`.
///
/// Ownership: the caller allocates `buf` with at least
/// `factlab_factorial_digits_bound(n)` bytes, and frees it; the library
/// keeps nothing. Returns `FACTLAB_OK`; `FACTLAB_BUFFER_TOO_SMALL` when
/// `cap` is below the bound; `FACTLAB_TOO_LARGE`, `FACTLAB_NO_MEMORY` or
/// `FACTLAB_PANIC` as `factlab_factorial` does; `FACTLAB_NULL_POINTER` when
/// `buf` or `len` is NULL. On any status but `FACTLAB_OK`, `buf` is
/// untouched and `*len` is 0.
///
/// # Safety
///
/// `buf` is NULL or valid for writes of `cap` bytes; `len` is NULL or valid
/// for a write.
#[no_mangle]
pub unsafe extern "C" fn factlab_factorial_digits(
    n: u64,
    buf: *mut u8,
    cap: usize,
    len: *mut usize,
) -> i32 {
    if buf.is_null() || len.is_null() {
        return FACTLAB_NULL_POINTER;
    }
    let outcome = if cap < factlab_factorial_digits_bound(n) && n <= FACTLAB_MAX_N {
        Err(FACTLAB_BUFFER_TOO_SMALL)
    } else {
        caught(|| factlab_core::factorial_digits(n))
    };
    let (status, written) = match outcome {
        Ok(digits) => {
            // SAFETY: `buf` is valid for `cap` bytes (contract), and `cap` is
            // at least the bound, which holds every digit.
            let dest = unsafe { std::slice::from_raw_parts_mut(buf, cap) };
            dest[..digits.len()].copy_from_slice(digits.as_bytes());
            (FACTLAB_OK, digits.len())
        }
        Err(status) => (status, 0),
    };
    // SAFETY: `len` is non-null and valid for a write (contract).
    unsafe { len.write(written) };
    status
}
// ANCHOR_END: digits

// ANCHOR: boundary
/// The one boundary between C and the kernel: validates `out`, runs `compute`
/// inside `catch_unwind` ([`caught`]), and turns its outcome into a status
/// code and `*out`.
///
/// # Safety
///
/// `out` is NULL or valid for writes of a `FactlabBig`.
unsafe fn boundary<E: Status>(
    out: *mut FactlabBig,
    compute: impl FnOnce() -> Result<Factorial, E>,
) -> i32 {
    if out.is_null() {
        return FACTLAB_NULL_POINTER;
    }
    let (status, big) = match caught(compute) {
        Ok(f) => (FACTLAB_OK, FactlabBig::from_limbs(into_limbs(f))),
        Err(status) => (status, FactlabBig::EMPTY),
    };
    // `write`, not `*out = ..`: the caller's struct may be uninitialised, and
    // there is nothing in it to drop.
    // SAFETY: `out` is non-null and valid for writes (contract).
    unsafe { out.write(big) };
    status
}

/// Runs `compute` inside `catch_unwind`: its value, or the status code that
/// says why there is none (a refusal of the kernel, or a caught panic).
fn caught<T, E: Status>(compute: impl FnOnce() -> Result<T, E>) -> Result<T, i32> {
    // AssertUnwindSafe: `compute` shares no state with the caller that a
    // panic could leave half-updated; the kernel is pure.
    match catch_unwind(AssertUnwindSafe(compute)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(why)) => Err(why.status()),
        // The payload (the panic message) is dropped here, inside Rust.
        Err(_payload) => Err(FACTLAB_PANIC),
    }
}

/// A reason the kernel gave no value, as the status code C sees.
trait Status {
    fn status(&self) -> i32;
}

impl Status for Error {
    fn status(&self) -> i32 {
        match self {
            Error::TooLarge { .. } => FACTLAB_TOO_LARGE,
            Error::NoMemory { .. } => FACTLAB_NO_MEMORY,
        }
    }
}
// ANCHOR_END: boundary

/// Every shape of the result as limbs: one word for n <= 20, two up to 34.
fn into_limbs(f: Factorial) -> Box<[u64]> {
    match f {
        Factorial::U64(v) => Box::new([v]),
        // 21! > 2^64, so the high word is never zero: no trailing zero limb.
        Factorial::U128(v) => Box::new([v as u64, (v >> 64) as u64]),
        Factorial::Limbs(limbs) => limbs.into_boxed_slice(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 25! = 15511210043330985984000000 = 0x0000_0000_000C_D4A0_619F_B090_7BC0_0000
    const F25: u128 = 15_511_210_043_330_985_984_000_000;

    fn limbs(big: &FactlabBig) -> &[u64] {
        // SAFETY: `big` came from factlab_factorial with FACTLAB_OK.
        unsafe { std::slice::from_raw_parts(big.limbs, big.len) }
    }

    fn compute(n: u64) -> (i32, FactlabBig) {
        let mut out = FactlabBig {
            limbs: ptr::dangling_mut(),
            len: 12345,
        };
        // SAFETY: `out` is a valid FactlabBig.
        let status = unsafe { factlab_factorial(n, &mut out) };
        (status, out)
    }

    #[test]
    fn u64_crossing() {
        assert_eq!(factlab_factorial_u64(0), 1);
        assert_eq!(factlab_factorial_u64(1), 1);
        assert_eq!(factlab_factorial_u64(20), 2_432_902_008_176_640_000);
        assert_eq!(factlab_factorial_u64(21), 0);
        assert_eq!(factlab_factorial_u64(u64::MAX), 0);
    }

    #[test]
    fn u128_crossing() {
        assert_eq!(factlab_factorial_u128(0), FactlabU128 { lo: 1, hi: 0 });
        let v = factlab_factorial_u128(25);
        assert_eq!(u128::from(v.lo) | (u128::from(v.hi) << 64), F25);
        let v = factlab_factorial_u128(34);
        assert_eq!(
            u128::from(v.lo) | (u128::from(v.hi) << 64),
            factlab_core::factorial_u128(34).unwrap()
        );
        assert_eq!(factlab_factorial_u128(35), FactlabU128 { lo: 0, hi: 0 });
        assert_eq!(
            factlab_factorial_u128(u64::MAX),
            FactlabU128 { lo: 0, hi: 0 }
        );
    }

    #[test]
    fn factorial_every_shape() {
        for n in [0, 1, 20, 21, 25, 34, 35, 1000] {
            let (status, mut out) = compute(n);
            assert_eq!(status, FACTLAB_OK, "n = {n}");
            let expected = factlab_core::factorial(n).unwrap();
            assert_eq!(
                factlab_core::limbs_le_bytes(limbs(&out)),
                expected.le_bytes(),
                "n = {n}"
            );
            assert_ne!(
                *limbs(&out).last().unwrap(),
                0,
                "n = {n}: trailing zero limb"
            );
            // SAFETY: `out` holds a result nobody freed.
            unsafe { factlab_big_free(&mut out) };
            assert!(out.limbs.is_null());
            assert_eq!(out.len, 0);
        }
    }

    #[test]
    fn factorial_25_limbs() {
        let (status, mut out) = compute(25);
        assert_eq!(status, FACTLAB_OK);
        assert_eq!(limbs(&out), [F25 as u64, (F25 >> 64) as u64]);
        // SAFETY: `out` holds a result nobody freed.
        unsafe { factlab_big_free(&mut out) };
    }

    #[test]
    fn too_large_allocates_nothing() {
        for n in [FACTLAB_MAX_N + 1, u64::MAX] {
            let (status, out) = compute(n);
            assert_eq!(status, FACTLAB_TOO_LARGE);
            assert!(out.limbs.is_null());
            assert_eq!(out.len, 0);
        }
    }

    #[test]
    fn null_out_pointer() {
        // SAFETY: NULL is allowed.
        unsafe {
            assert_eq!(factlab_factorial(5, ptr::null_mut()), FACTLAB_NULL_POINTER);
            assert_eq!(factlab_debug_panic(ptr::null_mut()), FACTLAB_NULL_POINTER);
        }
    }

    #[test]
    fn panic_becomes_a_status() {
        let mut out = FactlabBig {
            limbs: ptr::dangling_mut(),
            len: 7,
        };
        // SAFETY: `out` is a valid FactlabBig.
        let status = unsafe { factlab_debug_panic(&mut out) };
        assert_eq!(status, FACTLAB_PANIC);
        assert!(out.limbs.is_null());
        assert_eq!(out.len, 0);
        // The boundary still works after a panic.
        let (status, mut out) = compute(30);
        assert_eq!(status, FACTLAB_OK);
        // SAFETY: `out` holds a result nobody freed.
        unsafe { factlab_big_free(&mut out) };
    }

    #[test]
    fn free_null_empty_and_twice() {
        // SAFETY: NULL, {NULL, 0} and an already freed (reset) value are all
        // allowed.
        unsafe {
            factlab_big_free(ptr::null_mut());
            let mut empty = FactlabBig::EMPTY;
            factlab_big_free(&mut empty);
            assert!(empty.limbs.is_null());
            let (_, mut out) = compute(100);
            factlab_big_free(&mut out);
            factlab_big_free(&mut out);
            assert!(out.limbs.is_null());
            assert_eq!(out.len, 0);
        }
    }

    #[test]
    fn constants_match_the_kernel() {
        assert_eq!(FACTLAB_MAX_N, factlab_core::MAX_N);
        assert_eq!(FACTLAB_EXPENSIVE_N, factlab_core::EXPENSIVE_N);
        let codes = [
            FACTLAB_OK,
            FACTLAB_TOO_LARGE,
            FACTLAB_PANIC,
            FACTLAB_NULL_POINTER,
            FACTLAB_NO_MEMORY,
        ];
        assert_eq!(codes, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn bound_holds_and_is_tight() {
        for n in (0..=2000).chain([5000, 10_000, 100_000]) {
            let exact = factlab_core::factorial(n)
                .unwrap()
                .le_bytes()
                .len()
                .div_ceil(8)
                * 8;
            let bound = factlab_factorial_bound(n);
            assert!(bound >= exact, "n = {n}: bound {bound} < {exact}");
            assert_eq!(bound % 8, 0);
            // n = 1000: 8530 bits; the bound: 8987 (5% more)
            assert!(
                bound <= exact * 11 / 10 + 8,
                "n = {n}: bound {bound} for {exact}"
            );
        }
        assert_eq!(factlab_factorial_bound(FACTLAB_MAX_N + 1), 0);
        assert_eq!(factlab_factorial_bound(u64::MAX), 0);
        assert!(factlab_factorial_bound(FACTLAB_MAX_N) < 400 << 20); // 10^8!: 299 MiB
    }

    #[test]
    fn fill_writes_the_number_then_zeros() {
        for n in [0, 1, 20, 21, 25, 34, 35, 1000, 12_345] {
            let cap = factlab_factorial_bound(n) + 5;
            let mut buf = vec![0xA5u8; cap];
            // SAFETY: `buf` is valid for `cap` bytes.
            let status = unsafe { factlab_factorial_fill(n, buf.as_mut_ptr(), cap) };
            assert_eq!(status, FACTLAB_OK, "n = {n}");
            let expected = factlab_core::factorial(n).unwrap();
            let expected = expected.le_bytes();
            assert_eq!(&buf[..expected.len()], &*expected, "n = {n}");
            assert!(buf[expected.len()..].iter().all(|&b| b == 0), "n = {n}");
        }
    }

    #[test]
    fn fill_refusals_write_nothing() {
        let mut buf = [0xA5u8; 24];
        // SAFETY: `buf` is valid for the capacities given; NULL is allowed.
        unsafe {
            // 35! needs 17 bytes, the bound says 24: 23 is too small.
            assert_eq!(
                factlab_factorial_fill(35, buf.as_mut_ptr(), 23),
                FACTLAB_BUFFER_TOO_SMALL
            );
            let n = FACTLAB_MAX_N + 1;
            assert_eq!(
                factlab_factorial_fill(n, buf.as_mut_ptr(), 24),
                FACTLAB_TOO_LARGE
            );
            assert_eq!(
                factlab_factorial_fill(5, ptr::null_mut(), 24),
                FACTLAB_NULL_POINTER
            );
        }
        assert_eq!(buf, [0xA5; 24]);
    }

    #[test]
    fn small_by_value() {
        for n in [0, 1, 20, 34, 35, 100, 169, 170] {
            let small = factlab_factorial_small(n);
            let expected = factlab_core::factorial(n).unwrap();
            let got = factlab_core::limbs_le_bytes(&small.limbs);
            let bytes = expected.le_bytes();
            assert_eq!(&got[..bytes.len()], &*bytes, "n = {n}");
            assert!(got[bytes.len()..].iter().all(|&b| b == 0), "n = {n}");
        }
        // 170! has 1020 bits; 171! needs 1027: refused with zeros.
        assert_eq!(factlab_core::factorial(171).unwrap().bit_len(), 1027);
        assert_eq!(factlab_core::factorial(170).unwrap().bit_len(), 1020);
        for n in [171, FACTLAB_MAX_N + 1, u64::MAX] {
            assert_eq!(factlab_factorial_small(n).limbs, [0; 16]);
        }
    }

    #[test]
    fn batch_of_u64_and_zeros_for_the_rest() {
        let ns = [0, 5, 20, 21, 25, FACTLAB_MAX_N + 1, u64::MAX, 3];
        let mut out = [7u64; 8];
        let mut big = 99;
        // SAFETY: both arrays hold 8 values; `big` is a valid usize.
        let status = unsafe { factlab_factorials_u64(ns.as_ptr(), 8, out.as_mut_ptr(), &mut big) };
        assert_eq!(status, FACTLAB_OK);
        assert_eq!(out, [1, 120, 2_432_902_008_176_640_000, 0, 0, 0, 0, 6]);
        assert_eq!(big, 4);
        // In place: `ns` and `out` the same array.
        let mut inout = [3u64, 4, 30];
        // SAFETY: one array of 3 values, read then written element by element.
        let status =
            unsafe { factlab_factorials_u64(inout.as_ptr(), 3, inout.as_mut_ptr(), &mut big) };
        assert_eq!((status, inout, big), (FACTLAB_OK, [6, 24, 0], 1));
        // SAFETY: NULL arrays are allowed for an empty batch only.
        unsafe {
            assert_eq!(
                factlab_factorials_u64(ptr::null(), 0, ptr::null_mut(), &mut big),
                FACTLAB_OK
            );
            assert_eq!(big, 0);
            let status = factlab_factorials_u64(ptr::null(), 1, out.as_mut_ptr(), &mut big);
            assert_eq!(status, FACTLAB_NULL_POINTER);
            let status = factlab_factorials_u64(ns.as_ptr(), 1, out.as_mut_ptr(), ptr::null_mut());
            assert_eq!(status, FACTLAB_NULL_POINTER);
        }
    }

    fn digits(n: u64, cap: usize) -> (i32, String) {
        let mut buf = vec![b'#'; cap];
        let mut len = 12345;
        // SAFETY: `buf` is valid for `cap` bytes, `len` for a write.
        let status = unsafe { factlab_factorial_digits(n, buf.as_mut_ptr(), cap, &mut len) };
        if status != FACTLAB_OK {
            assert_eq!(len, 0);
            assert!(
                buf.iter().all(|&b| b == b'#'),
                "n = {n}: written on {status}"
            );
        }
        (status, String::from_utf8(buf[..len].to_vec()).unwrap())
    }

    #[test]
    fn digits_into_the_callers_buffer() {
        for n in [0, 1, 20, 21, 34, 35, 1000, 12_345] {
            let bound = factlab_factorial_digits_bound(n);
            let expected = factlab_core::factorial_digits(n).unwrap();
            assert!(
                bound >= expected.len(),
                "n = {n}: bound {bound} < {}",
                expected.len()
            );
            // One limb of slack: 20 digits for small n, a few percent for big ones.
            assert!(
                bound <= expected.len() * 11 / 10 + 20,
                "n = {n}: bound {bound}"
            );
            assert_eq!(digits(n, bound), (FACTLAB_OK, expected), "n = {n}");
        }
        let bound = factlab_factorial_digits_bound(100);
        assert_eq!(digits(100, bound - 1).0, FACTLAB_BUFFER_TOO_SMALL);
        assert_eq!(factlab_factorial_digits_bound(FACTLAB_MAX_N + 1), 0);
        assert_eq!(digits(FACTLAB_MAX_N + 1, 8).0, FACTLAB_TOO_LARGE);
        let mut len = 0;
        // SAFETY: NULL pointers are allowed, and refused.
        unsafe {
            let status = factlab_factorial_digits(5, ptr::null_mut(), 8, &mut len);
            assert_eq!(status, FACTLAB_NULL_POINTER);
            let mut buf = [0u8; 8];
            let status = factlab_factorial_digits(5, buf.as_mut_ptr(), 8, ptr::null_mut());
            assert_eq!(status, FACTLAB_NULL_POINTER);
        }
    }
}
