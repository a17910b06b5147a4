//! Long calls that report progress and can be stopped.
//!
//! A binding that hands the kernel a big `n` loses control for as long as
//! the call runs: 10^7! takes about two seconds, 10^8! tens of seconds, and
//! during that time Python cannot run its Ctrl-C handler. [`factorial_with`]
//! gives control back: it calls a *hook* every [`TICK`] while it works, with
//! how far it got ([`Progress`]), and the hook answers whether to go on
//! ([`Flow`]). A binding's hook re-takes the GIL, lets Python look at its
//! signals (`PyErr_CheckSignals`), calls a user's progress callback, and
//! answers [`Flow::Stop`] when either raised.
//!
//! ## Why a worker thread
//!
//! The work is a short list of steps ([`plan`]): n! = (k!)² · C(n, k) (times
//! k + 1 when n is odd), k = n/2, from a small factorial up. Between two
//! steps the kernel could ask the hook, but one step is one multiplication,
//! and at 10^8 the last squaring alone takes seconds: no check between steps
//! can answer within 100 ms. So for `n >= INTERRUPTIBLE_N` the steps run on
//! a thread of their own, and the *calling* thread waits for them, waking
//! every [`TICK`] to call the hook. The hook therefore runs in the thread
//! that called `factorial_with` (for Python: the thread whose signals and
//! GIL state it knows), never in the worker.
//!
//! When the hook answers [`Flow::Stop`], `factorial_with` returns at once.
//! The worker sees the request when the step in flight ends and drops what
//! it holds: the memory comes back then (at most one multiplication later).

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use malachite_base::num::arithmetic::traits::{BinomialCoefficient, Factorial as _, Square};
use malachite_nz::natural::Natural;

use crate::{admit, factorial, memory, Error, Factorial};

// ANCHOR: control-types
/// How often the hook is called while the work runs.
pub const TICK: Duration = Duration::from_millis(20);

/// From this `n` on, [`factorial_with`] works on a thread of its own and
/// calls the hook every [`TICK`]. Below it the whole call takes a few
/// milliseconds (10^5! about 10 ms): it runs inline, and the hook is called
/// once, at the end.
pub const INTERRUPTIBLE_N: u64 = 100_000;

/// How far a call got, in work units (bits of the partial products made):
/// `done` only grows and ends at `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Units of work finished.
    pub done: u64,
    /// Units of work in the whole call.
    pub total: u64,
}

/// The hook's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on working.
    Continue,
    /// Stop: `factorial_with` returns [`Halt::Stopped`] at once.
    Stop,
}

/// Why [`factorial_with`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Halt {
    /// The kernel refused `n`, before any work (the hook was not called).
    Refused(Error),
    /// The hook answered [`Flow::Stop`].
    Stopped,
}
// ANCHOR_END: control-types

impl From<Error> for Halt {
    fn from(e: Error) -> Self {
        Halt::Refused(e)
    }
}

/// Below this `n` the plan starts from one factorial (malachite's).
pub(crate) const BASE_N: u64 = 20_000;

/// One step of the plan: what it computes, and its weight in work units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `f = m!` for a small `m` (the start).
    Base(u64),
    /// `c = C(n, n/2)`.
    Binomial(u64),
    /// `f = f²` (f was (n/2)!).
    Square(u64),
    /// `f = f · c` (times n/2 + 1 for odd n): now f = n!.
    Multiply(u64),
}

impl Step {
    /// The step's weight: about the bits of what it produces.
    pub fn units(self) -> u64 {
        let bits = |m: u64| memory::result_bytes(m) * 8;
        match self {
            Step::Base(m) => bits(m),
            Step::Binomial(n) => n,
            Step::Square(n) => 2 * bits(n / 2),
            Step::Multiply(n) => bits(n),
        }
    }
}

/// The steps that compute `n!`, in order: about 3 · log2(n / 10,000) + 1
/// of them (40 at 10^8); below `BASE_N` (20,000), the one step `Base(n)`.
pub fn plan(n: u64) -> Vec<Step> {
    let mut tops = Vec::new();
    let mut m = n;
    while m >= BASE_N {
        tops.push(m);
        m /= 2;
    }
    let mut steps = vec![Step::Base(m)];
    for &n in tops.iter().rev() {
        steps.extend([Step::Binomial(n), Step::Square(n), Step::Multiply(n)]);
    }
    steps
}

/// Runs the plan for `n`, calling `step_done(units)` after each step; stops
/// (returning `None`, dropping everything) as soon as it answers `false`.
pub(crate) fn run_plan(n: u64, mut step_done: impl FnMut(u64) -> bool) -> Option<Natural> {
    let mut f = Natural::from(1u32);
    let mut c = Natural::from(1u32);
    for step in plan(n) {
        match step {
            Step::Base(m) => f = Natural::factorial(m),
            Step::Binomial(n) => {
                c = Natural::binomial_coefficient(Natural::from(n), Natural::from(n / 2));
            }
            Step::Square(_) => f = f.square(),
            Step::Multiply(n) => {
                f *= std::mem::take(&mut c);
                if n % 2 == 1 {
                    f *= Natural::from(n / 2 + 1);
                }
            }
        }
        if !step_done(step.units()) {
            return None;
        }
    }
    Some(f)
}

// ANCHOR: factorial-with
/// `n!`, calling `hook` every [`TICK`] of work (and once at the end) from
/// the calling thread; stops at once when the hook answers [`Flow::Stop`].
///
/// The hook is never called for a refused `n`. Its last call has
/// `done == total`; answering `Stop` then still discards the value (a
/// progress callback that raised at the end wins over the result).
pub fn factorial_with(n: u64, mut hook: impl FnMut(Progress) -> Flow) -> Result<Factorial, Halt> {
    // Each path checks n once, before any work and before the hook.
    let (value, total) = if n < INTERRUPTIBLE_N {
        // Inline: `factorial` checks n itself (the bound, the memory).
        (factorial(n)?, total_units(n))
    } else {
        // On a worker: the plan checks nothing, so n is checked here, before
        // the thread starts (and before its size is even worked out).
        admit(n)?;
        let total = total_units(n);
        let value = match on_worker(n, total, &mut hook) {
            Some(Ok(limbs)) => Factorial::Limbs(limbs),
            Some(Err(stopped)) => return Err(stopped),
            // No thread to be had (the system refused one): run the same
            // plan here, n already checked, with nothing to stop it.
            None => Factorial::Limbs(
                run_plan(n, |_| true)
                    .expect("a hook that never stops never stops the plan")
                    .into_limbs_asc(),
            ),
        };
        (value, total)
    };
    match hook(Progress { done: total, total }) {
        Flow::Continue => Ok(value),
        Flow::Stop => Err(Halt::Stopped),
    }
}
// ANCHOR_END: factorial-with

/// The units of the whole call: the sum of its plan's steps. Below
/// `BASE_N` (20,000) the plan is the one step `Base(n)`: a small call
/// counts as one step, reported once, at the end.
pub fn total_units(n: u64) -> u64 {
    plan(n).into_iter().map(Step::units).sum()
}

/// Workers still running, stopped ones included (see [`workers_running`]).
static WORKERS: AtomicUsize = AtomicUsize::new(0);

/// How many workers of this copy of the kernel are still running, those
/// whose caller stopped waiting included: a test waits for 0 before it
/// counts leaks.
pub fn workers_running() -> usize {
    WORKERS.load(Ordering::SeqCst)
}

/// Counts a worker from its start to its end (panics included).
struct Running;

impl Running {
    fn start() -> Running {
        WORKERS.fetch_add(1, Ordering::SeqCst);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        WORKERS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Where the worker leaves its outcome for the waiting thread.
enum Slot {
    Working,
    Done(Vec<u64>),
    Panicked(Box<dyn Any + Send>),
}

/// What the worker and the waiting thread share.
struct Shared {
    done: AtomicU64,
    stop: AtomicBool,
    slot: Mutex<Slot>,
    ready: Condvar,
}

// ANCHOR: worker
/// Runs the plan on a new thread and waits for it, calling the hook every
/// [`TICK`]. `None` when no thread could be started.
fn on_worker(
    n: u64,
    total: u64,
    hook: &mut impl FnMut(Progress) -> Flow,
) -> Option<Result<Vec<u64>, Halt>> {
    let shared = Arc::new(Shared {
        done: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        slot: Mutex::new(Slot::Working),
        ready: Condvar::new(),
    });
    let theirs = Arc::clone(&shared);
    let running = Running::start();
    std::thread::Builder::new()
        .name("factlab-kernel".into())
        .spawn(move || {
            work(n, &theirs);
            // Everything this thread held is gone before it counts as ended.
            drop((theirs, running));
        })
        .ok()?;
    loop {
        let slot = shared.slot.lock().unwrap_or_else(PoisonError::into_inner);
        let (mut slot, _) = shared
            .ready
            .wait_timeout_while(slot, TICK, |s| matches!(s, Slot::Working))
            .unwrap_or_else(PoisonError::into_inner);
        match std::mem::replace(&mut *slot, Slot::Working) {
            Slot::Done(limbs) => return Some(Ok(limbs)),
            // Carry the worker's panic to this thread, where the binding's
            // boundary catches it.
            Slot::Panicked(payload) => std::panic::resume_unwind(payload),
            Slot::Working => {}
        }
        drop(slot); // the hook runs without the lock
        let done = shared.done.load(Ordering::Relaxed).min(total);
        if hook(Progress { done, total }) == Flow::Stop {
            // The worker is not joined: it ends after its step in flight.
            shared.stop.store(true, Ordering::Relaxed);
            return Some(Err(Halt::Stopped));
        }
    }
}

/// The worker's side: runs the plan, counting units and looking for a stop
/// request between steps, and leaves its outcome in the slot.
fn work(n: u64, shared: &Shared) {
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        run_plan(n, |units| {
            shared.done.fetch_add(units, Ordering::Relaxed);
            !shared.stop.load(Ordering::Relaxed)
        })
    }));
    let slot = match outcome {
        Ok(Some(f)) => Slot::Done(f.into_limbs_asc()),
        Ok(None) => return, // stopped: nobody waits for it
        Err(payload) => Slot::Panicked(payload),
    };
    *shared.slot.lock().unwrap_or_else(PoisonError::into_inner) = slot;
    shared.ready.notify_one();
}
// ANCHOR_END: worker

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_is_exact() {
        for n in [BASE_N, BASE_N + 1, 40_001, 123_457] {
            let f = run_plan(n, |_| true).unwrap();
            assert_eq!(f, Natural::factorial(n), "n = {n}");
        }
    }

    #[test]
    fn units_add_up_to_the_total() {
        let mut done = 0;
        run_plan(300_000, |u| {
            done += u;
            true
        })
        .unwrap();
        assert_eq!(done, total_units(300_000));
        assert_eq!(plan(100_000_000).len(), 40);
    }

    #[test]
    fn small_calls_hook_once_at_the_end() {
        let mut seen = vec![];
        let f = factorial_with(25, |p| {
            seen.push(p);
            Flow::Continue
        });
        assert_eq!(f, factorial(25).map_err(Halt::from));
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].done, seen[0].total);
    }

    #[test]
    fn big_calls_report_growing_progress_and_the_value() {
        let n = 1_000_000;
        let mut seen: Vec<Progress> = vec![];
        let f = factorial_with(n, |p| {
            seen.push(p);
            Flow::Continue
        })
        .unwrap();
        assert_eq!(f, factorial(n).unwrap());
        assert!(seen.windows(2).all(|w| w[0].done <= w[1].done));
        let last = seen.last().unwrap();
        assert_eq!((last.done, last.total), (total_units(n), total_units(n)));
    }

    #[test]
    fn stop_returns_at_the_next_tick() {
        // 10^7! takes seconds; the third tick comes 60 ms in.
        let mut calls = 0;
        let r = factorial_with(10_000_000, |_| {
            calls += 1;
            if calls == 3 {
                Flow::Stop
            } else {
                Flow::Continue
            }
        });
        assert_eq!(r, Err(Halt::Stopped));
        while workers_running() > 0 {
            std::thread::sleep(TICK);
        }
        // No fourth call: the last call of a finished run has done == total.
        assert_eq!(calls, 3);
    }

    #[test]
    fn stop_at_the_end_discards_the_value() {
        assert_eq!(factorial_with(5, |_| Flow::Stop), Err(Halt::Stopped));
    }

    #[test]
    fn refused_n_never_calls_the_hook() {
        let r = factorial_with(crate::MAX_N + 1, |_| unreachable!());
        assert_eq!(
            r,
            Err(Halt::Refused(Error::TooLarge {
                n: crate::MAX_N + 1
            }))
        );
    }
}
