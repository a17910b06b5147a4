//! An object that owns native memory: `Factorials(start=0, /)`, the kernel's
//! iterator over `start!, (start+1)!, ...` inside a Python object.
//!
//! Ownership: the kernel's state (n and the last factorial, a malachite
//! `Natural`) lives inside the Python object, in the struct below. PyO3's
//! generated `tp_dealloc` drops the struct, and with it that memory, when the
//! object's last reference goes: exactly once, with no code of ours. A
//! `next()` running in another thread holds its own reference (the caller's
//! argument), so `del it` meanwhile frees nothing under it.

use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};

use factlab_core::iterator::Factorials as Kernel;
use factlab_core::{Error, Factorial};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyInt;

use crate::{kernel_error, to_int, to_u64};

// ANCHOR: iterator
/// `start!`, `(start+1)!`, ...: each value one multiplication from the last.
///
/// Raise what factorial(start) raises for a bad start; past 10**8, next()
/// raises factorial's OverflowError once, then StopIteration.
//
// `frozen`: PyO3 hands out only `&self`, and the state changes behind a
// Mutex. With `&mut self` PyO3 checks borrows at run time instead: a second
// thread calling `next()` while the first is inside it (the GIL released)
// would get `RuntimeError: Already borrowed` instead of waiting its turn.
// The Mutex also makes the class `Sync`, as PyO3 requires of a class that
// any thread may use (and a free-threaded Python runs them at once).
#[pyclass(frozen, name = "Factorials", module = "factlab_pyo3")]
pub(crate) struct Factorials {
    state: Mutex<Kernel>,
}

#[pymethods]
impl Factorials {
    // `from_py_with`: `start` converted as `factorial` converts `n` (its
    // exceptions unchanged; PyO3 only adds a note "while processing
    // 'start'"); the default 0 when it is left out; `/`: no keywords.
    #[new]
    #[pyo3(signature = (start = 0, /))]
    fn new(#[pyo3(from_py_with = to_u64)] start: u64) -> PyResult<Self> {
        let state = Kernel::new(start).map_err(kernel_error)?;
        Ok(Factorials {
            state: Mutex::new(state),
        })
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// `None` is StopIteration.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyInt>>> {
        match self.step(py) {
            // The Python int is made here, the lock already released: making
            // it may run a garbage collection, and so any Python code, even a
            // `__del__` that calls next() on this iterator again.
            Some(Ok(value)) => to_int(py, &value).map(Some),
            Some(Err(err)) => Err(kernel_error(err)),
            None => Ok(None),
        }
    }

    /// The n whose factorial the next `next()` returns.
    #[getter]
    fn n(&self, py: Python<'_>) -> u64 {
        match self.try_lock() {
            Some(state) => state.n(),
            None => py.detach(|| self.lock().n()),
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!("Factorials({})", self.n(py))
    }

    /// copy.copy, copy.deepcopy and pickle all ask `__reduce_ex__`, which
    /// asks this: two Python objects must never share one state. (CPython
    /// already refuses an object of a native type without `__reduce__`; this
    /// says why, and does not depend on the interpreter.)
    fn __reduce__(&self) -> PyResult<()> {
        Err(PyTypeError::new_err(
            "cannot pickle or copy 'Factorials' object: it owns a running computation",
        ))
    }
}

impl Factorials {
    /// One step of the kernel, under the lock.
    ///
    /// The order matters: release the GIL, THEN wait for the lock. The other
    /// order deadlocks: thread A takes the lock, releases the GIL for its
    /// step, and at the end needs the GIL back while still holding the lock;
    /// thread B, holding the GIL, waits for the lock. Each waits for the
    /// other forever.
    ///
    /// A cheap step (most of them) keeps the GIL, when the lock is free at
    /// once: `try_lock` never waits, and whoever holds the lock never waits
    /// for the GIL: the locked code below calls no Python (in `detach` the
    /// compiler checks it: no `py` may enter the closure, and the guard, not
    /// `Send`, may not leave it), so the lock is free again before anyone
    /// takes the GIL back.
    fn step(&self, py: Python<'_>) -> Option<Result<Factorial, Error>> {
        if let Some(mut state) = self.try_lock() {
            if !state.next_is_expensive() {
                return state.step();
            }
        }
        // (The guard dropped above: it is never held across `detach`.)
        // Expensive (a whole factorial, or a product of thousands of limbs),
        // or another thread is stepping: wait, and step, without the GIL.
        py.detach(|| self.lock().step())
    }

    /// The lock if it is free now (never waits).
    fn try_lock(&self) -> Option<MutexGuard<'_, Kernel>> {
        match self.state.try_lock() {
            Ok(state) => Some(state),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// The lock, waiting for it: call it only without the GIL.
    fn lock(&self) -> MutexGuard<'_, Kernel> {
        // A panic in a step (PyO3 raises it as PanicException) poisons the
        // lock; the state is still sound: at worst the step had taken `last`
        // out, and the next step then makes n! whole instead of multiplying.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
// ANCHOR_END: iterator
