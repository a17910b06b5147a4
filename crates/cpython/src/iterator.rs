//! `Factorials`: a Python object that owns native state, with `py_class!`.
//!
//! - **Who owns, who frees.** `py_class!` lays the `data` fields out inside
//!   the Python object itself, after its header; the `tp_dealloc` the macro
//!   writes drops them (`Drop` of the `Mutex`, then of the kernel's
//!   iterator, whose big number goes back to the allocator) and frees the
//!   object. CPython calls it once, when the last reference goes: a `next()`
//!   running in another thread holds one, so `del it` cannot free the state
//!   under it.
//! - **Threads.** Fields are shared (`&self` only, `Send` required), so the
//!   mutable state sits in a `Mutex`: eight threads stepping one iterator get
//!   each value once. The GIL alone would not do: an expensive step runs
//!   without it.
//! - **The GIL and the lock.** A thread never waits for the lock while it
//!   holds the GIL: it tries the lock, and if it is taken, it releases the
//!   GIL first and waits then (see `with_lock`).
//! - **Copies.** Nothing to write: the `__reduce_ex__` every object
//!   inherits refuses one whose C struct is bigger than it knows (TypeError
//!   "cannot pickle 'Factorials' object", for `copy`, `deepcopy` and
//!   `pickle` alike), so two objects never share one state.
//! - **Subinterpreters.** The macro makes a *static* type object, shared by
//!   every interpreter; the module refuses to be imported in a
//!   subinterpreter anyway (`PyInit_factlab_cpython`), so the class never
//!   meets one.

// `py_class!`'s own code trips two lints, and a lint attribute on a macro
// call is ignored: its `strip_raw!` (as `py_fn!` in lib.rs), and trait impls
// inside a function (rustc's newer `non_local_definitions`; the crate is
// older).
#![allow(clippy::manual_strip, non_local_definitions)]

use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use cpython::{exc, py_class, PyClone, PyDict, PyErr, PyObject, PyResult, PyTuple, Python};
use factlab_core::iterator::Factorials as State;
use factlab_core::{Error, Factorial};

use crate::{guarded, index_to_u64, kernel_error, to_py_int};

// ANCHOR: iterator
py_class!(pub class Factorials |py| {
    // Inside the Python object; dropped by the macro's tp_dealloc.
    data state: Mutex<State>;

    // `*args, **kwargs` and our own parsing: the macro's `start: T = default`
    // needs a `'static` default, and `Option<&PyObject> = None` would take
    // `Factorials(None)` for `Factorials()`. It also makes `start`
    // positional-only, as `math.factorial`'s `n`.
    def __new__(_cls, *args, **kwargs) -> PyResult<Factorials> {
        let start = start_argument(py, args, kwargs)?;
        let state = State::new(start).map_err(|error| kernel_error(py, error))?;
        Factorials::create_instance(py, Mutex::new(state))
    }

    def __iter__(&self) -> PyResult<Factorials> {
        Ok(self.clone_ref(py))
    }

    // `Ok(None)` is the macro's StopIteration.
    def __next__(&self) -> PyResult<Option<PyObject>> {
        match step(py, self.state(py))? {
            None => Ok(None),
            Some(Ok(value)) => to_py_int(py, &value).map(Some),
            Some(Err(error)) => Err(kernel_error(py, error)),
        }
    }

    // No setter: `it.n = 3` is AttributeError.
    @property def n(&self) -> PyResult<u64> {
        Ok(with_lock(py, self.state(py), |state| state.n()))
    }

    def __repr__(&self) -> PyResult<String> {
        let n = with_lock(py, self.state(py), |state| state.n());
        Ok(format!("Factorials({n})"))
    }
});

/// `Factorials(start=0, /)`: `start` read as `factorial` reads `n`.
fn start_argument(py: Python, args: &PyTuple, kwargs: Option<&PyDict>) -> PyResult<u64> {
    if kwargs.is_some_and(|kwargs| kwargs.len(py) > 0) {
        return Err(PyErr::new::<exc::TypeError, _>(
            py,
            "Factorials() takes no keyword arguments",
        ));
    }
    match args.as_slice(py) {
        [] => Ok(0),
        [start] => index_to_u64(py, start), // borrowed from the tuple: no drop
        more => Err(PyErr::new::<exc::TypeError, _>(
            py,
            format!("Factorials expected at most 1 argument, got {}", more.len()),
        )),
    }
}

/// One step of the shared state: with the GIL held when it is cheap, without
/// it when it is expensive (the kernel says which), a panic caught.
fn step(py: Python, state: &Mutex<State>) -> PyResult<Option<Result<Factorial, Error>>> {
    if let Some(mut guard) = try_lock(state) {
        if !guard.next_is_expensive() {
            let state: &mut State = &mut guard;
            return guarded(py, false, move || state.step());
        }
        // Expensive: the guard drops here, the lock given back first.
    }
    // Release the GIL *first*, then wait for the lock. The other order
    // deadlocks: thread A holds the lock and (its step done) waits for the
    // GIL; thread B holds the GIL and waits for the lock. The guard is a
    // temporary of the closure's one statement: dropped before
    // `allow_threads` takes the GIL back.
    guarded(py, true, || lock(state).step())
}

/// `read(state)` under the lock, waiting for it (if another thread steps)
/// without the GIL.
fn with_lock<T: Send>(
    py: Python,
    state: &Mutex<State>,
    read: impl FnOnce(&State) -> T + Send,
) -> T {
    match try_lock(state) {
        Some(guard) => read(&guard),
        None => py.allow_threads(|| read(&lock(state))),
    }
}

/// The lock if it is free now; never waits (the caller may hold the GIL).
fn try_lock(state: &Mutex<State>) -> Option<MutexGuard<'_, State>> {
    match state.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// The lock, waiting for it: call without the GIL.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A step that panicked (caught: RuntimeError) poisons the lock. The state
    // it left is whole: `step` takes its last value out before multiplying,
    // so the next step computes n! afresh.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}
// ANCHOR_END: iterator
