//! Gives this crate the interpreter's cfgs (`Py_3_12`, `Py_3_13`,
//! `Py_GIL_DISABLED`, ...), as pyo3-ffi's README says: cfgs do not travel from
//! a dependency to its dependents, so a crate that writes `#[cfg(Py_3_13)]`
//! must ask pyo3-build-config for them itself.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
