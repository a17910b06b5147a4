//! A long call that reports progress and can be stopped: the kernel's
//! [`factlab_core::control::factorial_with`] behind a C function pointer.

use std::ffi::c_void;

use factlab_core::control::{factorial_with, Flow, Halt};

use crate::{boundary, FactlabBig};

// ANCHOR: progress
/// Status: the hook asked to stop (`factlab_factorial_progress`); nothing is
/// left allocated, `*out` is `{NULL, 0}`.
pub const FACTLAB_STOPPED: i32 = 6;
/// From this `n` on `factlab_factorial_progress` works on a thread of its own
/// and calls the hook every 20 ms; below it (a few milliseconds of work) the
/// hook is called once, at the end.
pub const FACTLAB_INTERRUPTIBLE_N: u64 = 100000;
const _: () = assert!(FACTLAB_INTERRUPTIBLE_N == factlab_core::control::INTERRUPTIBLE_N);

/// The caller's hook: `ctx` as the caller passed it, and how far the work got
/// (`done` of `total` units; `done` only grows, the last call has
/// `done == total`). Return 0 to go on, anything else to stop.
///
/// It is called from the thread that called `factlab_factorial_progress`,
/// never from another one: a Python caller's hook may take the GIL there,
/// check for signals and call Python code.
pub type FactlabHook = Option<unsafe extern "C" fn(ctx: *mut c_void, done: u64, total: u64) -> i32>;

/// Computes `n!` into `*out` as `factlab_factorial` does, calling
/// `hook(ctx, done, total)` every 20 ms of work and once at the end.
///
/// Returns `FACTLAB_STOPPED` when the hook returned non-zero: at once, even
/// in the middle of a multiplication that takes seconds (the work runs on a
/// thread of the library's, which drops what it holds when that step ends).
/// Otherwise the statuses of `factlab_factorial`. A NULL `hook` never stops.
///
/// # Safety
///
/// `out` is NULL or points to memory writable as a `FactlabBig`; `hook`, if
/// not NULL, is safe to call with `ctx` from the calling thread during the
/// call, and does not unwind (a C function cannot).
#[no_mangle]
pub unsafe extern "C" fn factlab_factorial_progress(
    n: u64,
    hook: FactlabHook,
    ctx: *mut c_void,
    out: *mut FactlabBig,
) -> i32 {
    let ask = |p: factlab_core::control::Progress| match hook {
        // SAFETY: the caller promised the hook may be called with ctx here.
        Some(hook) if unsafe { hook(ctx, p.done, p.total) } != 0 => Flow::Stop,
        _ => Flow::Continue,
    };
    // SAFETY: forwarded from this function's contract.
    unsafe { boundary(out, || factorial_with(n, ask)) }
}

/// How many of the library's workers are still running, stopped ones
/// included (a stopped call returns before its worker ends): a leak check
/// waits for 0 before the process exits.
#[no_mangle]
pub extern "C" fn factlab_workers_running() -> usize {
    factlab_core::control::workers_running()
}
// ANCHOR_END: progress

/// How a refusal or a stop reads as a status code.
impl crate::Status for Halt {
    fn status(&self) -> i32 {
        match self {
            Halt::Refused(e) => e.status(),
            Halt::Stopped => FACTLAB_STOPPED,
        }
    }
}
