//! What the hook costs: `factorial(n)` against `control::factorial_with(n, hook)`
//! with a hook that never stops, alternated in one run (the median of each).
//!
//! ```text
//! cargo run --release -p factlab-core --example hook_cost [N ...]
//! ```

use std::time::Instant;

use factlab_core::control::{factorial_with, Flow};
use factlab_core::factorial;

fn main() {
    let ns: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("N"))
        .collect();
    let ns = if ns.is_empty() {
        vec![10_000, 1_000_000]
    } else {
        ns
    };
    for n in ns {
        let runs = if n >= 10_000_000 { 3 } else { 21 };
        let (mut plain, mut hooked, mut ticks) = (vec![], vec![], 0);
        for _ in 0..runs {
            let start = Instant::now();
            let a = factorial(n).expect("n within the bound");
            plain.push(start.elapsed().as_secs_f64());
            let start = Instant::now();
            let b = factorial_with(n, |_| {
                ticks += 1;
                Flow::Continue
            })
            .expect("a hook that never stops");
            hooked.push(start.elapsed().as_secs_f64());
            assert_eq!(a, b);
        }
        let (p, h) = (median(&mut plain), median(&mut hooked));
        println!(
            "n = {n}: factorial {:.3} ms, factorial_with {:.3} ms ({:+.1} %), {} hook calls per call",
            p * 1e3,
            h * 1e3,
            (h / p - 1.0) * 100.0,
            ticks / runs
        );
    }
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
