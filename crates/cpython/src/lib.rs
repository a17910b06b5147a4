//! # factlab-cpython: the same module with rust-cpython
//!
//! [`cpython`] (rust-cpython, by Daniel Grunwald) is the crate PyO3 was forked
//! from in 2017. It gives Rust a `Python` token that proves the GIL is held,
//! owned `PyObject`s that count their references, `PyResult` for errors, and
//! two macros that write the C-API boilerplate: [`py_module_initializer!`]
//! (the `PyInit_` function and the `PyModuleDef`) and [`py_fn!`] (a
//! `PyMethodDef` and an `extern "C"` wrapper that parses the arguments,
//! converts the result and catches panics).
//!
//! **rust-cpython is unmaintained.** Its last release is 0.7.2; its README
//! lists Python 3.7 to 3.12, and its `python3-sys` knows no CPython newer
//! than 3.12 (3.13 removed or changed APIs it declares). maturin no longer
//! builds it either (maturin 1.x offers the bindings `pyo3`, `pyo3-ffi`,
//! `cffi`, `uniffi` and `bin`); setuptools-rust still does, with its
//! `RustCPython` binding (`pyproject.toml`). It is here for the
//! lesson: see how much PyO3 kept, and what it changed.
//!
//! What is worth seeing:
//!
//! - `py_fn!` functions receive their arguments as a tuple and a dict
//!   (`METH_VARARGS | METH_KEYWORDS`), the slowest of CPython's calling
//!   conventions; PyO3 and our hand-written `capi` use faster ones. It also
//!   means `factorial(n=5)` is accepted, where `math.factorial` (and every
//!   other backend) takes `n` positional-only: the one place where this
//!   backend's behaviour differs, and the macro leaves no way to change it.
//! - A panic inside a `py_fn!` function is caught by rust-cpython and becomes
//!   `SystemError("Rust panic: ...")`. The contract asks for `RuntimeError`, so
//!   we catch it ourselves one level down; rust-cpython's catch stays as the
//!   net under ours.
//! - `Python::allow_threads` does *not* catch panics: a panic inside it would
//!   unwind past its `PyEval_RestoreThread` and leave us without the GIL. So
//!   the `catch_unwind` goes *inside* the closure.
//! - The crate's GIL handling (`PyGILState_Ensure` on every drop) knows only
//!   the main interpreter: imported in a subinterpreter, the module would
//!   hang. We write its `PyInit_` function ourselves, to refuse with
//!   ImportError first (the one place we do not use `py_module_initializer!`).
//! - The crate has no `u128` or big-int conversion, and no `operator.index`
//!   with `math.factorial`'s errors, so the few calls it lacks are made
//!   through its own raw layer, `python3-sys`.

use std::ffi::CStr;
use std::ffi::{c_int, c_long, c_longlong, c_uchar};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use cpython::{
    exc, py_fn, PyDrop, PyErr, PyModule, PyObject, PyResult, Python, PythonObject, ToPyObject,
};
use factlab_core::{Error, Factorial, EXPENSIVE_N, MAX_N};
use python3_sys as ffi;

// ANCHOR: module
// `PyInit_factlab_cpython`: what `py_module_initializer!` would write
// (single-phase init, `PyModule_Create`, then `init` fills the module), with
// one check in front of it.
//
// rust-cpython takes the GIL with `PyGILState_Ensure` whenever it drops an
// object, and that function knows only the main interpreter: in a
// subinterpreter it waits for a GIL that never comes, and `import` hangs
// forever (seen in gdb: PyInit -> PyGILState_Ensure -> take_gil). The crate
// offers no hook before its first drop, so we write the `PyInit_` function
// ourselves and refuse with ImportError before anything is created.
/// The module's entry point, called by `import factlab_cpython`.
///
/// # Safety
///
/// Called by CPython's import machinery, with the GIL held, once per import.
#[no_mangle]
pub unsafe extern "C" fn PyInit_factlab_cpython() -> *mut ffi::PyObject {
    // SAFETY: the GIL is held (the import machinery calls us with it); the
    // main interpreter's id is 0.
    unsafe {
        if ffi::PyInterpreterState_GetID(ffi::PyInterpreterState_Get()) != 0 {
            ffi::PyErr_SetString(
                ffi::PyExc_ImportError,
                c"factlab_cpython cannot be imported in a subinterpreter: rust-cpython takes \
                  the GIL with PyGILState_Ensure, which knows only the main interpreter (the \
                  import would hang). Import it in the main interpreter, or use the pyo3 or \
                  capi backend."
                    .as_ptr(),
            );
            return ptr::null_mut();
        }
        // What the macro does: a static PyModuleDef, named here, handed to the
        // crate's (public, undocumented) initializer with our `init`.
        static mut MODULE_DEF: ffi::PyModuleDef = ffi::PyModuleDef_INIT;
        MODULE_DEF.m_name = c"factlab_cpython".as_ptr();
        cpython::py_module_initializer_impl(ptr::addr_of_mut!(MODULE_DEF), init)
    }
}

/// Fills the module: the body `py_module_initializer!` would take.
fn init(py: Python, m: &PyModule) -> PyResult<()> {
    m.add(
        py,
        "__doc__",
        "factlab's exact factorial, with the cpython crate (rust-cpython).",
    )?;
    // `n: &PyObject`: a borrowed argument; `n: u64` would convert it with the
    // crate's own rules (for crossing, that is all we want). `py_fn!` expands
    // to the crate's `strip_raw!`, which clippy flags: its code, not ours.
    #[allow(clippy::manual_strip)]
    let functions = [
        (
            "factorial",
            py_fn!(py, factorial(n: &PyObject)),
            FACTORIAL_DOC,
        ),
        ("crossing", py_fn!(py, crossing(n: u64)), CROSSING_DOC),
        ("raise_panic", py_fn!(py, raise_panic()), RAISE_PANIC_DOC),
    ];
    for (name, function, doc) in functions {
        set_doc(&function, doc);
        m.add(py, name, function)?;
    }
    m.add(py, "MAX_N", MAX_N)?;
    m.add(py, "EXPENSIVE_N", EXPENSIVE_N)?;
    Ok(())
}
// ANCHOR_END: module

// The docstrings, in the form CPython reads a builtin's signature from
// (`help()`, `inspect.signature`): "name(params)\n--\n\n" then the text.
const FACTORIAL_DOC: &CStr =
    c"factorial(n, /)\n--\n\nFind n!, exactly as math.factorial does (the Rust kernel, through rust-cpython).";
const CROSSING_DOC: &CStr =
    c"crossing(n, /)\n--\n\nThe bare crossing: n! if n <= 20, else 0, no checks.";
const RAISE_PANIC_DOC: &CStr =
    c"raise_panic()\n--\n\nTest-only: panic inside the kernel; the panic becomes a RuntimeError.";

/// Gives a `py_fn!` function its docstring. The macro has no place for one,
/// but the `PyMethodDef` it made (a `static`, never freed) is reachable from
/// the function object, whose layout starts like this in every CPython 3.
fn set_doc(function: &PyObject, doc: &'static CStr) {
    #[repr(C)]
    struct PyCFunctionObject {
        ob_base: ffi::PyObject,
        m_ml: *mut ffi::PyMethodDef,
    }
    // SAFETY: `py_fn!` returns a builtin function object (a PyCFunctionObject)
    // whose m_ml points to a static PyMethodDef; we hold the GIL (module init)
    // and set its doc before anyone can read it. The doc is 'static.
    unsafe {
        let object = function.as_ptr().cast::<PyCFunctionObject>();
        (*(*object).m_ml).ml_doc = doc.as_ptr();
    }
}

// ANCHOR: factorial
/// `factorial(n)`: `math.factorial`'s contract.
fn factorial(py: Python, n: &PyObject) -> PyResult<PyObject> {
    let n = index_to_u64(py, n)?;
    call_kernel(py, n, factlab_core::factorial)
}
// ANCHOR_END: factorial

// ANCHOR: crossing
/// `crossing(n)`: the bare crossing. The crate converts `n` to `u64` (an int
/// in 0..2**64, else its OverflowError or TypeError) and the `u64` result
/// back to an int.
fn crossing(_py: Python, n: u64) -> PyResult<u64> {
    Ok(factlab_core::factorial_u64(n).unwrap_or(0))
}
// ANCHOR_END: crossing

/// `raise_panic()`: the kernel panics, through the same boundary as `factorial`.
fn raise_panic(py: Python) -> PyResult<PyObject> {
    // As if n were EXPENSIVE_N: the panic happens inside `allow_threads`,
    // with the GIL released, the path where a missed panic would hurt most.
    call_kernel(py, EXPENSIVE_N, |_| {
        factlab_core::testing::deliberate_panic()
    })
}

// ANCHOR: index
/// `math.factorial`'s argument rules: `__index__` or TypeError; any negative
/// is ValueError; above LONG_MAX is OverflowError.
///
/// The crate's `n.extract::<u64>()` would give OverflowError for negative
/// numbers, so we ask `python3-sys` directly.
fn index_to_u64(py: Python, n: &PyObject) -> PyResult<u64> {
    let ptr = n.as_ptr();
    // SAFETY: `py` proves we hold the GIL and `ptr` is a live object (`n`
    // borrows it for the whole call).
    unsafe {
        if ffi::PyLong_Check(ptr) != 0 {
            return long_to_u64(py, ptr);
        }
        // Anything else must have __index__: PyNumber_Index returns a new
        // reference or NULL with the exception set (TypeError for float, str,
        // ..., or whatever __index__ raised). `from_owned_ptr_opt` takes
        // ownership of that reference.
        let index = PyObject::from_owned_ptr_opt(py, ffi::PyNumber_Index(ptr))
            .ok_or_else(|| PyErr::fetch(py))?;
        let result = long_to_u64(py, index.as_ptr());
        // Give the reference back with the GIL we hold: a plain drop of a
        // rust-cpython PyObject re-acquires the GIL first (PyGILState_Ensure),
        // which is correct but costs a round trip.
        index.release_ref(py);
        result
    }
}

/// # Safety
/// The GIL is held and `long` is a live int (`PyLong_Check` is true).
unsafe fn long_to_u64(py: Python, long: *mut ffi::PyObject) -> PyResult<u64> {
    let mut overflow: c_int = 0;
    // Outside long long: `overflow` is +1 or -1 and `v` is -1 (not the value).
    let v = ffi::PyLong_AsLongLongAndOverflow(long, &mut overflow);
    if v == -1 && !ffi::PyErr_Occurred().is_null() {
        return Err(PyErr::fetch(py));
    }
    if overflow < 0 || (overflow == 0 && v < 0) {
        return Err(PyErr::new::<exc::ValueError, _>(
            py,
            "factorial() not defined for negative values",
        ));
    }
    if overflow > 0 || v > c_longlong::from(c_long::MAX) {
        return Err(PyErr::new::<exc::OverflowError, _>(
            py,
            format!("factorial() argument should not exceed {}", c_long::MAX),
        ));
    }
    Ok(v as u64)
}
// ANCHOR_END: index

// ANCHOR: boundary
/// The kernel boundary: releases the GIL when the work is large, catches a
/// panic, and turns the outcome into a Python int or an exception.
fn call_kernel(
    py: Python,
    n: u64,
    kernel: fn(u64) -> Result<Factorial, Error>,
) -> PyResult<PyObject> {
    // AssertUnwindSafe: the closure reads `n` and a function pointer only.
    let run = AssertUnwindSafe(move || kernel(n));
    let outcome = if (EXPENSIVE_N..=MAX_N).contains(&n) {
        // allow_threads releases the GIL around the closure; the `Send` bound
        // keeps the `Python` token (and so every Python object) out of it.
        // The catch_unwind must be inside: allow_threads does not restore the
        // GIL if its closure unwinds.
        py.allow_threads(move || catch_unwind(run))
    } else {
        catch_unwind(run)
    };
    match outcome {
        Ok(Ok(value)) => to_py_int(py, &value),
        // The kernel refused: past MAX_N, or n! would not fit in memory.
        Ok(Err(error @ Error::NoMemory { .. })) => {
            Err(PyErr::new::<exc::MemoryError, _>(py, error.to_string()))
        }
        Ok(Err(error)) => Err(PyErr::new::<exc::OverflowError, _>(py, error.to_string())),
        Err(payload) => Err(PyErr::new::<exc::RuntimeError, _>(
            py,
            format!(
                "Rust panic in factlab's kernel: {}",
                factlab_core::panic_message(&*payload)
            ),
        )),
    }
}
// ANCHOR_END: boundary

fn to_py_int(py: Python, value: &Factorial) -> PyResult<PyObject> {
    match value {
        // n <= 20: the crate's own u64 conversion (PyLong_FromUnsignedLongLong).
        Factorial::U64(v) => Ok(v.to_py_object(py).into_object()),
        // Larger: from little-endian bytes, never through a decimal string.
        Factorial::U128(v) => int_from_le_bytes(py, &v.to_le_bytes()),
        Factorial::Limbs(limbs) => int_from_le_bytes(py, &factlab_core::limbs_le_bytes(limbs)),
    }
}

// ANCHOR: from-bytes
// python3-sys 0.7.2 does not declare this one; it is in every CPython up to
// 3.12 (the last one rust-cpython supports), as in PyO3's pyo3-ffi. Declaring
// a missing C function is what a rust-cpython user did.
extern "C" {
    fn _PyLong_FromByteArray(
        bytes: *const c_uchar,
        n: usize,
        little_endian: c_int,
        is_signed: c_int,
    ) -> *mut ffi::PyObject;
}

/// The unsigned int whose little-endian bytes are `bytes`.
fn int_from_le_bytes(py: Python, bytes: &[u8]) -> PyResult<PyObject> {
    // SAFETY: the GIL is held (`py`); CPython reads `bytes.len()` bytes from
    // the pointer and copies them. The result is a new reference (or NULL
    // with MemoryError set), which `from_owned_ptr_opt` takes over.
    unsafe {
        let int = _PyLong_FromByteArray(bytes.as_ptr(), bytes.len(), 1, 0);
        PyObject::from_owned_ptr_opt(py, int).ok_or_else(|| PyErr::fetch(py))
    }
}
// ANCHOR_END: from-bytes
