//! How much memory `n!` needs, and how much this process may still take.
//!
//! An allocation that fails inside the big-integer engine cannot be caught:
//! Rust's global allocator reports the failure with `handle_alloc_error`,
//! which aborts the process (and so the Python interpreter around it). So the
//! kernel asks *before* it starts: [`check`] compares the peak that
//! [`peak_bytes`] predicts for `n` with the room the process has left
//! ([`budget`]), and refuses with [`Error::NoMemory`] when it would not fit.
//! The bindings turn that error into Python's `MemoryError`.
//!
//! The room left is the smallest of the limits Linux enforces (each read from
//! `/proc` or `/sys`, so the kernel needs no C library call):
//!
//! | limit | what counts | read from |
//! |---|---|---|
//! | `RLIMIT_AS` | the address space mapped (`VmSize`) | `/proc/self/limits`, `/proc/self/status` |
//! | `RLIMIT_DATA` | private writable mappings (`VmData`) | the same |
//! | the cgroup's memory limit | the cgroup's usage | `memory.max` / `memory.current` (v2), `memory.limit_in_bytes` / `memory.usage_in_bytes` (v1) |
//! | the machine | `MemAvailable` + `SwapFree` | `/proc/meminfo` |
//!
//! Elsewhere (no `/proc`) no limit is known and the check lets every `n` pass.
//! It is a prediction, not a reservation: another thread that allocates at the
//! same time can still take the room (see the book's "Memory" chapter).

use crate::{Error, MAX_U128_N};

// ANCHOR: model
/// The kernel's peak memory, as a multiple of the result's size, measured
/// (VmHWM, see the book's "Memory" chapter) at n = 10^6, 10^7 and 10^8 and
/// rounded up: the largest multiplication's scratch dominates, and it grows
/// linearly with the operands.
pub const PEAK_PER_RESULT_BYTE: u64 = 13;

/// What the peak adds whatever the size: the prime sieve, the allocator's
/// rounding, the binding's own few allocations.
pub const PEAK_FIXED_BYTES: u64 = 8 << 20;

/// Below this predicted peak the kernel does not look at the limits at all:
/// reading them costs tens of microseconds, and a process that cannot find
/// 16 MiB more will fail elsewhere first.
pub const CHECK_FROM_BYTES: u64 = 16 << 20;
// ANCHOR_END: model

/// An upper bound on the size of `n!` in bytes (as little-endian limbs).
///
/// Stirling's series for `ln n!`, exact to far below one bit for the `n` the
/// kernel computes with limbs (n > 34); one limb is added for the rounding.
pub fn result_bytes(n: u64) -> u64 {
    if n <= MAX_U128_N {
        return 16;
    }
    let x = n as f64;
    let ln_fact = x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x);
    let bits = ln_fact / std::f64::consts::LN_2;
    ((bits / 64.0).ceil() as u64 + 1) * 8
}

/// The predicted peak of computing `n!` (the kernel's work, the result, and
/// the copy a binding makes of it into a Python int).
pub fn peak_bytes(n: u64) -> u64 {
    result_bytes(n)
        .saturating_mul(PEAK_PER_RESULT_BYTE)
        .saturating_add(PEAK_FIXED_BYTES)
}

/// The room a process has left, and which limit sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Bytes the process can still allocate before that limit.
    pub bytes: u64,
    /// The tightest limit, for the error message (e.g. `"RLIMIT_AS"`).
    pub limit: &'static str,
}

/// The room this process has left under every limit it can see; `None` when
/// no limit is known (no `/proc`, or every limit is "unlimited").
pub fn budget() -> Option<Budget> {
    let read = |path: &str| std::fs::read_to_string(path).ok();
    let status = read("/proc/self/status").unwrap_or_default();
    let limits = read("/proc/self/limits").unwrap_or_default();
    let mut candidates = Vec::with_capacity(4);
    for (row, field, name) in [
        ("Max address space", "VmSize:", "RLIMIT_AS"),
        ("Max data size", "VmData:", "RLIMIT_DATA"),
    ] {
        if let Some(limit) = rlimit_soft(&limits, row) {
            let used = status_kib(&status, field).unwrap_or(0).saturating_mul(1024);
            candidates.push(Budget {
                bytes: limit.saturating_sub(used),
                limit: name,
            });
        }
    }
    if let Some(bytes) = cgroup_room(&read("/proc/self/cgroup").unwrap_or_default(), read) {
        candidates.push(Budget {
            bytes,
            limit: "the cgroup's memory limit",
        });
    }
    if let Some(bytes) = meminfo_available(&read("/proc/meminfo").unwrap_or_default()) {
        candidates.push(Budget {
            bytes,
            limit: "the machine's available memory",
        });
    }
    candidates.into_iter().min_by_key(|b| b.bytes)
}

// ANCHOR: check
/// `Ok` when `n!` is predicted to fit in what the process has left, else
/// [`Error::NoMemory`]. Nothing is allocated either way.
pub fn check(n: u64) -> Result<(), Error> {
    check_bytes(n, peak_bytes(n))
}
// ANCHOR_END: check

/// `Ok` when `needed` bytes (for the work on `n`) fit in what the process has
/// left; below [`CHECK_FROM_BYTES`] without looking.
pub fn check_bytes(n: u64, needed: u64) -> Result<(), Error> {
    if needed < CHECK_FROM_BYTES {
        return Ok(());
    }
    check_against(n, needed, budget())
}

/// One step of an iterator, `(n-1)! * n`, as a multiple of the result's
/// size: the value kept, its product, the copy handed out and the binding's
/// own copy of that (a Python int). No scratch: a multiplication by one limb.
pub const STEP_PER_RESULT_BYTE: u64 = 4;

/// The decision of [`check`], given the budget: pure, so that tests can try
/// any limit.
pub fn check_against(n: u64, needed: u64, budget: Option<Budget>) -> Result<(), Error> {
    match budget {
        Some(b) if b.bytes < needed => Err(Error::NoMemory {
            n,
            needed,
            available: b.bytes,
            limit: b.limit,
        }),
        _ => Ok(()),
    }
}

/// The soft limit of one row of `/proc/self/limits`, in bytes; `None` when
/// unlimited or absent. A row reads
/// `Max address space  314572800  unlimited  bytes`.
pub fn rlimit_soft(limits: &str, row: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with(row))?;
    line[row.len()..].split_whitespace().next()?.parse().ok()
}

/// A `kB` field of `/proc/self/status` or `/proc/meminfo` (`VmSize:  1234 kB`).
pub fn status_kib(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..].split_whitespace().next()?.parse().ok()
}

/// `MemAvailable + SwapFree` from `/proc/meminfo`, in bytes.
pub fn meminfo_available(meminfo: &str) -> Option<u64> {
    let available = status_kib(meminfo, "MemAvailable:")?;
    let swap = status_kib(meminfo, "SwapFree:").unwrap_or(0);
    Some(available.saturating_add(swap).saturating_mul(1024))
}

/// The room under the memory limit of this process's cgroup and of each of
/// its ancestors (the tightest wins); `None` when no limit is set.
/// `proc_cgroup` is `/proc/self/cgroup`; `read` reads a file.
pub fn cgroup_room(proc_cgroup: &str, read: impl Fn(&str) -> Option<String>) -> Option<u64> {
    let number = |text: Option<String>| text.and_then(|t| t.trim().parse::<u64>().ok());
    let mut room: Option<u64> = None;
    for line in proc_cgroup.lines() {
        // v2: "0::/a/b"; v1: "4:memory:/a/b".
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next(), parts.next()?, parts.next()?);
        let (root, max, current) = match controllers {
            "" => ("/sys/fs/cgroup", "memory.max", "memory.current"),
            c if c.split(',').any(|c| c == "memory") => (
                "/sys/fs/cgroup/memory",
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            ),
            _ => continue,
        };
        // Walk from the process's own cgroup up to the root of the hierarchy.
        let mut dir = path.trim_end_matches('/').to_string();
        loop {
            let base = format!("{root}{dir}");
            // "max" (v2) does not parse: no limit here. v1 writes a huge
            // number instead, which can never be the tightest.
            if let Some(limit) = number(read(&format!("{base}/{max}"))) {
                let used = number(read(&format!("{base}/{current}"))).unwrap_or(0);
                let here = limit.saturating_sub(used);
                room = Some(room.map_or(here, |r| r.min(here)));
            }
            match dir.rfind('/') {
                Some(i) if !dir.is_empty() => dir.truncate(i),
                _ => break,
            }
        }
    }
    room
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_size_is_a_tight_upper_bound() {
        use malachite_base::num::arithmetic::traits::Factorial as _;
        use malachite_nz::natural::Natural;
        for n in [35, 100, 1000, 12_345, 100_000] {
            let exact = Natural::factorial(n).into_limbs_asc().len() as u64 * 8;
            let bound = result_bytes(n);
            assert!(
                bound >= exact && bound <= exact + 16,
                "n = {n}: {bound} vs {exact}"
            );
        }
        // 10^8! is 2,513,272,986 bits.
        assert_eq!(
            result_bytes(100_000_000) / 8,
            2_513_272_986_u64.div_ceil(64) + 1
        );
    }

    #[test]
    fn peak_grows_with_n() {
        assert!(
            peak_bytes(1_000) < CHECK_FROM_BYTES,
            "small n never reads /proc"
        );
        assert!(peak_bytes(10_000_000) > peak_bytes(1_000_000));
        assert!(peak_bytes(100_000_000) > 10 * result_bytes(100_000_000));
    }

    #[test]
    fn parses_proc_files() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max data size             unlimited            unlimited            bytes     \n\
                      Max address space         314572800            unlimited            bytes     \n";
        assert_eq!(rlimit_soft(limits, "Max address space"), Some(314_572_800));
        assert_eq!(rlimit_soft(limits, "Max data size"), None);
        let status = "Name:\tpython\nVmSize:\t   24000 kB\nVmData:\t  9000 kB\n";
        assert_eq!(status_kib(status, "VmSize:"), Some(24_000));
        assert_eq!(status_kib(status, "VmData:"), Some(9_000));
        let meminfo = "MemTotal: 100 kB\nMemAvailable:  50 kB\nSwapFree:  10 kB\n";
        assert_eq!(meminfo_available(meminfo), Some(60 * 1024));
    }

    #[test]
    fn cgroup_limits_tightest_ancestor_wins() {
        let files = |path: &str| -> Option<String> {
            match path {
                "/sys/fs/cgroup/a/memory.max" => Some("1000\n".into()),
                "/sys/fs/cgroup/a/memory.current" => Some("400\n".into()),
                "/sys/fs/cgroup/a/b/memory.max" => Some("max\n".into()),
                "/sys/fs/cgroup/memory/x/memory.limit_in_bytes" => Some("5000\n".into()),
                "/sys/fs/cgroup/memory/x/memory.usage_in_bytes" => Some("4500\n".into()),
                _ => None,
            }
        };
        assert_eq!(cgroup_room("0::/a/b\n", files), Some(600));
        assert_eq!(cgroup_room("4:memory:/x\n0::/a/b\n", files), Some(500));
        assert_eq!(cgroup_room("0::/\n", files), None);
        assert_eq!(cgroup_room("", files), None);
    }

    #[test]
    fn refuses_what_does_not_fit() {
        let tight = Some(Budget {
            bytes: 300 << 20,
            limit: "RLIMIT_AS",
        });
        let n = 100_000_000;
        let err = check_against(n, peak_bytes(n), tight).unwrap_err();
        assert!(matches!(
            err,
            Error::NoMemory {
                n: 100_000_000,
                limit: "RLIMIT_AS",
                ..
            }
        ));
        assert!(err.to_string().contains("RLIMIT_AS"), "{err}");
        assert_eq!(
            check_against(1_000_000, peak_bytes(1_000_000), tight),
            Ok(())
        );
        assert_eq!(check_against(n, peak_bytes(n), None), Ok(()));
    }
}
