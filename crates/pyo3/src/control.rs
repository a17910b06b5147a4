//! Long calls that answer Ctrl-C and report progress.
//!
//! A long Rust call that released the GIL leaves Python blind: its Ctrl-C
//! handler runs only in the main thread, with the GIL, between two bytecode
//! instructions, so a SIGINT that arrives 0.1 s into `factorial(10**7)` only
//! raises when the call returns seconds later (PyO3's FAQ: "Ctrl-C doesn't do
//! anything while my Rust code is executing"). The kernel's `factorial_with`
//! calls a hook every 20 ms from the calling thread; here the hook re-attaches
//! to the interpreter for a moment, lets Python run its signal handlers, calls
//! the user's callback, and tells the kernel to stop when one of them raised.

use factlab_core::control::{factorial_with, Flow, Halt};
use factlab_core::{Error, MAX_N};
use pyo3::exceptions::{PySystemError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyInt;

use crate::{kernel_error, to_int, to_u64};

// ANCHOR: progress
/// n! through the kernel's `factorial_with`, without the GIL, calling
/// `tick(py, done, total)` with the GIL re-taken every 20 ms of work and once
/// at the end; the first error `tick` returns stops the kernel and is raised.
fn with_ticks<'py>(
    py: Python<'py>,
    n: u64,
    tick: impl Fn(Python<'_>, u64, u64) -> PyResult<()> + Sync,
) -> PyResult<Bound<'py, PyInt>> {
    // The exception leaves the hook through this local: the kernel's hook
    // answers a `Flow`, and a `PyErr` must not unwind through it.
    let mut raised: Option<PyErr> = None;
    // `detach` releases the GIL; no `py` and no `Bound` may cross into the
    // closure (they are not `Send`), hence the fresh token of `attach` below.
    let outcome = py.detach(|| {
        factorial_with(n, |progress| {
            // Re-attach: this thread still has its Python thread state (the
            // one `detach` saved), `attach` takes the GIL back with it, and
            // gives it up again when the closure ends.
            match Python::attach(|py| tick(py, progress.done, progress.total)) {
                Ok(()) => Flow::Continue,
                Err(err) => {
                    raised = Some(err);
                    Flow::Stop
                }
            }
        })
    });
    match outcome {
        Ok(value) => to_int(py, &value),
        Err(Halt::Refused(err)) => Err(kernel_error(err)),
        // The kernel only stops when the hook said so, after keeping the
        // error: the same exception object the callback raised comes out.
        Err(Halt::Stopped) => Err(raised.unwrap_or_else(|| {
            PySystemError::new_err("factorial_with stopped without an exception")
        })),
    }
}

// ANCHOR: interruptible
/// `factorial(n)`, for INTERRUPTIBLE_N <= n <= MAX_N (lib.rs): the hook only
/// lets Python run its signal handlers. A Ctrl-C's KeyboardInterrupt, or
/// whatever a handler raises, stops the call within one tick; a handler that
/// returns lets it go on.
pub(crate) fn interruptible(py: Python<'_>, n: u64) -> PyResult<Bound<'_, PyInt>> {
    // PyErr_CheckSignals: runs pending handlers in the main thread (elsewhere
    // it does nothing: Python runs handlers only there).
    with_ticks(py, n, |py, _, _| py.check_signals())
}
// ANCHOR_END: interruptible

/// Find n!, calling callback(done, total) every 20 ms of work and once at the end.
///
/// Raise what factorial(n) raises for a bad n, TypeError if callback is not
/// callable, and whatever callback raises (the computation stops).
#[pyfunction(signature = (n, callback, /))]
pub(crate) fn factorial_progress<'py>(
    n: &Bound<'py, PyAny>,
    callback: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyInt>> {
    let py = n.py();
    // `n` first, as `factorial` checks it, its bound included (the kernel
    // would refuse it too, but only after the callback check); then the
    // callback. The memory check is the kernel's, before any work.
    let n = to_u64(n)?;
    if n > MAX_N {
        return Err(kernel_error(Error::TooLarge { n }));
    }
    if !callback.is_callable() {
        let name = callback.get_type().name()?;
        return Err(PyTypeError::new_err(format!(
            "callback must be callable, not {name}"
        )));
    }
    // A `Bound` is tied to holding the GIL; its `Py` (the same reference,
    // not counted again) may cross into the detached closure: it is `Sync`.
    let callback = callback.as_unbound();
    with_ticks(py, n, |py, done, total| {
        py.check_signals()?;
        // The result is dropped here, while the GIL is still held.
        callback.call1(py, (done, total)).map(drop)
    })
}
// ANCHOR_END: progress
