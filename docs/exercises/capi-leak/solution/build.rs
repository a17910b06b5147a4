//! Gives this crate the interpreter's cfgs (`Py_3_13`, ...), as pyo3-ffi's
//! README says: cfgs do not travel from a dependency to its dependents.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
