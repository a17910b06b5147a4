//! The C ABI, used from C: compiles `tests/c/check_factlab.c` with the system
//! C compiler (found by the `cc` crate, like a build script would), links it
//! against the STATIC library cargo built for this test run, and runs it.
//!
//! The binary is also left at `target/<profile>/check_factlab`, where
//! `just check-memory` runs it under valgrind.

use std::path::{Path, PathBuf};
use std::process::Command;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`: this test runs as `target/<profile>/deps/c_program-<hash>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary has a path");
    exe.parent()
        .and_then(Path::parent)
        .expect("the test binary lives in target/<profile>/deps")
        .to_path_buf()
}

fn rustc(args: &[&str]) -> std::process::Output {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let output = Command::new(&rustc)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {rustc}: {e}"));
    assert!(
        output.status.success(),
        "{rustc} {args:?} failed: {output:?}"
    );
    output
}

/// The target triple this test was built for (`rustc -vV`, line `host: ...`).
fn host_triple() -> String {
    let out = String::from_utf8(rustc(&["-vV"]).stdout).expect("rustc -vV is UTF-8");
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_owned()
}

/// The system libraries a C program needs when it links a Rust static
/// library: `rustc --print native-static-libs` (e.g. `-lgcc_s -lutil -lrt
/// -lpthread -lm -ldl -lc` on Linux). They come from Rust's standard library
/// only (factlab-core and malachite link no native library), so an empty
/// static library has the same list; `just setup` records the one of the
/// release build in `target/release/libfactlab_clib.native-static-libs`.
fn native_static_libs(scratch: &Path) -> Vec<String> {
    let empty = scratch.join("empty.rs");
    std::fs::write(&empty, "").expect("write an empty crate");
    let out = rustc(&[
        "--crate-type=staticlib",
        "--crate-name=probe",
        "--print=native-static-libs",
        "--out-dir",
        scratch.to_str().expect("UTF-8 path"),
        empty.to_str().expect("UTF-8 path"),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find_map(|l| l.split_once("native-static-libs:"))
        .unwrap_or_else(|| panic!("rustc printed no native-static-libs note:\n{stderr}"))
        .1;
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn c_program_passes() {
    let profile = profile_dir();
    // Cargo compiles every crate type of the library (cdylib, staticlib,
    // rlib) before it builds an integration test, into target/<profile>/deps
    // (it copies them up to target/<profile> only for `cargo build`).
    let staticlib = profile.join("deps/libfactlab_clib.a");
    assert!(
        staticlib.is_file(),
        "{} is missing: crates/clib/Cargo.toml must list \"staticlib\" in crate-type",
        staticlib.display()
    );
    let scratch = profile.join("check_factlab.build");
    std::fs::create_dir_all(&scratch).expect("create the scratch dir");
    let binary = profile.join("check_factlab");

    // Explicit target, host and opt level: outside a build script, cc cannot
    // read them from cargo's environment.
    let triple = host_triple();
    let compiler = cc::Build::new()
        .target(&triple)
        .host(&triple)
        .opt_level(0)
        .debug(true)
        .cargo_metadata(false)
        .get_compiler();
    let mut cmd = compiler.to_command();
    cmd.args(["-std=c99", "-Wall", "-Wextra", "-Werror"])
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg(crate_dir().join("tests/c/check_factlab.c"))
        // The static library after the code that uses it, then its own needs.
        .arg(&staticlib)
        .args(native_static_libs(&scratch))
        .arg("-o")
        .arg(&binary);
    let built = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler {cmd:?}: {e}"));
    assert!(
        built.status.success(),
        "compiling check_factlab.c failed: {cmd:?}\n{}{}",
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );

    let run = Command::new(&binary)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    println!("{stdout}{stderr}");
    assert!(
        run.status.success(),
        "check_factlab failed:\n{stdout}{stderr}"
    );
    // The deliberate panic was caught: its message is on stderr, and the
    // program went on to its summary.
    assert!(stderr.contains("deliberate panic"), "{stderr}");
    let summary = stdout.lines().last().unwrap_or_default();
    let passed: u32 = summary
        .strip_prefix("check_factlab: ")
        .and_then(|s| s.split(' ').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("unexpected summary {summary:?}"));
    // Each CHECK in the source runs exactly once (none is in a loop).
    let source = std::fs::read_to_string(crate_dir().join("tests/c/check_factlab.c"))
        .expect("read check_factlab.c");
    let checks = source.matches("CHECK(").count() - source.matches("#define CHECK(").count();
    assert_eq!(
        passed as usize, checks,
        "some checks did not run: {summary}"
    );
    assert!(summary.ends_with(", 0 failed"), "{summary}");
}
