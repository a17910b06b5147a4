//! Gives this crate the interpreter's cfgs (`Py_3_13`, ...): the one place it
//! calls the C API directly differs between Python versions.
fn main() {
    pyo3_build_config::use_pyo3_cfgs();
}
