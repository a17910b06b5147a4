//! # The PyO3 backend
//!
//! `factorial(n)` with exactly the behaviour of `math.factorial`, written with
//! PyO3: the attribute macros generate the C-API glue (the `PyMethodDef`
//! table, argument parsing, reference counting, turning `Err` into a raised
//! exception) that `crates/capi` writes by hand.
//!
//! Built by maturin (`pip install crates/pyo3`) into the module `factlab_pyo3`.

use factlab_core::Error;
use factlab_core::{factorial_limbs, factorial_u128, factorial_u64, limbs_le_bytes, EXPENSIVE_N};
use pyo3::exceptions::{PyMemoryError, PyOverflowError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyInt;

const NEGATIVE: &str = "factorial() not defined for negative values";

// ANCHOR: to-i64
/// Converts `n` the way `math.factorial` does: through `__index__` (so bool,
/// int subclasses and objects with `__index__` pass, float and str raise
/// TypeError), then into a C `long long`.
///
/// `__index__` is called exactly once, as `math.factorial` does: we call
/// `PyNumber_Index` (`operator.index`) ourselves and then only look at the
/// int it gave. (`n.extract::<i64>()` would call `__index__` itself, and a
/// second time whenever we asked `n` for its sign after an overflow: an
/// `__index__` that answers differently, or raises, the second time would
/// then decide the outcome.)
fn to_i64(n: &Bound<'_, PyAny>) -> PyResult<i64> {
    let py = n.py();
    // SAFETY: `n` is a live object and `py` proves the GIL is held.
    // PyNumber_Index returns a new reference to an exact int (`n` itself
    // when it is one: no copy), or NULL with the exception set, which
    // `from_owned_ptr_or_err` turns into the `PyErr`.
    let index = unsafe { Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyNumber_Index(n.as_ptr()))? };
    match index.extract::<i64>() {
        Ok(v) => Ok(v),
        // Too big for a C long either way: its sign decides the exception,
        // ValueError below zero, OverflowError above (PyO3's own error).
        // `index` is an int: comparing it calls no `__index__`.
        Err(err) if err.is_instance_of::<PyOverflowError>(py) => {
            if index.lt(0)? {
                Err(PyValueError::new_err(NEGATIVE))
            } else {
                Err(PyOverflowError::new_err(format!(
                    "factorial() argument should not exceed {}",
                    i64::MAX
                )))
            }
        }
        Err(err) => Err(err),
    }
}
// ANCHOR_END: to-i64

// ANCHOR: factorial
/// Find n!, exactly as math.factorial does.
///
/// Raise TypeError if n is not integral, ValueError if n is negative, and
/// OverflowError past a C long or past factlab's bound (10**8).
// `n, /`: positional-only, like math.factorial. PyO3 then skips keyword
// matching on every call.
#[pyfunction(signature = (n, /))]
fn factorial<'py>(n: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyInt>> {
    let py = n.py();
    let n = u64::try_from(to_i64(n)?).map_err(|_| PyValueError::new_err(NEGATIVE))?;

    // Small results: a table lookup, and PyO3 converts u64/u128 to an int.
    if let Some(v) = factorial_u64(n) {
        return Ok(v.into_pyobject(py)?);
    }
    if let Some(v) = factorial_u128(n) {
        return Ok(v.into_pyobject(py)?);
    }

    // Big results. For large n the work takes milliseconds to seconds: let
    // other Python threads run meanwhile. `detach` releases the GIL for the
    // closure; the closure cannot touch Python objects (the compiler checks
    // it: no `py`, no `Bound` may cross into it). For small n, releasing and
    // re-taking the GIL would cost more than the work, so we keep it.
    let limbs = if n >= EXPENSIVE_N {
        py.detach(|| factorial_limbs(n))
    } else {
        factorial_limbs(n)
    }
    // The kernel refuses at once n past its bound (OverflowError) and an n!
    // that would not fit in memory (MemoryError: it checks before allocating,
    // since a failed allocation in Rust aborts).
    .map_err(|err| match err {
        Error::NoMemory { .. } => PyMemoryError::new_err(err.to_string()),
        Error::TooLarge { .. } => PyOverflowError::new_err(err.to_string()),
    })?;

    int_from_le_bytes(py, &limbs_le_bytes(&limbs))
}
// ANCHOR_END: factorial

// ANCHOR: int-from-bytes
/// Builds a Python int from little-endian bytes, in linear time (going
/// through a decimal string would be quadratic).
///
/// PyO3 has no safe constructor for an int of any size (its `num-bigint`
/// feature would bring a second big-integer engine), so this is the one place
/// we call the C API ourselves, through `pyo3::ffi`, as PyO3 does for u128.
fn int_from_le_bytes<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyInt>> {
    // The stable ABI (`--features abi3`, one binary for CPython 3.10+) has
    // neither call below: there we do what Python code does,
    // `int.from_bytes(data, "little")`: one bytes object and one method call
    // more (the matrix chapter of the book measures what that costs).
    #[cfg(Py_LIMITED_API)]
    {
        use pyo3::types::PyBytes;
        let int = py
            .get_type::<PyInt>()
            .call_method1("from_bytes", (PyBytes::new(py, bytes), "little"))?;
        Ok(int.cast_into()?)
    }
    // SAFETY: `bytes` is valid for `bytes.len()` bytes during the call, and
    // holding `py` means we hold the GIL. The call returns a new reference,
    // or NULL with an exception set, which `from_owned_ptr_or_err` turns
    // into an owned `Bound` or the `PyErr`.
    #[cfg(not(Py_LIMITED_API))]
    unsafe {
        #[cfg(not(Py_3_13))]
        let ptr = pyo3::ffi::_PyLong_FromByteArray(bytes.as_ptr(), bytes.len(), 1, 0);
        #[cfg(Py_3_13)]
        let ptr = pyo3::ffi::PyLong_FromUnsignedNativeBytes(
            bytes.as_ptr().cast(),
            bytes.len(),
            pyo3::ffi::Py_ASNATIVEBYTES_LITTLE_ENDIAN | pyo3::ffi::Py_ASNATIVEBYTES_UNSIGNED_BUFFER,
        );
        Ok(Bound::from_owned_ptr_or_err(py, ptr)?.cast_into_unchecked())
    }
}
// ANCHOR_END: int-from-bytes

// ANCHOR: crossing
/// The bare crossing: n! if n <= 20, else 0, with only PyO3's own conversion
/// of n to a u64. The benchmark compares it with factorial to show what
/// exactness and validation cost.
#[pyfunction(signature = (n, /))]
fn crossing(n: u64) -> u64 {
    factorial_u64(n).unwrap_or(0)
}
// ANCHOR_END: crossing

// ANCHOR: raise-panic
/// Test-only: panics inside the kernel. PyO3 catches the panic at the
/// boundary and raises `pyo3_runtime.PanicException` (a BaseException), so
/// the panic never unwinds into the interpreter's C frames.
#[pyfunction]
fn raise_panic() -> PyResult<()> {
    factlab_core::testing::deliberate_panic()
        .map(drop)
        .map_err(|err| PyOverflowError::new_err(err.to_string()))
}
// ANCHOR_END: raise-panic

// ANCHOR: module
/// The compiled module, `factlab_pyo3`: the name `import` looks for (`PyInit_factlab_pyo3`).
#[pymodule(gil_used = false)]
mod factlab_pyo3 {
    #[pymodule_export]
    use super::{crossing, factorial, raise_panic};
}
// ANCHOR_END: module
