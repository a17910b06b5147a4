//! # pyo3_backend: the PyO3 module of the `comb` exercise
//!
//! A cut-down copy of factlab's `crates/pyo3`: `factorial(n)` with exactly the
//! behaviour of `math.factorial`, and `comb(n, k)` with that of `math.comb`
//! for `n` up to `i64::MAX`: the reference solution of the `comb` exercise.

use factlab_core::{factorial_limbs, limbs_le_bytes, EXPENSIVE_N};
use malachite_base::num::arithmetic::traits::BinomialCoefficient;
use malachite_nz::natural::Natural;
use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt};

/// What `operator.index(obj)` gave, sorted the way the argument checks of
/// `math` need it.
enum Index {
    /// A negative int, however large.
    Negative,
    /// An int above `i64::MAX` (C's `LONG_MAX` on 64-bit Linux and macOS).
    TooLarge,
    /// `0 <= value <= i64::MAX`.
    Value(u64),
}

/// Converts `obj` through `__index__`, as `math` does: int, bool, int
/// subclasses and objects with `__index__` pass; anything else (float, str,
/// None, ...) raises TypeError.
fn index(obj: &Bound<'_, PyAny>) -> PyResult<Index> {
    match obj.extract::<i64>() {
        Ok(v) => Ok(u64::try_from(v).map_or(Index::Negative, Index::Value)),
        // Too big for an i64 either way: only its sign matters. This is the
        // cold path, so asking Python for the sign is fine.
        Err(err) if err.is_instance_of::<PyOverflowError>(obj.py()) => {
            let int = obj.py().import("operator")?.call_method1("index", (obj,))?;
            Ok(if int.lt(0)? {
                Index::Negative
            } else {
                Index::TooLarge
            })
        }
        Err(err) => Err(err),
    }
}

/// The Python int whose little-endian 64-bit limbs are `limbs`. Built from
/// bytes in linear time; a decimal string would be quadratic.
fn int_from_limbs<'py>(py: Python<'py>, limbs: &[u64]) -> PyResult<Bound<'py, PyInt>> {
    let bytes = PyBytes::new(py, &limbs_le_bytes(limbs));
    let int = py
        .get_type::<PyInt>()
        .call_method1("from_bytes", (bytes, "little"))?;
    Ok(int.cast_into::<PyInt>()?)
}

/// factorial(n, /)
/// --
///
/// Find n!, exactly as math.factorial does.
#[pyfunction(signature = (n, /))]
fn factorial<'py>(n: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyInt>> {
    let py = n.py();
    let n = match index(n)? {
        Index::Value(n) => n,
        Index::Negative => {
            return Err(PyValueError::new_err(
                "factorial() not defined for negative values",
            ))
        }
        Index::TooLarge => {
            return Err(PyOverflowError::new_err(format!(
                "factorial() argument should not exceed {}",
                i64::MAX
            )))
        }
    };
    // A large n takes milliseconds or more: release the GIL meanwhile, so
    // that other Python threads run. The closure may not touch Python objects.
    let limbs = if n >= EXPENSIVE_N {
        py.detach(|| factorial_limbs(n))
    } else {
        factorial_limbs(n)
    }
    // n above factlab's bound (10**8): the kernel's message, as OverflowError.
    .map_err(|err| PyOverflowError::new_err(err.to_string()))?;
    int_from_limbs(py, &limbs)
}

/// comb(n, k, /)
/// --
///
/// Number of ways to choose k items from n items without repetition and
/// without order, exactly as math.comb does. Past i64::MAX, n and k raise
/// OverflowError (math.comb would still answer comb(2**64, 2)).
#[pyfunction(signature = (n, k, /))]
fn comb<'py>(n: &Bound<'py, PyAny>, k: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyInt>> {
    let py = n.py();
    // math.comb converts BOTH arguments before it checks either sign: so
    // comb(-1, 1.0) is a TypeError (k is no integer), not a ValueError.
    let (n, k) = (index(n)?, index(k)?);
    let n = match n {
        Index::Value(n) => n,
        Index::Negative => return Err(PyValueError::new_err("n must be a non-negative integer")),
        Index::TooLarge => {
            return Err(PyOverflowError::new_err("n must not exceed 2**63 - 1 here"))
        }
    };
    let k = match k {
        Index::Value(k) => k,
        Index::Negative => return Err(PyValueError::new_err("k must be a non-negative integer")),
        // k > n: there is no way to choose more items than there are.
        Index::TooLarge => return Ok(0_u8.into_pyobject(py)?),
    };
    if k > n {
        return Ok(0_u8.into_pyobject(py)?);
    }
    // The work grows with min(k, n - k): release the GIL when it is large.
    // The closure gets plain u64s and returns a Natural: no Python object
    // crosses into it, which is what `detach` requires.
    let binomial = || Natural::binomial_coefficient(Natural::from(n), Natural::from(k));
    let value = if k.min(n - k) >= EXPENSIVE_N {
        py.detach(binomial)
    } else {
        binomial()
    };
    int_from_limbs(py, &value.to_limbs_asc())
}

/// The compiled module, `pyo3_backend`.
#[pymodule(gil_used = false)]
mod pyo3_backend {
    #[pymodule_export]
    use super::{comb, factorial};
}
