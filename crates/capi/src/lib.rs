//! # factlab-capi: a CPython extension written by hand, in Rust
//!
//! This is what PyO3's macros write for you, written out: the module is a
//! C struct (`PyModuleDef`), its functions are `extern "C"` functions that take
//! and return `*mut PyObject`, and every reference is counted by hand. The
//! declarations come from [`pyo3_ffi`] (PyO3's raw bindings to `Python.h`);
//! no PyO3 macro or safe wrapper is used. It is the shape of pyo3-ffi's
//! `string-sum` example, and of a C extension written against `Python.h`.
//!
//! ```python
//! >>> import factlab_capi
//! >>> factlab_capi.factorial(25)
//! 15511210043330985984000000
//! ```
//!
//! The rules a C-API author must keep, and where this file keeps them:
//!
//! - **Reference counting.** A function gets *borrowed* references to its
//!   arguments and returns a *new* reference (or `NULL` with an exception
//!   set). Every new reference we obtain is released with `Py_DECREF` on every
//!   path, and each `Py_DECREF` says which reference it releases.
//! - **Errors.** An error is "set an exception, return `NULL`" (or `-1` from
//!   functions returning `int`). Returning `NULL` with no exception set, or a
//!   value with one set, is a `SystemError`.
//! - **The GIL.** We hold it on entry. Around a long computation that touches
//!   no Python object we release it (`PyEval_SaveThread`, the body of C's
//!   `Py_BEGIN_ALLOW_THREADS`) so that other Python threads can run.
//! - **Panics.** A Rust panic must not unwind into CPython's C frames. The
//!   kernel runs inside `catch_unwind`, and a panic becomes `RuntimeError`.
//!   (Since Rust 1.81 a panic escaping an `extern "C"` function aborts the
//!   process instead of being undefined behaviour: a safety net, not an error
//!   path.)

use std::ffi::{c_int, c_long, c_longlong, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use factlab_core::control::INTERRUPTIBLE_N;
use factlab_core::{Error, Factorial, EXPENSIVE_N, MAX_N};
use pyo3_ffi::*;

// `factorial_progress` and the interruptible `factorial`: Python called back
// from a long call.
mod control;
// `factorials` and `factorial_str`: many values in, a string out.
mod data;
// `Factorials`: a class (a heap type) whose objects own native state.
mod iterator;

// --- the module definition -------------------------------------------------
//
// CPython keeps pointers to these tables for the life of the process and
// writes into `MODULE_DEF` (its `m_base` records the module's index), so they
// must be mutable statics with a fixed address. A `&mut` to a `static mut`
// would be unsound (two could coexist), so we never form one: the statics are
// only ever named through `&raw mut`, which makes a raw pointer directly.

static mut MODULE_DEF: PyModuleDef = PyModuleDef {
    m_base: PyModuleDef_HEAD_INIT,
    m_name: c"factlab_capi".as_ptr(),
    m_doc: c"factlab's exact factorial: a CPython extension written by hand in Rust over pyo3-ffi."
        .as_ptr(),
    // Per-module state, not statics: each module object (one per
    // sub-interpreter) gets its own, holding its own `Factorials` type. The
    // GC sees what it references through m_traverse and m_clear.
    m_size: std::mem::size_of::<iterator::ModuleState>() as Py_ssize_t,
    m_methods: (&raw mut METHODS).cast(),
    m_slots: (&raw mut SLOTS).cast(),
    m_traverse: Some(iterator::module_traverse),
    m_clear: Some(iterator::module_clear),
    m_free: Some(iterator::module_free),
};

// ANCHOR: methods
// `METH_O`: the function takes exactly one positional argument, passed as a
// borrowed `PyObject*`. The cheapest calling convention for one argument:
// no tuple, no vector of arguments, no keyword parsing.
static mut METHODS: [PyMethodDef; 7] = [
    PyMethodDef {
        ml_name: c"factorial".as_ptr(),
        ml_meth: PyMethodDefPointer {
            PyCFunction: factorial,
        },
        ml_flags: METH_O,
        ml_doc: c"factorial(n, /)\n--\n\nn! exactly, with the same value and exceptions as math.factorial."
            .as_ptr(),
    },
    PyMethodDef {
        ml_name: c"crossing".as_ptr(),
        ml_meth: PyMethodDefPointer {
            PyCFunction: crossing,
        },
        ml_flags: METH_O,
        ml_doc: c"crossing(n, /)\n--\n\nThe bare crossing: n! for 0 <= n <= 20, else 0. No other check."
            .as_ptr(),
    },
    // METH_O here too: `ns` and `n` are positional-only by construction.
    PyMethodDef {
        ml_name: c"factorials".as_ptr(),
        ml_meth: PyMethodDefPointer {
            PyCFunction: data::factorials,
        },
        ml_flags: METH_O,
        ml_doc: c"factorials(ns, /)\n--\n\n[factorial(n) for n in ns] in one call; a buffer of 64-bit integers is read in place."
            .as_ptr(),
    },
    PyMethodDef {
        ml_name: c"factorial_str".as_ptr(),
        ml_meth: PyMethodDefPointer {
            PyCFunction: data::factorial_str,
        },
        ml_flags: METH_O,
        ml_doc: c"factorial_str(n, /)\n--\n\nstr(factorial(n)), computed natively: no digit limit."
            .as_ptr(),
    },
    // METH_FASTCALL: two positional arguments as a C array, no tuple.
    PyMethodDef {
        ml_name: c"factorial_progress".as_ptr(),
        ml_meth: PyMethodDefPointer {
            PyCFunctionFast: control::factorial_progress,
        },
        ml_flags: METH_FASTCALL,
        ml_doc: c"factorial_progress(n, callback, /)\n--\n\nfactorial(n), calling callback(done, total) (GIL held) every tick and once at the end."
            .as_ptr(),
    },
    PyMethodDef {
        ml_name: c"raise_panic".as_ptr(),
        ml_meth: PyMethodDefPointer {
            PyCFunction: raise_panic,
        },
        ml_flags: METH_NOARGS,
        ml_doc: c"raise_panic()\n--\n\nTest-only: panics inside the kernel; raises RuntimeError."
            .as_ptr(),
    },
    // A zeroed entry ends the table, as in C.
    PyMethodDef::zeroed(),
];
// ANCHOR_END: methods

// Multi-phase initialisation (PEP 489): `PyInit_factlab_capi` only returns the
// definition; CPython creates the module object and then runs the slots.
const SLOTS_LEN: usize = 2 + cfg!(Py_3_12) as usize + cfg!(Py_GIL_DISABLED) as usize;
static mut SLOTS: [PyModuleDef_Slot; SLOTS_LEN] = [
    PyModuleDef_Slot {
        slot: Py_mod_exec,
        value: exec_module as *mut c_void,
    },
    // 3.12+: the module keeps no global Python state (its type lives in its
    // module state, not in a static), so each sub-interpreter,
    // even one with its own GIL, may import it. (Not in the abi3 build, made
    // for 3.10 and 3.11 too: they refuse a slot they do not know.)
    #[cfg(Py_3_12)]
    PyModuleDef_Slot {
        slot: Py_mod_multiple_interpreters,
        value: Py_MOD_PER_INTERPRETER_GIL_SUPPORTED,
    },
    // Free-threaded builds (3.13t+): nothing here relies on the GIL for
    // safety (the one shared mutable state, a Factorials', has its own Mutex),
    // so importing it must not re-enable it.
    #[cfg(Py_GIL_DISABLED)]
    PyModuleDef_Slot {
        slot: Py_mod_gil,
        value: Py_MOD_GIL_NOT_USED,
    },
    // A zeroed slot ends the table.
    PyModuleDef_Slot {
        slot: 0,
        value: ptr::null_mut(),
    },
];

// ANCHOR: init
/// The one symbol CPython looks up: `PyInit_<module name>`.
///
/// # Safety
///
/// Called by CPython's import machinery, with the GIL held, and by nothing else.
#[allow(non_snake_case)]
#[no_mangle]
pub unsafe extern "C" fn PyInit_factlab_capi() -> *mut PyObject {
    // Returns the definition itself (cast to PyObject*), not a module.
    PyModuleDef_Init(&raw mut MODULE_DEF)
}
// ANCHOR_END: init

/// `Py_mod_exec`: fills the freshly created module. Returns 0, or -1 with an
/// exception set.
unsafe extern "C" fn exec_module(module: *mut PyObject) -> c_int {
    // PyModule_AddIntConstant creates the int and stores it in the module's
    // dict: the module ends up owning the only reference, nothing to release.
    if PyModule_AddIntConstant(module, c"MAX_N".as_ptr(), MAX_N as c_long) < 0 {
        return -1;
    }
    if PyModule_AddIntConstant(module, c"EXPENSIVE_N".as_ptr(), EXPENSIVE_N as c_long) < 0 {
        return -1;
    }
    // The `Factorials` type, made here for this module (iterator.rs).
    iterator::add_type(module)
}

// --- the functions ---------------------------------------------------------

// ANCHOR: factorial
/// `factorial(n)`: `math.factorial`'s contract. `arg` is borrowed.
unsafe extern "C" fn factorial(_module: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    match index_to_u64(arg) {
        // A long call: Ctrl-C is checked every tick (control.rs). Past
        // MAX_N there is none: call_kernel's plain path refuses at once.
        Some(n) if (INTERRUPTIBLE_N..=MAX_N).contains(&n) => control::interruptible(n),
        Some(n) => call_kernel(n, factlab_core::factorial),
        None => ptr::null_mut(), // index_to_u64 has set the exception
    }
}
// ANCHOR_END: factorial

// ANCHOR: crossing
/// `crossing(n)`: the bare crossing, the cost of the mechanism itself.
///
/// Converts with `PyLong_AsUnsignedLongLong` (an `int` in 0..2**64, else the
/// exception CPython chooses) and returns `n!` or 0. The one check left is the
/// one no C-API function may skip: an exception set means return `NULL`.
unsafe extern "C" fn crossing(_module: *mut PyObject, arg: *mut PyObject) -> *mut PyObject {
    let n = PyLong_AsUnsignedLongLong(arg);
    // (unsigned long long)-1 is both a valid value and the error marker.
    if n == u64::MAX && !PyErr_Occurred().is_null() {
        return ptr::null_mut();
    }
    PyLong_FromUnsignedLongLong(factlab_core::factorial_u64(n).unwrap_or(0))
}
// ANCHOR_END: crossing

/// `raise_panic()`: the kernel panics, through the same boundary as
/// `factorial`. `METH_NOARGS` passes `NULL` as the argument.
unsafe extern "C" fn raise_panic(_module: *mut PyObject, _unused: *mut PyObject) -> *mut PyObject {
    // As if n were EXPENSIVE_N: the panic happens with the GIL released, the
    // harder of the two paths (the GIL must be taken back before we raise).
    call_kernel(EXPENSIVE_N, |_| factlab_core::testing::deliberate_panic())
}

// --- argument conversion ---------------------------------------------------

// ANCHOR: index
/// Converts a borrowed object the way `math.factorial` does, to a `u64` in
/// `0..=LONG_MAX`. `None` means an exception is set:
///
/// - not an int and no `__index__`: `TypeError` (from `PyNumber_Index`);
/// - any negative value, however large: `ValueError`;
/// - above `LONG_MAX`: `OverflowError`.
#[inline]
unsafe fn index_to_u64(arg: *mut PyObject) -> Option<u64> {
    // The hot path: an int (or bool, or int subclass) is converted directly.
    if PyLong_Check(arg) != 0 {
        return long_to_u64(arg);
    }
    // Anything else must have __index__. PyNumber_Index returns a NEW
    // reference to an int, or NULL with TypeError (float, str, ...) or with
    // whatever the object's __index__ raised.
    let index = PyNumber_Index(arg);
    if index.is_null() {
        return None;
    }
    let n = long_to_u64(index);
    // DECREF: `index` is the new reference PyNumber_Index gave us; we own it
    // on both outcomes of the conversion, so it is released on both.
    Py_DECREF(index);
    n
}

/// `long` must be an int (`PyLong_Check` true); it stays borrowed.
#[inline]
unsafe fn long_to_u64(long: *mut PyObject) -> Option<u64> {
    let mut overflow: c_int = 0;
    // Never raises for an int: a value outside long long sets `overflow` to
    // +1 or -1 and returns -1, so `v` means something only when overflow == 0.
    // -1 with an exception set would be a failure.
    let v = PyLong_AsLongLongAndOverflow(long, &mut overflow);
    if v == -1 && !PyErr_Occurred().is_null() {
        return None;
    }
    if overflow < 0 || (overflow == 0 && v < 0) {
        return raise_negative();
    }
    // `long long` is 64 bits everywhere; C `long` is 32 bits on Windows, and
    // math.factorial's bound is LONG_MAX.
    if overflow > 0 || v > c_longlong::from(c_long::MAX) {
        return raise_above_long_max();
    }
    Some(v as u64)
}

/// math.factorial's `ValueError` (also for a negative item of a buffer).
unsafe fn raise_negative<T>() -> Option<T> {
    PyErr_SetString(
        PyExc_ValueError,
        c"factorial() not defined for negative values".as_ptr(),
    );
    None
}

/// math.factorial's `OverflowError` for n > LONG_MAX.
unsafe fn raise_above_long_max<T>() -> Option<T> {
    // PyErr_Format is variadic, like printf: exactly what CPython's
    // mathmodule.c does, with the platform's LONG_MAX.
    PyErr_Format(
        PyExc_OverflowError,
        c"factorial() argument should not exceed %ld".as_ptr(),
        c_long::MAX,
    );
    None
}
// ANCHOR_END: index

// --- the kernel boundary -----------------------------------------------------

// ANCHOR: boundary
/// Runs `kernel(n)` and turns its outcome into a new reference or `NULL`.
///
/// Generic over the kernel (not a `fn` pointer) so that, for `factorial`, the
/// compiler inlines the kernel's table lookup into the hot path.
#[inline(always)]
unsafe fn call_kernel<K>(n: u64, kernel: K) -> *mut PyObject
where
    K: FnOnce(u64) -> Result<Factorial, Error>,
{
    // Small n: a table lookup. Releasing and re-taking the GIL would cost
    // more than the work, so we keep it below EXPENSIVE_N (and past MAX_N,
    // which the kernel refuses at once).
    match guarded((EXPENSIVE_N..=MAX_N).contains(&n), || kernel(n)) {
        Some(Ok(value)) => to_py_int(&value),
        Some(Err(error)) => raise(&error),
        None => ptr::null_mut(), // a panic: RuntimeError is set
    }
}

/// Runs `work` behind `catch_unwind`, with the GIL released around it when
/// `release_gil`. `None` means it panicked: `RuntimeError` is set.
///
/// This is the one boundary every call into the kernel crosses (`factorial`,
/// `factorials`, `factorial_str`): a panic is caught here, and the GIL is
/// released here when the work is large. `work` must touch no Python object.
#[inline(always)]
unsafe fn guarded<T>(release_gil: bool, work: impl FnOnce() -> T) -> Option<T> {
    // AssertUnwindSafe: `work` only reads its inputs and calls the kernel, a
    // pure function; nothing it touches can be left half-updated by a panic.
    let run = AssertUnwindSafe(work);
    let outcome = if release_gil {
        // Py_BEGIN_ALLOW_THREADS: detach this thread from the interpreter.
        // From here to PyEval_RestoreThread we must not touch any Python
        // object or call any Python API: the kernel gets Rust values and
        // returns Rust values only. catch_unwind keeps a panic from skipping
        // the RestoreThread below (we would return to Python without the GIL).
        let saved = PyEval_SaveThread();
        let outcome = catch_unwind(run);
        // Py_END_ALLOW_THREADS: wait for the GIL and re-attach.
        PyEval_RestoreThread(saved);
        outcome
    } else {
        catch_unwind(run)
    };
    match outcome {
        Ok(value) => Some(value),
        Err(payload) => {
            let what = factlab_core::panic_message(&*payload);
            set_error(
                PyExc_RuntimeError,
                &format!("Rust panic in factlab's kernel: {what}"),
            );
            None
        }
    }
}

/// The exception a refusal of the kernel becomes. Its Display is the message.
/// n > MAX_N, or n! would not fit in memory (checked before it allocated: a
/// failed allocation in Rust aborts).
unsafe fn kernel_exception(error: &Error) -> *mut PyObject {
    match error {
        Error::NoMemory { .. } => PyExc_MemoryError,
        Error::TooLarge { .. } => PyExc_OverflowError,
    }
}

/// Sets the exception a refusal of the kernel becomes; returns NULL, so that
/// a function can `return raise(&error)`.
unsafe fn raise(error: &Error) -> *mut PyObject {
    set_error(kernel_exception(error), &error.to_string());
    ptr::null_mut()
}
// ANCHOR_END: boundary

// ANCHOR: to-int
/// A new reference to a Python int equal to `value`, or `NULL` with
/// `MemoryError` set.
#[inline]
unsafe fn to_py_int(value: &Factorial) -> *mut PyObject {
    match value {
        // n <= 20: one C call, the int CPython would make.
        Factorial::U64(v) => PyLong_FromUnsignedLongLong(*v),
        // 21 <= n <= 34: 16 bytes on the stack, no allocation but the int.
        Factorial::U128(v) => int_from_le_bytes(&v.to_le_bytes()),
        // n >= 35: the limbs' own memory, viewed as bytes (no copy on
        // little-endian machines); CPython copies them into its int.
        Factorial::Limbs(limbs) => int_from_le_bytes(&factlab_core::limbs_le_bytes(limbs)),
    }
}

/// A new reference to the unsigned int whose little-endian bytes are `bytes`.
/// Never through a decimal string: building an int from bytes is a linear
/// copy, while parsing digits is far slower and refused past
/// `sys.get_int_max_str_digits()` (4300 digits by default; 1000! has 2568,
/// 2000! has 5736).
#[inline]
unsafe fn int_from_le_bytes(bytes: &[u8]) -> *mut PyObject {
    // Up to 3.12: the underscore API CPython's own modules use.
    #[cfg(all(not(Py_3_13), not(Py_LIMITED_API)))]
    {
        _PyLong_FromByteArray(bytes.as_ptr(), bytes.len(), 1, 0)
    }
    // 3.13 made it public as PyLong_FromUnsignedNativeBytes (and hid the old one).
    #[cfg(all(Py_3_13, not(Py_LIMITED_API)))]
    {
        PyLong_FromUnsignedNativeBytes(
            bytes.as_ptr().cast(),
            bytes.len(),
            Py_ASNATIVEBYTES_LITTLE_ENDIAN | Py_ASNATIVEBYTES_UNSIGNED_BUFFER,
        )
    }
    // The stable ABI (`--features abi3`: Py_LIMITED_API, one binary for
    // CPython 3.10+) has neither: PyLong_FromUnsignedNativeBytes joins it only
    // in 3.14. So we do what Python code does, `int.from_bytes(data, "little")`.
    #[cfg(Py_LIMITED_API)]
    {
        let data = PyBytes_FromStringAndSize(bytes.as_ptr().cast(), bytes.len() as Py_ssize_t);
        if data.is_null() {
            return ptr::null_mut(); // MemoryError is set
        }
        // "Os": the object `data` (borrowed by the call) and a C string. Returns
        // a new reference, or NULL with the exception from_bytes raised.
        let int = PyObject_CallMethod(
            (&raw mut PyLong_Type).cast(),
            c"from_bytes".as_ptr(),
            c"Os".as_ptr(),
            data,
            c"little".as_ptr(),
        );
        // DECREF: `data` is the new reference PyBytes_FromStringAndSize gave
        // us; the int (if any) holds its own copy of the digits.
        Py_DECREF(data);
        int
    }
}
// ANCHOR_END: to-int

/// Sets `exc` with a Rust message. PyErr_SetString wants a NUL-terminated
/// C string, so the message is copied into one (a NUL inside it, which C
/// would read as the end, is replaced first).
unsafe fn set_error(exc: *mut PyObject, message: &str) {
    let text = c_message(message);
    // PyErr_SetString copies the text into a new str: `text` may go after.
    PyErr_SetString(exc, text.as_ptr());
}

fn c_message(message: &str) -> CString {
    CString::new(message.replace('\0', "\u{fffd}")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    // The pure-Rust helpers; everything that needs a live interpreter is
    // tested from Python (tests/test_boundary.py).
    use super::*;

    #[test]
    fn c_messages_keep_their_text() {
        assert_eq!(c_message("plain").to_str(), Ok("plain"));
        assert_eq!(c_message("a\0b").to_str(), Ok("a\u{fffd}b"));
    }
}
