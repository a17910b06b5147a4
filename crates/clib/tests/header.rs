//! The committed C headers are exactly what cbindgen makes of `src/lib.rs`.
//!
//! Two headers, one source of truth:
//! - `include/factlab.h`: for C, cffi's API mode and Cython (include guard,
//!   `#include <stdint.h>`, ...);
//! - `include/factlab_cdef.h`: the same declarations, plain, for cffi's
//!   `ffi.cdef()`, whose C parser accepts no `#include`, `#ifdef` or guard.
//!
//! This test regenerates both in memory and fails when a committed file
//! differs. `FACTLAB_BLESS=1` (what `just header` sets) writes them instead.

use std::path::PathBuf;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The settings of `cbindgen.toml`, as committed.
fn full_config() -> cbindgen::Config {
    cbindgen::Config::from_file(crate_dir().join("cbindgen.toml"))
        .expect("crates/clib/cbindgen.toml parses")
}

/// The same settings without anything cffi's cdef cannot parse.
fn cdef_config() -> cbindgen::Config {
    let mut config = full_config();
    config.include_guard = None;
    config.pragma_once = false;
    config.no_includes = true;
    config.sys_includes.clear();
    config.includes.clear();
    config.header = Some(
        "/* factlab: the declarations of factlab.h, plain, for cffi's ffi.cdef(). */".to_owned(),
    );
    config
}

fn generate(config: cbindgen::Config) -> String {
    let mut bytes = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir().join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut bytes);
    String::from_utf8(bytes).expect("the header is UTF-8")
}

/// Compares `generated` with the committed file, or writes it when blessing.
fn check(relative: &str, generated: &str) {
    let path = crate_dir().join(relative);
    if std::env::var_os("FACTLAB_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, generated).unwrap_or_else(|e| panic!("write {relative}: {e}"));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "crates/clib/{relative} is not what cbindgen makes of src/lib.rs \
         (missing or stale). Regenerate it with `just header` \
         (FACTLAB_BLESS=1 cargo test -p factlab-clib --test header), review the diff, \
         and commit it.\n--- generated ---\n{generated}"
    );
}

#[test]
fn factlab_h_is_up_to_date() {
    let header = generate(full_config());
    assert!(header.contains("#ifndef FACTLAB_H"));
    check("include/factlab.h", &header);
}

#[test]
fn factlab_cdef_h_is_up_to_date() {
    let cdef = generate(cdef_config());
    // What cffi's cdef rejects: preprocessor lines other than `#define NAME value`.
    for line in cdef.lines().filter(|l| l.trim_start().starts_with('#')) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(
            words.len() == 3 && words[0] == "#define",
            "cffi's cdef cannot parse {line:?}"
        );
    }
    check("include/factlab_cdef.h", &cdef);
}

#[test]
fn both_headers_declare_the_same_api() {
    // Everything but the first comment, the guard and the #includes.
    let body = |text: &str| -> Vec<String> {
        text.lines()
            .skip(1)
            .filter(|l| !l.is_empty() && !l.starts_with("#include") && !l.contains("FACTLAB_H"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        body(&generate(full_config())),
        body(&generate(cdef_config()))
    );
}
