//! An object C owns: the kernel's iterator over factorials behind an opaque
//! pointer, with one function to make it, one to step it and one to free it.

use std::sync::{Mutex, PoisonError};

use factlab_core::iterator::Factorials;
use factlab_core::Error;

use crate::{boundary, FactlabBig, Status, FACTLAB_NULL_POINTER, FACTLAB_OK};

// ANCHOR: iterator
/// Status: the iterator went past `FACTLAB_MAX_N` (its last step answered
/// `FACTLAB_TOO_LARGE`): there is nothing more; `*out` is `{NULL, 0}`.
pub const FACTLAB_EXHAUSTED: i32 = 7;

/// An iterator over `start!, (start+1)!, ...`: opaque to C (a pointer only).
///
/// Ownership: `factlab_factorials_new` allocates it; the CALLER owns it and
/// gives it back with `factlab_factorials_free`, exactly once. It may be
/// used from several threads: each step holds the iterator's own lock.
pub struct FactlabFactorials {
    state: Mutex<Factorials>,
}

/// Makes an iterator whose first step gives `start!` into `*it`: returns
/// `FACTLAB_OK`, or `FACTLAB_TOO_LARGE` (`start > FACTLAB_MAX_N`, `*it` is
/// NULL); `FACTLAB_NULL_POINTER` when `it` is NULL.
///
/// # Safety
///
/// `it` is NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn factlab_factorials_new(
    start: u64,
    it: *mut *mut FactlabFactorials,
) -> i32 {
    if it.is_null() {
        return FACTLAB_NULL_POINTER;
    }
    let (status, made) = match Factorials::new(start) {
        // into_raw: Rust stops managing the box; C owns it until _free.
        Ok(state) => (
            FACTLAB_OK,
            Box::into_raw(Box::new(FactlabFactorials {
                state: Mutex::new(state),
            })),
        ),
        Err(e) => (e.status(), std::ptr::null_mut()),
    };
    // SAFETY: `it` is non-null and valid for writes (contract).
    unsafe { it.write(made) };
    status
}

/// Writes the next factorial into `*out` (owned by the caller, freed with
/// `factlab_big_free`) and moves on. Returns `FACTLAB_OK`; past
/// `FACTLAB_MAX_N` once `FACTLAB_TOO_LARGE`, then `FACTLAB_EXHAUSTED`;
/// `FACTLAB_NO_MEMORY` (the iterator stays where it was) or `FACTLAB_PANIC`
/// as `factlab_factorial` does; `FACTLAB_NULL_POINTER` for a NULL argument.
///
/// # Safety
///
/// `it` is NULL or came from `factlab_factorials_new` and was not freed;
/// `out` is NULL or valid for writing a `FactlabBig`.
#[no_mangle]
pub unsafe extern "C" fn factlab_factorials_next(
    it: *const FactlabFactorials,
    out: *mut FactlabBig,
) -> i32 {
    // SAFETY: a live iterator (contract); shared, not unique: the lock orders steps.
    let Some(it) = (unsafe { it.as_ref() }) else {
        return FACTLAB_NULL_POINTER;
    };
    // SAFETY: forwarded from this function's contract.
    unsafe {
        boundary(out, || {
            // A panic while locked poisons the lock; the state is still whole
            // (a step changes it only after its value is made).
            let mut state = it.state.lock().unwrap_or_else(PoisonError::into_inner);
            match state.step() {
                Some(Ok(value)) => Ok(value),
                Some(Err(e)) => Err(Stepped::Refused(e)),
                None => Err(Stepped::Exhausted),
            }
        })
    }
}

/// The n whose factorial the next step gives (0 for NULL).
///
/// # Safety
///
/// `it` is NULL or came from `factlab_factorials_new` and was not freed.
#[no_mangle]
pub unsafe extern "C" fn factlab_factorials_n(it: *const FactlabFactorials) -> u64 {
    // SAFETY: a live iterator or NULL (contract).
    unsafe { it.as_ref() }.map_or(0, |it| {
        it.state.lock().unwrap_or_else(PoisonError::into_inner).n()
    })
}

/// Gives an iterator back to the library (NULL is a no-op).
///
/// # Safety
///
/// `it` is NULL or came from `factlab_factorials_new`, was not freed, and no
/// other thread is using it.
#[no_mangle]
pub unsafe extern "C" fn factlab_factorials_free(it: *mut FactlabFactorials) {
    if !it.is_null() {
        // SAFETY: `it` came from Box::into_raw in _new and is freed once (contract).
        drop(unsafe { Box::from_raw(it) });
    }
}
// ANCHOR_END: iterator

/// Why a step gave no value: the kernel's refusal, or the end.
enum Stepped {
    Refused(Error),
    Exhausted,
}

impl Status for Stepped {
    fn status(&self) -> i32 {
        match self {
            Stepped::Refused(e) => e.status(),
            Stepped::Exhausted => FACTLAB_EXHAUSTED,
        }
    }
}
