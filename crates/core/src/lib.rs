//! # factlab-core: exact factorials, small and big
//!
//! The one kernel that every factlab binding wraps. It knows nothing of Python
//! or C: it takes an `n: u64` and gives back `n!` exactly, in the cheapest
//! shape that holds it.
//!
//! | n            | shape                   | how                          |
//! |--------------|-------------------------|------------------------------|
//! | 0 ..= 20     | [`Factorial::U64`]      | a table lookup               |
//! | 21 ..= 34    | [`Factorial::U128`]     | a table lookup               |
//! | 35 ..= 800  | [`Factorial::Limbs`]      | packed words, one shift ([`WORD_PRODUCT_MAX_N`]) |
//! | 801 ..= 19,999 | [`Factorial::Limbs`] | malachite's `Natural::factorial` (prime swing) |
//! | 20,000 ..= [`MAX_N`] | [`Factorial::Limbs`] | (k!)² · C(n, k), k = n/2, in steps ([`control`]) |
//!
//! Big results are little-endian 64-bit words ("limbs"), so that a binding can
//! build its Python `int` straight from their bytes ([`Factorial::le_bytes`]),
//! never through a decimal string.
//!
//! ```
//! use factlab_core::{factorial, Factorial};
//! assert_eq!(factorial(0), Ok(Factorial::U64(1)));
//! assert_eq!(factorial(25), Ok(Factorial::U128(15_511_210_043_330_985_984_000_000)));
//! assert!(factorial(factlab_core::MAX_N + 1).is_err());
//! ```

#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

use std::borrow::Cow;
use std::fmt;

use malachite_base::num::arithmetic::traits::Factorial as _;
use malachite_nz::natural::Natural;

pub mod control;
pub mod iterator;
pub mod memory;

// ANCHOR: bounds
/// The largest `n` whose factorial fits in a `u64` (20! = 2432902008176640000).
pub const MAX_U64_N: u64 = 20;

/// The largest `n` whose factorial fits in a `u128` (34! is 128 bits wide).
pub const MAX_U128_N: u64 = 34;

/// The largest `n` the kernel accepts.
///
/// 10^8! is 2.5 billion bits (314 MB) and takes tens of seconds; computing it
/// needs several times that at its peak ([`memory::peak_bytes`]). Past this
/// bound the kernel refuses at once with [`Error::TooLarge`] instead of
/// running for minutes; below it, a process without the memory gets
/// [`Error::NoMemory`] before anything is allocated.
pub const MAX_N: u64 = 100_000_000;

/// From this `n` on, computing `n!` costs more than a few microseconds: a
/// binding should let other threads run (release the GIL) while it works.
/// Below it, releasing and re-taking a lock costs more than the work itself.
pub const EXPENSIVE_N: u64 = 1_000;
// ANCHOR_END: bounds

// ANCHOR: error
/// Why the kernel refused to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// `n` is larger than [`MAX_N`].
    TooLarge {
        /// The `n` that was asked for.
        n: u64,
    },
    /// `n!` would not fit in the memory this process has left (see
    /// [`memory`]): refused before anything was allocated.
    NoMemory {
        /// The `n` that was asked for.
        n: u64,
        /// The predicted peak, in bytes ([`memory::peak_bytes`]).
        needed: u64,
        /// What the tightest limit leaves, in bytes.
        available: u64,
        /// Which limit that is (`"RLIMIT_AS"`, ...).
        limit: &'static str,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooLarge { n } => write!(
                f,
                "factorial() argument should not exceed {MAX_N} (factlab's bound), got {n}"
            ),
            Error::NoMemory {
                n,
                needed,
                available,
                limit,
            } => write!(
                f,
                "factorial({n}) needs about {} MiB at its peak; {limit} leaves {} MiB",
                needed.div_ceil(1 << 20),
                available >> 20
            ),
        }
    }
}

impl std::error::Error for Error {}
// ANCHOR_END: error

// ANCHOR: shape
/// `n!` in the cheapest shape that holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Factorial {
    /// `n <= 20`.
    U64(u64),
    /// `21 <= n <= 34`.
    U128(u128),
    /// `n >= 35`: little-endian 64-bit words, the last one non-zero.
    Limbs(Vec<u64>),
}
// ANCHOR_END: shape

impl Factorial {
    /// The value as little-endian bytes (trailing zero bytes included, up to
    /// a whole word). On little-endian machines the limbs are borrowed, not
    /// copied.
    pub fn le_bytes(&self) -> Cow<'_, [u8]> {
        match self {
            Factorial::U64(v) => Cow::Owned(v.to_le_bytes().to_vec()),
            Factorial::U128(v) => Cow::Owned(v.to_le_bytes().to_vec()),
            Factorial::Limbs(limbs) => limbs_le_bytes(limbs),
        }
    }

    /// The number of significant bits of the value (`0` never occurs: n! >= 1).
    pub fn bit_len(&self) -> u64 {
        match self {
            Factorial::U64(v) => u64::from(u64::BITS - v.leading_zeros()),
            Factorial::U128(v) => u64::from(u128::BITS - v.leading_zeros()),
            Factorial::Limbs(limbs) => {
                let top = limbs.last().copied().unwrap_or(0);
                limbs.len() as u64 * 64 - u64::from(top.leading_zeros())
            }
        }
    }
}

/// Views little-endian limbs as little-endian bytes.
pub fn limbs_le_bytes(limbs: &[u64]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        // SAFETY: u64 has no padding and u8 has alignment 1, so the memory of
        // `limbs` is exactly `8 * len` initialised bytes, in limb order; on a
        // little-endian machine that is the number's little-endian encoding.
        // The slice borrows `limbs`, so it cannot outlive it.
        Cow::Borrowed(unsafe {
            std::slice::from_raw_parts(limbs.as_ptr().cast::<u8>(), std::mem::size_of_val(limbs))
        })
    } else {
        Cow::Owned(limbs.iter().flat_map(|l| l.to_le_bytes()).collect())
    }
}

// ANCHOR: table
/// n! for n = 0..=34, computed once at compile time.
const TABLE: [u128; (MAX_U128_N + 1) as usize] = {
    let mut t = [1u128; (MAX_U128_N + 1) as usize];
    let mut i = 1;
    while i < t.len() {
        t[i] = t[i - 1] * i as u128;
        i += 1;
    }
    t
};
// ANCHOR_END: table

/// `n!` if it fits in a `u64` (n <= 20), else `None`.
#[inline]
pub fn factorial_u64(n: u64) -> Option<u64> {
    if n <= MAX_U64_N {
        // The table entry is below 2^64 for these n: the cast is exact.
        Some(TABLE[n as usize] as u64)
    } else {
        None
    }
}

/// `n!` if it fits in a `u128` (n <= 34), else `None`.
#[inline]
pub fn factorial_u128(n: u64) -> Option<u128> {
    TABLE.get(usize::try_from(n).ok()?).copied()
}

/// `n!` as little-endian 64-bit limbs, for any `n <= MAX_N`.
///
/// This is the expensive path: callers that can release a lock (the GIL)
/// should do so around it when `n >= EXPENSIVE_N`.
pub fn factorial_limbs(n: u64) -> Result<Vec<u64>, Error> {
    admit(n)?;
    if n > MAX_U128_N && n <= WORD_PRODUCT_MAX_N {
        return Ok(word_product(n));
    }
    if n < control::BASE_N {
        return Ok(Natural::factorial(n).into_limbs_asc());
    }
    // The steps a long call can be stopped between (control::factorial_with),
    // here with nothing to stop them: as fast as malachite's own factorial.
    // `run_plan` returns `None` only when its hook answers `false`, and this
    // one never does.
    let all = control::run_plan(n, |_| true);
    Ok(all
        .expect("a hook that never stops never stops the plan")
        .into_limbs_asc())
}

/// `Ok(n)` unless the kernel would refuse `n`: past [`MAX_N`], or `n!` too
/// big for the memory left ([`memory::check`]). Computes nothing, so a
/// binding can check a whole batch while reading it, before any work.
pub fn admit(n: u64) -> Result<u64, Error> {
    if n > MAX_N {
        return Err(Error::TooLarge { n });
    }
    // An allocation failure inside the engine would abort the process:
    // refuse first what cannot fit.
    memory::check(n).map(|()| n)
}

// ANCHOR: word-product
/// Up to this `n` the limb path multiplies word by word (below); past it,
/// malachite's prime-swing algorithm wins: its multiplications are
/// sub-quadratic, this loop is quadratic in the result's length.
pub const WORD_PRODUCT_MAX_N: u64 = 800;

/// `n!` for `MAX_U128_N < n <= WORD_PRODUCT_MAX_N`: the odd parts of the
/// factors are packed into one 64-bit word while they fit (about 64/log2(n)
/// factors per word), each word multiplies the limbs in one pass, and the
/// powers of two are applied at the end as one shift.
fn word_product(n: u64) -> Vec<u64> {
    // The odd part of 34! is 119 bits: two limbs to start from.
    let start = TABLE[MAX_U128_N as usize];
    let mut twos = u64::from(start.trailing_zeros());
    let odd = start >> twos;
    let mut limbs = Vec::with_capacity((memory::result_bytes(n) / 8) as usize + 1);
    limbs.extend([odd as u64, (odd >> 64) as u64]);
    let mut word = 1u64;
    for k in MAX_U128_N + 1..=n {
        let tz = k.trailing_zeros();
        twos += u64::from(tz);
        let odd = k >> tz;
        match word.checked_mul(odd) {
            Some(w) => word = w,
            None => {
                mul_1(&mut limbs, word);
                word = odd;
            }
        }
    }
    mul_1(&mut limbs, word);
    shl(&mut limbs, twos);
    limbs
}

/// `limbs *= w`, in place; the carry becomes a new top limb.
#[inline]
fn mul_1(limbs: &mut Vec<u64>, w: u64) {
    let mut carry = 0u64;
    for limb in limbs.iter_mut() {
        let p = u128::from(*limb) * u128::from(w) + u128::from(carry);
        *limb = p as u64;
        carry = (p >> 64) as u64;
    }
    if carry != 0 {
        limbs.push(carry);
    }
}

/// `limbs <<= bits`, in place, with no trailing zero limb.
fn shl(limbs: &mut Vec<u64>, bits: u64) {
    let (words, bits) = ((bits / 64) as usize, (bits % 64) as u32);
    if bits != 0 {
        let mut carry = 0u64;
        for limb in limbs.iter_mut() {
            let next = *limb >> (64 - bits);
            *limb = (*limb << bits) | carry;
            carry = next;
        }
        if carry != 0 {
            limbs.push(carry);
        }
    }
    if words != 0 {
        limbs.splice(0..0, std::iter::repeat_n(0, words));
    }
}
// ANCHOR_END: word-product

// ANCHOR: factorial
/// `n!` exactly, in the cheapest shape that holds it.
#[inline]
pub fn factorial(n: u64) -> Result<Factorial, Error> {
    if let Some(v) = factorial_u64(n) {
        Ok(Factorial::U64(v))
    } else if let Some(v) = factorial_u128(n) {
        Ok(Factorial::U128(v))
    } else {
        factorial_limbs(n).map(Factorial::Limbs)
    }
}
// ANCHOR_END: factorial

// ANCHOR: digits
/// The decimal digits of `n!`: exactly Python's `str(math.factorial(n))`,
/// with no digit limit and no Python int on the way.
///
/// malachite converts by divide and conquer (sub-quadratic): 10^5! has
/// 456,574 digits. The same bound and memory check as [`factorial`] apply;
/// callers that can release a lock should do so when `n >= EXPENSIVE_N`.
pub fn factorial_digits(n: u64) -> Result<String, Error> {
    Ok(match factorial(n)? {
        Factorial::U64(v) => v.to_string(),
        Factorial::U128(v) => v.to_string(),
        Factorial::Limbs(limbs) => Natural::from_owned_limbs_asc(limbs).to_string(),
    })
}
// ANCHOR_END: digits

// ANCHOR: batch
/// From this many values on, a batch of even the smallest factorials costs
/// more than releasing and re-taking a lock (tens of microseconds of table
/// lookups): see [`batch_is_expensive`].
pub const EXPENSIVE_BATCH_LEN: usize = 10_000;

/// Whether computing [`factorials`] of `ns` is worth releasing a lock (the
/// GIL) for: a long batch, or one big `n`.
pub fn batch_is_expensive(ns: &[u64]) -> bool {
    ns.len() >= EXPENSIVE_BATCH_LEN || ns.iter().any(|&n| n >= EXPENSIVE_N)
}

/// Why a batch stopped: the position of the first `n` the kernel refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchError {
    /// The index of that `n` in the batch.
    pub index: usize,
    /// Why it was refused.
    pub error: Error,
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ns[{}]: {}", self.index, self.error)
    }
}

impl std::error::Error for BatchError {}

/// `n!` for every `n` of `ns`, in order: the whole batch in one call, so
/// that a binding crosses the boundary once, not once per value. Stops at
/// the first `n` refused (nothing of the batch is returned then).
pub fn factorials(ns: &[u64]) -> Result<Vec<Factorial>, BatchError> {
    // Sized once: `collect()` on a `Result` iterator cannot know the length
    // and would grow the vector by doubling (copies, and fresh pages each time).
    let mut out = Vec::with_capacity(ns.len());
    for (index, &n) in ns.iter().enumerate() {
        out.push(factorial(n).map_err(|error| BatchError { index, error })?);
    }
    Ok(out)
}
// ANCHOR_END: batch

/// The message of a caught panic, for a binding to put in its exception:
/// `panic!("literal")` carries a `&str`, `panic!("{x}")` a `String`; any
/// other payload has no message we can show.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic payload that is not a string)")
}

/// Test-only paths: every binding exposes these so that its tests can prove
/// what happens when the kernel misbehaves.
pub mod testing {
    use super::{Error, Factorial};

    // ANCHOR: deliberate-panic
    /// Panics, as a bug in the kernel would. Bindings call it through the
    /// same boundary as [`crate::factorial`] to prove that a panic comes out
    /// as an exception or an error code, never as an abort or an unwind
    /// through C frames.
    pub fn deliberate_panic() -> Result<Factorial, Error> {
        panic!("factlab-core: deliberate panic (test-only path)")
    }
    // ANCHOR_END: deliberate-panic
}

#[cfg(test)]
mod tests {
    use super::*;
    use malachite_base::num::logic::traits::SignificantBits;
    use proptest::prelude::*;

    /// The slowest correct factorial there is: one multiplication at a time.
    fn naive(n: u64) -> Natural {
        (1..=n).fold(Natural::from(1u32), |acc, k| acc * Natural::from(k))
    }

    fn to_natural(f: &Factorial) -> Natural {
        match f {
            Factorial::U64(v) => Natural::from(*v),
            Factorial::U128(v) => Natural::from(*v),
            Factorial::Limbs(l) => Natural::from_limbs_asc(l),
        }
    }

    #[test]
    fn known_values() {
        assert_eq!(factorial(0), Ok(Factorial::U64(1)));
        assert_eq!(factorial(1), Ok(Factorial::U64(1)));
        assert_eq!(factorial(20), Ok(Factorial::U64(2_432_902_008_176_640_000)));
        assert_eq!(
            factorial(21),
            Ok(Factorial::U128(51_090_942_171_709_440_000))
        );
        assert_eq!(
            factorial(25),
            Ok(Factorial::U128(15_511_210_043_330_985_984_000_000))
        );
        assert_eq!(
            factorial(34),
            Ok(Factorial::U128(
                295_232_799_039_604_140_847_618_609_643_520_000_000
            ))
        );
        assert_eq!(
            to_natural(&factorial(35).unwrap()).to_string(),
            "10333147966386144929666651337523200000000"
        );
    }

    #[test]
    fn shape_boundaries() {
        assert!(matches!(factorial(MAX_U64_N), Ok(Factorial::U64(_))));
        assert!(matches!(factorial(MAX_U64_N + 1), Ok(Factorial::U128(_))));
        assert!(matches!(factorial(MAX_U128_N), Ok(Factorial::U128(_))));
        assert!(matches!(factorial(MAX_U128_N + 1), Ok(Factorial::Limbs(_))));
        assert_eq!(factorial_u64(21), None);
        assert_eq!(factorial_u128(35), None);
        assert_eq!(factorial_u128(u64::MAX), None);
    }

    #[test]
    fn bound_is_refused_at_once() {
        let err = factorial(MAX_N + 1).unwrap_err();
        assert_eq!(err, Error::TooLarge { n: MAX_N + 1 });
        assert!(err.to_string().contains("100000000"));
        assert_eq!(factorial(u64::MAX), Err(Error::TooLarge { n: u64::MAX }));
    }

    #[test]
    fn bytes_and_bits() {
        let f = factorial(25).unwrap();
        assert_eq!(f.bit_len(), 84);
        let bytes = f.le_bytes();
        assert_eq!(
            u128::from_le_bytes(bytes.as_ref().try_into().unwrap()),
            15_511_210_043_330_985_984_000_000
        );
        let big = factorial(1000).unwrap();
        assert_eq!(big.bit_len(), (&naive(1000)).significant_bits());
        let Factorial::Limbs(limbs) = &big else {
            panic!("1000! must be limbs")
        };
        assert_ne!(*limbs.last().unwrap(), 0, "no leading zero limb");
        assert_eq!(big.le_bytes().len(), limbs.len() * 8);
    }

    #[test]
    fn big_spot_check() {
        // 10^4! has 35660 decimal digits; its digit sum is a classic check.
        let f = to_natural(&factorial(10_000).unwrap()).to_string();
        assert_eq!(f.len(), 35_660);
        let digit_sum: u64 = f.bytes().map(|b| u64::from(b - b'0')).sum();
        assert_eq!(digit_sum, 149_346);
    }

    #[test]
    fn panic_messages_of_every_payload_kind() {
        use std::panic::{catch_unwind, panic_any};
        let literal = catch_unwind(|| panic!("literal")).unwrap_err();
        assert_eq!(panic_message(&*literal), "literal");
        let n = 7;
        let formatted = catch_unwind(|| panic!("formatted {n}")).unwrap_err();
        assert_eq!(panic_message(&*formatted), "formatted 7");
        let other = catch_unwind(|| panic_any(42_u8)).unwrap_err();
        assert!(panic_message(&*other).contains("not a string"));
        let core = catch_unwind(testing::deliberate_panic).unwrap_err();
        assert!(panic_message(&*core).contains("deliberate panic"));
    }

    #[test]
    #[should_panic(expected = "deliberate panic")]
    fn deliberate_panic_panics() {
        let _ = testing::deliberate_panic();
    }

    #[test]
    fn digits_are_the_decimal_string() {
        for n in [0, 1, 20, 21, 34, 35, 100, 800, 801, 3000] {
            assert_eq!(
                factorial_digits(n).unwrap(),
                naive(n).to_string(),
                "n = {n}"
            );
        }
        assert_eq!(factorial_digits(25).unwrap(), "15511210043330985984000000");
        assert_eq!(factorial_digits(10_000).unwrap().len(), 35_660);
        assert_eq!(
            factorial_digits(MAX_N + 1),
            Err(Error::TooLarge { n: MAX_N + 1 })
        );
    }

    #[test]
    fn batches_in_order_and_first_refusal() {
        let ns = [5, 0, 25, 40, 20];
        let got = factorials(&ns).unwrap();
        let one_by_one: Vec<_> = ns.iter().map(|&n| factorial(n).unwrap()).collect();
        assert_eq!(got, one_by_one);
        assert_eq!(factorials(&[]), Ok(vec![]));
        let err = factorials(&[3, MAX_N + 1, u64::MAX]).unwrap_err();
        assert_eq!(err.index, 1);
        assert_eq!(err.error, Error::TooLarge { n: MAX_N + 1 });
        assert!(err.to_string().starts_with("ns[1]: factorial() argument"));
        assert!(!batch_is_expensive(&[20; 100]));
        assert!(batch_is_expensive(&[0; EXPENSIVE_BATCH_LEN]));
        assert!(batch_is_expensive(&[3, EXPENSIVE_N]));
    }

    proptest! {
        /// Every path agrees with one multiplication at a time.
        #[test]
        fn all_paths_agree_with_naive(n in 0u64..600) {
            prop_assert_eq!(to_natural(&factorial(n).unwrap()), naive(n));
        }

        /// The u64 and u128 paths agree where both hold.
        #[test]
        fn u64_and_u128_agree(n in 0u64..=MAX_U64_N) {
            prop_assert_eq!(u128::from(factorial_u64(n).unwrap()), factorial_u128(n).unwrap());
        }

        /// The limb path agrees with the table where both hold.
        #[test]
        fn limbs_agree_with_table(n in 0u64..=MAX_U128_N) {
            let limbs = factorial_limbs(n).unwrap();
            prop_assert_eq!(Natural::from_limbs_asc(&limbs), Natural::from(factorial_u128(n).unwrap()));
        }

        /// The word-by-word product agrees with malachite's prime swing on
        /// its whole range and a little past it.
        #[test]
        fn word_product_agrees_with_malachite(n in MAX_U128_N + 1..=WORD_PRODUCT_MAX_N + 200) {
            prop_assert_eq!(word_product(n), Natural::factorial(n).into_limbs_asc());
        }

        /// One shift equals multiplying by a power of two.
        #[test]
        fn shift_is_a_power_of_two(limbs in proptest::collection::vec(any::<u64>(), 1..8), bits in 0u64..300) {
            let mut shifted = limbs.clone();
            shl(&mut shifted, bits);
            let expected = Natural::from_limbs_asc(&limbs) << bits;
            prop_assert_eq!(Natural::from_limbs_asc(&shifted), expected);
            prop_assert!(shifted.last() != Some(&0) || limbs.iter().all(|&l| l == 0));
        }

        /// (n+1)! = (n+1) * n! across the shape changes and beyond.
        #[test]
        fn recurrence(n in 0u64..3000) {
            let a = to_natural(&factorial(n).unwrap());
            let b = to_natural(&factorial(n + 1).unwrap());
            prop_assert_eq!(b, a * Natural::from(n + 1));
        }
    }
}
