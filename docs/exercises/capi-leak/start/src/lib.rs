//! # capi_leak: a small CPython extension written by hand, in Rust
//!
//! A cut-down copy of factlab's `crates/capi`: one function, `factorial(n)`,
//! written against the raw C API (declared by [`pyo3_ffi`]) with no PyO3
//! macro. Every reference is counted by hand, and one of them is not.
//!
//! The rules (the same as for a C extension):
//!
//! - A function gets *borrowed* references to its arguments and returns a
//!   *new* reference, or `NULL` with an exception set.
//! - Every new reference a function obtains (from `PyNumber_Index`,
//!   `PyLong_From...`, ...) must be released with `Py_DECREF` exactly once,
//!   on every path out of the function, unless it is returned.

use std::ffi::{c_int, c_long, c_longlong, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use factlab_core::{Factorial, EXPENSIVE_N};
use pyo3_ffi::*;

// --- the module definition ---------------------------------------------------
//
// CPython keeps pointers to these tables for the life of the process, so they
// are mutable statics, only ever named through `&raw mut`.

static mut MODULE_DEF: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"capi_leak".as_ptr(),
    m_doc: c"Workshop exercise: n! from a hand-written extension that leaks a reference.".as_ptr(),
    m_size: 0,
    m_methods: (&raw mut METHODS).cast(),
    // No Py_mod_exec slot: the module holds nothing but its function.
    m_slots: ptr::null_mut(),
    m_traverse: None,
    m_clear: None,
    m_free: None,
};

static mut METHODS: [PyMethodDef; 2] = [
    PyMethodDef {
        ml_name: c"factorial".as_ptr(),
        ml_meth: PyMethodDefPointer {
            PyCFunction: factorial,
        },
        // METH_O: exactly one positional argument, passed as a borrowed PyObject*.
        ml_flags: METH_O,
        ml_doc: c"factorial(n, /)\n--\n\nn! exactly, with the exceptions of math.factorial."
            .as_ptr(),
    },
    PyMethodDef::zeroed(),
];

/// The one symbol CPython looks up: `PyInit_<module name>`. It returns the
/// definition (multi-phase initialisation, PEP 489): CPython makes the module.
///
/// # Safety
///
/// Called by CPython's import machinery, with the GIL held.
#[allow(non_snake_case)]
#[no_mangle]
pub unsafe extern "C" fn PyInit_capi_leak() -> *mut PyObject {
    PyModuleDef_Init(&raw mut MODULE_DEF)
}

// --- the function ------------------------------------------------------------

/// `factorial(n)`: `math.factorial`'s contract. `arg` is borrowed.
unsafe extern "C" fn factorial(_module: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    let Some(n) = index_to_u64(arg) else {
        return ptr::null_mut(); // the exception is set
    };
    // A Rust panic must not unwind into CPython's C frames: catch it here.
    let run = AssertUnwindSafe(|| factlab_core::factorial(n));
    let outcome = if n >= EXPENSIVE_N {
        // A long computation that touches no Python object: let other Python
        // threads run meanwhile (Py_BEGIN_ALLOW_THREADS ... END).
        let saved = PyEval_SaveThread();
        let outcome = catch_unwind(run);
        PyEval_RestoreThread(saved);
        outcome
    } else {
        catch_unwind(run)
    };
    match outcome {
        Ok(Ok(value)) => to_py_int(&value),
        Ok(Err(error)) => {
            // n > factlab's bound: the kernel's message, as OverflowError.
            let message = CString::new(error.to_string()).unwrap_or_default();
            PyErr_SetString(PyExc_OverflowError, message.as_ptr());
            ptr::null_mut()
        }
        Err(_) => {
            PyErr_SetString(
                PyExc_RuntimeError,
                c"Rust panic in factlab's kernel".as_ptr(),
            );
            ptr::null_mut()
        }
    }
}

// --- argument conversion -----------------------------------------------------

/// Converts a borrowed object the way `math.factorial` does. `None` means an
/// exception is set: `TypeError` (no `__index__`), `ValueError` (negative) or
/// `OverflowError` (above C's `LONG_MAX`).
unsafe fn index_to_u64(arg: *mut PyObject) -> Option<u64> {
    // An int (or bool, or int subclass) is converted directly; it stays borrowed.
    if PyLong_Check(arg) != 0 {
        return long_to_u64(arg);
    }
    // Anything else must have __index__. PyNumber_Index returns a NEW
    // reference to an int, or NULL with the exception set.
    let index = PyNumber_Index(arg);
    if index.is_null() {
        return None;
    }
    let n = long_to_u64(index)?;
    Py_DECREF(index);
    Some(n)
}

/// `long` must be an int; it stays borrowed.
unsafe fn long_to_u64(long: *mut PyObject) -> Option<u64> {
    let mut overflow: c_int = 0;
    // Outside long long: `overflow` is set to +1 or -1, and no exception.
    let v = PyLong_AsLongLongAndOverflow(long, &mut overflow);
    if v == -1 && !PyErr_Occurred().is_null() {
        return None;
    }
    if overflow < 0 || (overflow == 0 && v < 0) {
        PyErr_SetString(
            PyExc_ValueError,
            c"factorial() not defined for negative values".as_ptr(),
        );
        return None;
    }
    if overflow > 0 || v > c_longlong::from(c_long::MAX) {
        PyErr_Format(
            PyExc_OverflowError,
            c"factorial() argument should not exceed %ld".as_ptr(),
            c_long::MAX,
        );
        return None;
    }
    Some(v as u64)
}

// --- the result --------------------------------------------------------------

/// A new reference to a Python int equal to `value`, or `NULL` with an
/// exception set. Built from little-endian bytes, never from a decimal string.
unsafe fn to_py_int(value: &Factorial) -> *mut PyObject {
    let bytes = value.le_bytes();
    #[cfg(not(Py_3_13))]
    {
        _PyLong_FromByteArray(bytes.as_ptr(), bytes.len(), 1, 0)
    }
    #[cfg(Py_3_13)]
    {
        PyLong_FromUnsignedNativeBytes(
            bytes.as_ptr().cast(),
            bytes.len(),
            Py_ASNATIVEBYTES_LITTLE_ENDIAN | Py_ASNATIVEBYTES_UNSIGNED_BUFFER,
        )
    }
}
