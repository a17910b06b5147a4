//! # long_call: the PyO3 module of the `pyo3-ctrl-c` exercise
//!
//! `factorial(n)` for the big `n` of factlab's kernel (up to 10**8, tens of
//! seconds of work), without the GIL. The kernel's `factorial_with` works on
//! a thread of its own and calls a hook every 20 ms, in *this* thread: the
//! hook takes the GIL back for a moment, gives Python its turn, and stops
//! the kernel when Python raised. What Python's turn should be is the
//! exercise (its README).

use factlab_core::control::{factorial_with, Flow, Halt};
use pyo3::exceptions::{PyOverflowError, PySystemError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt};

/// factorial(n, /)
/// --
///
/// Find n! for 0 <= n <= 10**8, with the GIL released while the kernel works.
#[pyfunction(signature = (n, /))]
fn factorial(py: Python<'_>, n: u64) -> PyResult<Bound<'_, PyInt>> {
    // The exception leaves the hook through this local: the kernel's hook
    // answers a `Flow`, and a `PyErr` must not unwind through the kernel.
    let mut raised: Option<PyErr> = None;
    // `detach` releases the GIL; no `py` may cross into the closure.
    let outcome = py.detach(|| {
        factorial_with(n, |_progress| {
            // Every tick: attach (take the GIL back), Python's turn, detach.
            match Python::attach(|py| py.check_signals()) {
                Ok(()) => Flow::Continue,
                Err(err) => {
                    raised = Some(err);
                    Flow::Stop
                }
            }
        })
    });
    match outcome {
        // Little-endian bytes into a Python int, in linear time.
        Ok(value) => {
            let bytes = PyBytes::new(py, &value.le_bytes());
            let int = py
                .get_type::<PyInt>()
                .call_method1("from_bytes", (bytes, "little"))?;
            Ok(int.cast_into::<PyInt>()?)
        }
        // n above 10**8 (or no memory for it): refused before any work.
        Err(Halt::Refused(err)) => Err(PyOverflowError::new_err(err.to_string())),
        // The hook said stop: the exception it kept comes out, unchanged.
        Err(Halt::Stopped) => Err(raised
            .unwrap_or_else(|| PySystemError::new_err("the kernel stopped with no exception"))),
    }
}

/// The compiled module, `long_call`.
#[pymodule(gil_used = false)]
mod long_call {
    #[pymodule_export]
    use super::factorial;
}
