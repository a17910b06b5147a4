//! Calling back into Python from a long call: Ctrl-C and progress.
//!
//! The kernel's [`factorial_with`] works on a thread of its own and, every
//! tick, calls a hook in *this* thread, the one that called us. We gave the
//! GIL up for the call (`guarded`), so the hook must take it back before it
//! touches Python, and give it up again before it returns:
//!
//! ```text
//! PyEval_SaveThread                      Py_BEGIN_ALLOW_THREADS (in guarded)
//!   every tick: PyEval_RestoreThread     Py_BLOCK_THREADS
//!               PyErr_CheckSignals, callback(done, total)
//!               PyEval_SaveThread        Py_UNBLOCK_THREADS
//! PyEval_RestoreThread                   Py_END_ALLOW_THREADS (in guarded)
//! ```
//!
//! When either raises, the hook answers `Stop` and leaves the exception set:
//! it lives in this thread's `PyThreadState`, which detaching keeps as it
//! is. Once re-attached we return `NULL`, and Python raises that same object.
//!
//! Nothing here is static: the thread state and the callback live on this
//! call's stack, so each (sub-)interpreter, even one with its own GIL, has
//! its own.

use std::ffi::c_ulonglong;
use std::ptr;

use factlab_core::control::{factorial_with, Flow, Halt, Progress};
use factlab_core::{Error, MAX_N};
use pyo3_ffi::*;

use crate::{guarded, index_to_u64, raise, to_py_int};

// ANCHOR: interruptible
/// `factorial(n)` for `INTERRUPTIBLE_N <= n <= MAX_N`: the kernel works with
/// the GIL released, and every tick Python runs its signal handlers (no
/// callback).
pub(crate) unsafe fn interruptible(n: u64) -> *mut PyObject {
    with_hook(n, ptr::null_mut())
}
// ANCHOR_END: interruptible

// ANCHOR: progress
/// `factorial_progress(n, callback)`. `METH_FASTCALL`: `args` is a C array
/// of `nargs` borrowed references, owned by the caller for the whole call.
pub(crate) unsafe extern "C" fn factorial_progress(
    _module: *mut PyObject,
    args: *mut *mut PyObject,
    nargs: Py_ssize_t,
) -> *mut PyObject {
    if nargs != 2 {
        PyErr_Format(
            PyExc_TypeError,
            c"factorial_progress expected 2 arguments, got %zd".as_ptr(),
            nargs,
        );
        return ptr::null_mut();
    }
    // Borrowed, never DECREFed. No INCREF for the callback either: the
    // caller's reference keeps it alive until we return, and we keep no
    // pointer to it past that (C holding a callback the caller freed is the
    // classic crash).
    let (arg, callback) = (*args, *args.add(1));
    let Some(n) = index_to_u64(arg) else {
        return ptr::null_mut(); // index_to_u64 has set the exception
    };
    // `n` first, as `factorial` checks it, its bound included (the kernel
    // would refuse it too, but only after the callback check); then the
    // callback. The memory check is the kernel's, before any work.
    if n > MAX_N {
        return raise(&Error::TooLarge { n });
    }
    if PyCallable_Check(callback) == 0 {
        return raise_not_callable(callback);
    }
    with_hook(n, callback)
}

/// Runs the kernel with the GIL released, `hook` at every tick. `callback`
/// is borrowed, or NULL (only signals are checked).
unsafe fn with_hook(n: u64, callback: *mut PyObject) -> *mut PyObject {
    // This thread's state: the pointer guarded's PyEval_SaveThread returns,
    // which the hook hands back to PyEval_RestoreThread to re-attach.
    let tstate = PyThreadState_Get();
    match guarded(true, || factorial_with(n, |p| hook(tstate, callback, p))) {
        Some(Ok(value)) => to_py_int(&value),
        // Before any work; the hook was never called.
        Some(Err(Halt::Refused(error))) => raise(&error),
        // The hook answered Stop: the exception that made it stop
        // (KeyboardInterrupt, the callback's own) is still set, and guarded
        // has re-attached us: NULL raises it.
        Some(Err(Halt::Stopped)) => ptr::null_mut(),
        None => ptr::null_mut(), // a panic: RuntimeError is set
    }
}

/// The kernel's hook: runs in the calling thread, which holds no GIL.
/// Must not panic: it would unwind with this thread attached, and guarded
/// would re-attach it a second time.
unsafe fn hook(tstate: *mut PyThreadState, callback: *mut PyObject, p: Progress) -> Flow {
    // Py_BLOCK_THREADS: wait for the GIL and re-attach. From here to
    // PyEval_SaveThread, Python runs: other threads, handlers, the callback.
    PyEval_RestoreThread(tstate);
    let flow = if python_turn(callback, p) {
        Flow::Continue
    } else {
        Flow::Stop // the exception stays set in `tstate`
    };
    // Py_UNBLOCK_THREADS: detach again (it returns `tstate`).
    PyEval_SaveThread();
    flow
}

/// Python's turn at a tick, with the GIL held: its signal handlers, then
/// the callback. `false`: one of them raised, and the exception is set.
unsafe fn python_turn(callback: *mut PyObject, p: Progress) -> bool {
    // Runs the Python handlers of the signals that arrived since the last
    // check. Only the main thread of the main interpreter runs them: in any
    // other thread this returns 0 at once, and only a callback can stop us.
    // The default SIGINT handler raises KeyboardInterrupt: -1, set.
    if PyErr_CheckSignals() < 0 {
        return false;
    }
    if callback.is_null() {
        return true;
    }
    // "KK": two unsigned long long become two new ints in a new args tuple;
    // the call owns them and releases them. Returns a NEW reference to what
    // the callback returned, or NULL with the callback's exception set.
    let result = PyObject_CallFunction(
        callback,
        c"KK".as_ptr(),
        p.done as c_ulonglong,
        p.total as c_ulonglong,
    );
    if result.is_null() {
        return false;
    }
    // DECREF: the callback's return value, a new reference we ignore.
    Py_DECREF(result);
    true
}

/// `TypeError("callback must be callable, not <type name>")`; returns NULL.
unsafe fn raise_not_callable(callback: *mut PyObject) -> *mut PyObject {
    // type(callback).__name__: a NEW reference (or NULL, set, if a
    // metaclass's __name__ raised). Py_TYPE is borrowed.
    let name = PyObject_GetAttrString(Py_TYPE(callback).cast(), c"__name__".as_ptr());
    if name.is_null() {
        return ptr::null_mut();
    }
    // %S: str(name), formatted into the message; `name` stays ours.
    PyErr_Format(
        PyExc_TypeError,
        c"callback must be callable, not %S".as_ptr(),
        name,
    );
    // DECREF: the name GetAttrString gave us.
    Py_DECREF(name);
    ptr::null_mut()
}
// ANCHOR_END: progress
