//! Control across the boundary: a long call that answers Ctrl-C, and
//! `factorial_progress`, which calls Python back while the kernel works.
//!
//! The kernel (`factlab_core::control::factorial_with`) calls a hook every
//! tick, in the thread that called it: here, the thread that called us, with
//! the GIL released by `allow_threads`. The hook takes the GIL back with
//! `Python::acquire_gil()`: `PyGILState_Ensure` finds the thread state that
//! `allow_threads` saved and restores it, so the hook runs as this thread's
//! Python code (its signal handlers, re-entrant calls, any backend's
//! `factorial`); the guard's drop releases the GIL again.
//!
//! rust-cpython has no `check_signals` of its own (PyO3 added one later), so
//! the hook calls the C-API's `PyErr_CheckSignals` through `python3-sys`.
//! An exception cannot cross the kernel (a hook answers only `Flow`): it is
//! fetched (`PyErr::fetch`), kept in a local `Option`, the hook answers
//! `Stop`, and once the kernel has returned `Halt::Stopped` and the GIL is
//! ours again, that same exception object is handed to `py_fn!`, which
//! raises it (`PyErr_Restore`).

use std::ffi::CStr;

use cpython::{exc, ObjectProtocol, PyDrop, PyErr, PyObject, PyResult, Python, PythonObject};
use factlab_core::control::{factorial_with, Flow, Halt, Progress};
use python3_sys as ffi;

use crate::{guarded, index_to_u64, kernel_error, to_py_int};

pub(crate) const FACTORIAL_PROGRESS_DOC: &CStr =
    c"factorial_progress(n, callback, /)\n--\n\nfactorial(n), calling callback(done, total) every ~20 ms of work and once at the end.";

// ANCHOR: interruptible
/// `factorial(n)` for `n >= INTERRUPTIBLE_N`: the same kernel, through
/// `factorial_with`, whose hook only lets Python run its signal handlers.
pub(crate) fn interruptible(py: Python, n: u64) -> PyResult<PyObject> {
    run(py, n, None)
}
// ANCHOR_END: interruptible

// ANCHOR: progress
/// `factorial_progress(n, callback)`: `factorial(n)`, calling
/// `callback(done, total)` at every tick and once at the end.
pub(crate) fn factorial_progress(
    py: Python,
    n: &PyObject,
    callback: &PyObject,
) -> PyResult<PyObject> {
    // `n` first, as `factorial` checks it (the kernel's refusals included),
    // then the callback, all before any work.
    let n = index_to_u64(py, n)?;
    factlab_core::admit(n).map_err(|error| kernel_error(py, error))?;
    if !callback.is_callable(py) {
        let name = callback
            .get_type(py)
            .as_object()
            .getattr(py, "__name__")?
            .str(py)?;
        let message = format!(
            "callback must be callable, not {}",
            name.to_string_lossy(py)
        );
        return Err(PyErr::new::<exc::TypeError, _>(py, message));
    }
    run(py, n, Some(callback))
}

/// Runs `factorial_with` without the GIL, `tick` as its hook; the
/// exception a tick raised comes out unchanged.
fn run(py: Python, n: u64, callback: Option<&PyObject>) -> PyResult<PyObject> {
    // Where a tick leaves its exception. `PyErr` holds `PyObject`s, which
    // rust-cpython declares `Send`: the closure may carry it across
    // `allow_threads`, and it is only touched with the GIL held.
    let mut raised: Option<PyErr> = None;
    let outcome = guarded(py, true, || {
        factorial_with(n, |progress| tick(progress, callback, &mut raised))
    })?;
    match outcome {
        Ok(value) => to_py_int(py, &value),
        Err(Halt::Refused(error)) => Err(kernel_error(py, error)),
        // A tick answered Stop, so `raised` holds what it caught.
        Err(Halt::Stopped) => Err(raised.unwrap_or_else(|| {
            PyErr::new::<exc::SystemError, _>(py, "factlab: stopped with no exception")
        })),
    }
}

/// The hook, in the calling thread, the GIL released: signals, then the
/// callback; `Stop` as soon as either raises.
fn tick(progress: Progress, callback: Option<&PyObject>, raised: &mut Option<PyErr>) -> Flow {
    let gil = Python::acquire_gil();
    let py = gil.python();
    let outcome = check_signals(py).and_then(|()| match callback {
        // Two Python ints; the result is dropped with the GIL we hold.
        Some(callback) => callback
            .call(py, (progress.done, progress.total), None)
            .map(|result| result.release_ref(py)),
        None => Ok(()),
    });
    match outcome {
        Ok(()) => Flow::Continue,
        Err(err) => {
            *raised = Some(err);
            Flow::Stop
        }
    }
}

/// Python's signal handlers, run now: a pending Ctrl-C raises
/// KeyboardInterrupt (`Err`); a handler that does not raise gives `Ok`.
/// Outside the main thread CPython runs none and answers 0.
fn check_signals(py: Python) -> PyResult<()> {
    // SAFETY: `py` proves we hold the GIL. -1 means a handler raised and the
    // exception is set: `fetch` takes it (the same object) out.
    if unsafe { ffi::PyErr_CheckSignals() } == -1 {
        return Err(PyErr::fetch(py));
    }
    Ok(())
}
// ANCHOR_END: progress
