//! State that lives between calls: an iterator over `start!, (start+1)!, ...`.
//!
//! [`Factorials`] owns the last factorial it made, so each step is one
//! multiplication by a small number (linear in the size of the value), never
//! a new factorial. A binding wraps it in a Python object that owns it: who
//! frees it, and when, and what two threads calling `next()` at once may do,
//! is the binding's lesson (the book's "Objects that own native memory").

use malachite_nz::natural::Natural;

use crate::{factorial, memory, Error, Factorial, MAX_N};

// ANCHOR: iterator
/// `start!`, `(start+1)!`, ... up to `MAX_N!`; then one [`Error::TooLarge`],
/// then nothing (the iterator is exhausted).
#[derive(Debug, Clone)]
pub struct Factorials {
    /// The n whose factorial the next step returns.
    n: u64,
    /// `(n-1)!` once a step was taken (`None` before the first one, and
    /// once exhausted).
    last: Option<Natural>,
    exhausted: bool,
}

impl Factorials {
    /// An iterator starting at `start!`; refuses `start > MAX_N` at once, as
    /// [`factorial`] would. Computes nothing yet: the first step does.
    pub fn new(start: u64) -> Result<Factorials, Error> {
        if start > MAX_N {
            return Err(Error::TooLarge { n: start });
        }
        Ok(Factorials {
            n: start,
            last: None,
            exhausted: false,
        })
    }

    /// The n whose factorial the next step returns.
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Whether the next step is expensive enough to release a lock (the GIL)
    /// around: the first one at a big n (a whole factorial), or a step whose
    /// multiplication runs over thousands of limbs.
    pub fn next_is_expensive(&self) -> bool {
        self.n >= crate::EXPENSIVE_N * if self.last.is_none() { 1 } else { 10 }
    }

    /// `n!`, then the iterator moves on to `n + 1`. `None` once exhausted.
    /// An error does not move it on, except past [`MAX_N`], where it ends it.
    pub fn step(&mut self) -> Option<Result<Factorial, Error>> {
        if self.exhausted {
            return None;
        }
        let n = self.n;
        if n > MAX_N {
            // The end of the kernel's range: one error, then nothing.
            self.exhausted = true;
            self.last = None; // its memory back at once
            return Some(Err(Error::TooLarge { n }));
        }
        if self.last.is_some() {
            // A step needs a few times the value's size, not a whole
            // factorial's peak: checked as such, so that the limits are read
            // (from /proc) only for values of megabytes, whose step costs
            // far more than the reading. Refused: n stays, and so does `last`.
            let needed = memory::result_bytes(n).saturating_mul(memory::STEP_PER_RESULT_BYTE);
            if let Err(e) = memory::check_bytes(n, needed) {
                return Some(Err(e));
            }
        }
        let value = match self.last.take() {
            // One multiplication by a small number: (n-1)! * n. `last` is
            // only ever set after a `Limbs` step (n - 1 >= 35), so n is past
            // the tables here.
            Some(previous) => previous * Natural::from(n),
            // The first step (or the first past the tables): a whole
            // factorial, which checks the bound and the memory itself.
            None => match factorial(n) {
                Ok(Factorial::Limbs(limbs)) => Natural::from_owned_limbs_asc(limbs),
                // Refused (no memory): n stays where it is, so the caller
                // may try the same step again.
                Err(e) => return Some(Err(e)),
                // A table lookup (n <= 34): nothing worth keeping.
                Ok(small) => {
                    self.n += 1;
                    return Some(Ok(small));
                }
            },
        };
        let out = Factorial::Limbs(value.to_limbs_asc());
        self.last = Some(value);
        self.n += 1;
        Some(Ok(out))
    }
}

impl Iterator for Factorials {
    type Item = Result<Factorial, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.step()
    }
}
// ANCHOR_END: iterator

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_the_factorials() {
        for start in [0, 5, 20, 33, 34, 35, 799, 20_000] {
            let it = Factorials::new(start).unwrap();
            let got: Vec<_> = it.take(40).map(Result::unwrap).collect();
            let want: Vec<_> = (start..start + 40).map(|n| factorial(n).unwrap()).collect();
            assert_eq!(got, want, "start = {start}");
        }
    }

    #[test]
    fn n_is_the_next_one() {
        let mut it = Factorials::new(7).unwrap();
        assert_eq!(it.n(), 7);
        it.step();
        assert_eq!(it.n(), 8);
    }

    #[test]
    fn the_bound_ends_it() {
        assert_eq!(
            Factorials::new(MAX_N + 1).unwrap_err(),
            Error::TooLarge { n: MAX_N + 1 }
        );
        let mut it = Factorials {
            n: MAX_N + 1,
            last: None,
            exhausted: false,
        };
        assert_eq!(it.step(), Some(Err(Error::TooLarge { n: MAX_N + 1 })));
        assert_eq!(it.step(), None);
        assert_eq!(it.n(), MAX_N + 1);
    }
}
