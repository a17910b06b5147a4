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
//! - Its `buffer::PyBuffer` is the one PyO3 inherited, and still reads the
//!   byte-order prefix right ('<q' is native on x86), where PyO3 0.30.1 has
//!   it backwards. But `PyBuffer::get` *asserts* that the exporter filled in
//!   `strides` (a panic for a ctypes array), and, like every object of the
//!   crate, its `Drop` takes the GIL again: we go through a memoryview and
//!   release the buffer with the GIL we hold (`release_ref`).

use std::ffi::CStr;
use std::ffi::{c_int, c_long, c_longlong, c_uchar};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use control::factorial_progress;
use cpython::buffer::PyBuffer;
use cpython::{
    exc, py_fn, ObjectProtocol, PyDrop, PyErr, PyList, PyModule, PyObject, PyResult, Python,
    PythonObject, ToPyObject,
};
use factlab_core::control::INTERRUPTIBLE_N;
use factlab_core::{BatchError, Error, Factorial, EXPENSIVE_N, MAX_N};
use python3_sys as ffi;

mod control;
mod iterator;

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
        (
            "factorials",
            py_fn!(py, factorials(ns: &PyObject)),
            FACTORIALS_DOC,
        ),
        (
            "factorial_str",
            py_fn!(py, factorial_str(n: &PyObject)),
            FACTORIAL_STR_DOC,
        ),
        (
            "factorial_progress",
            py_fn!(py, factorial_progress(n: &PyObject, callback: &PyObject)),
            control::FACTORIAL_PROGRESS_DOC,
        ),
        ("crossing", py_fn!(py, crossing(n: u64)), CROSSING_DOC),
        ("raise_panic", py_fn!(py, raise_panic()), RAISE_PANIC_DOC),
    ];
    for (name, function, doc) in functions {
        set_doc(&function, doc);
        m.add(py, name, function)?;
    }
    // The class: its type object is made (once, static) and added here.
    m.add_class::<iterator::Factorials>(py)?;
    m.add(py, "MAX_N", MAX_N)?;
    m.add(py, "EXPENSIVE_N", EXPENSIVE_N)?;
    Ok(())
}
// ANCHOR_END: module

// The docstrings, in the form CPython reads a builtin's signature from
// (`help()`, `inspect.signature`): "name(params)\n--\n\n" then the text.
const FACTORIAL_DOC: &CStr =
    c"factorial(n, /)\n--\n\nFind n!, exactly as math.factorial does (the Rust kernel, through rust-cpython).";
const FACTORIALS_DOC: &CStr =
    c"factorials(ns, /)\n--\n\n[factorial(n) for n in ns] in one call; a buffer of 64-bit integers is read in place.";
const FACTORIAL_STR_DOC: &CStr =
    c"factorial_str(n, /)\n--\n\nstr(factorial(n)), whatever sys.get_int_max_str_digits() says.";
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
    // A long call hands control back every tick, to let Ctrl-C in.
    if (INTERRUPTIBLE_N..=MAX_N).contains(&n) {
        return control::interruptible(py, n);
    }
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
        return Err(negative(py));
    }
    if overflow > 0 || v > c_longlong::from(c_long::MAX) {
        return Err(past_long_max(py));
    }
    Ok(v as u64)
}

fn negative(py: Python) -> PyErr {
    PyErr::new::<exc::ValueError, _>(py, "factorial() not defined for negative values")
}

fn past_long_max(py: Python) -> PyErr {
    PyErr::new::<exc::OverflowError, _>(
        py,
        format!("factorial() argument should not exceed {}", c_long::MAX),
    )
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
    let expensive = (EXPENSIVE_N..=MAX_N).contains(&n);
    match guarded(py, expensive, move || kernel(n))? {
        Ok(value) => to_py_int(py, &value),
        Err(error) => Err(kernel_error(py, error)),
    }
}

/// Runs native `work`, without the GIL when `release`, and turns a panic
/// into RuntimeError.
fn guarded<T: Send>(py: Python, release: bool, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    // AssertUnwindSafe: our closures only read their inputs; nothing they
    // leave half-done is looked at after a panic.
    let run = AssertUnwindSafe(work);
    let outcome = if release {
        // allow_threads releases the GIL around the closure; the `Send` bound
        // keeps the `Python` token (and so every Python object) out of it.
        // The catch_unwind must be inside: allow_threads does not restore the
        // GIL if its closure unwinds.
        py.allow_threads(move || catch_unwind(run))
    } else {
        catch_unwind(run)
    };
    outcome.map_err(|payload| {
        PyErr::new::<exc::RuntimeError, _>(
            py,
            format!(
                "Rust panic in factlab's kernel: {}",
                factlab_core::panic_message(&*payload)
            ),
        )
    })
}

/// The kernel refused: past MAX_N, or n! would not fit in memory.
fn kernel_error(py: Python, error: Error) -> PyErr {
    match error {
        Error::NoMemory { .. } => PyErr::new::<exc::MemoryError, _>(py, error.to_string()),
        Error::TooLarge { .. } => PyErr::new::<exc::OverflowError, _>(py, error.to_string()),
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

// ANCHOR: factorials
/// `factorials(ns)`: `[factorial(n) for n in ns]` in one call.
fn factorials(py: Python, ns: &PyObject) -> PyResult<PyObject> {
    // Read every n, then run the kernel over the whole batch. For a buffer,
    // the kernel runs inside the closure, over the exporter's own memory,
    // while the export is held.
    let results = match with_int64_buffer(py, ns, |values, signed| batch(py, values, signed))? {
        Some(results) => results,
        None => batch(py, &read_iterable(py, ns)?, false)?,
    };
    new_list(py, &results)
}

/// The kernel over the whole batch, without the GIL when the core says it
/// pays (10,000 values or more, or one n >= 1000), panics caught.
/// `signed`: `ns` holds the bits of i64s (a signed buffer).
fn batch(py: Python, ns: &[u64], signed: bool) -> PyResult<Vec<Factorial>> {
    let expensive = factlab_core::batch_is_expensive(ns);
    // `ns` may be the buffer's memory: a `&[u64]` is `Send`, a `Python` is not.
    let outcome = guarded(py, expensive, || factlab_core::factorials(ns))?;
    outcome.map_err(|BatchError { index, error }| {
        // A negative i64 (its sign bit set) and a value past LONG_MAX both
        // read as a u64 past MAX_N: the kernel stops there as at any n too
        // large, and we name the fault as `factorial` would.
        let n = ns[index];
        let err = match error {
            Error::TooLarge { .. } if signed && n >> 63 == 1 => negative(py),
            Error::TooLarge { .. } if c_long::try_from(n).is_err() => past_long_max(py),
            _ => kernel_error(py, error),
        };
        at(py, index, err)
    })
}

/// Reads an iterable once: each element converted as `factorial` converts
/// `n`, then the kernel's own refusals asked at once (its bound, its memory
/// check), so that the first bad element wins whatever its fault, and a
/// generator is not consumed past it.
fn read_iterable(py: Python, ns: &PyObject) -> PyResult<Vec<u64>> {
    let mut values = Vec::new();
    // Errors of the iteration itself (`ns` is an int, a generator raises)
    // are no element's: they pass unchanged, as in the reference.
    for item in ns.iter(py)? {
        let item = item?;
        let index = values.len();
        let n = index_to_u64(py, &item);
        item.release_ref(py); // with the GIL we hold: no PyGILState_Ensure
        let n = n
            .and_then(|n| factlab_core::admit(n).map_err(|error| kernel_error(py, error)))
            .map_err(|err| at(py, index, err))?;
        values.push(n);
    }
    Ok(values)
}

/// `err` as element `index` raised it: the same exception type, the message
/// prefixed with `ns[index]: ` (pure.py's `at`). Only the four errors
/// `factorial` raises are renamed; any other passes unchanged.
fn at(py: Python, index: usize, mut err: PyErr) -> PyErr {
    let renamed = [
        py.get_type::<exc::TypeError>(),
        py.get_type::<exc::ValueError>(),
        py.get_type::<exc::OverflowError>(),
        py.get_type::<exc::MemoryError>(),
    ];
    if !renamed.iter().any(|kind| err.matches(py, kind)) {
        return err;
    }
    let message = match err.instance(py).str(py) {
        Ok(message) => format!("ns[{index}]: {}", message.to_string_lossy(py)),
        Err(err) => return err,
    };
    // Lazy, as `PyErr::new`: `type(message)` is called when it is raised.
    PyErr::new_lazy_init(
        err.get_type(py),
        Some(message.to_py_object(py).into_object()),
    )
}

/// Calls `read(values, signed)` with the 64-bit integers of `ns`'s buffer,
/// read in place; `None` when `ns` has no buffer.
fn with_int64_buffer<R>(
    py: Python,
    ns: &PyObject,
    read: impl FnOnce(&[u64], bool) -> PyResult<R>,
) -> PyResult<Option<R>> {
    // SAFETY (all three blocks): we hold the GIL and `ns` is a live object.
    // No buffer: known without raising (a look at the type's slot).
    if unsafe { ffi::PyObject_CheckBuffer(ns.as_ptr()) } == 0 {
        return Ok(None);
    }
    // The crate's `PyBuffer::get` *asserts* that the exporter filled in
    // `strides`, and ctypes arrays leave them NULL (the protocol's
    // "C-contiguous"): a panic. A memoryview of `ns` fills them in, and
    // holds `ns`'s export while we hold its own. NULL: TypeError, no buffer.
    let view =
        unsafe { PyObject::from_owned_ptr_opt(py, ffi::PyMemoryView_FromObject(ns.as_ptr())) };
    let Some(view) = view else {
        let err = PyErr::fetch(py);
        if err.matches(py, py.get_type::<exc::TypeError>()) {
            return Ok(None);
        }
        return Err(err);
    };
    // PyObject_GetBuffer(view, PyBUF_FULL_RO). The export holds its own
    // reference to the view, so ours can go.
    let buffer = PyBuffer::get(py, &view);
    view.release_ref(py);
    let buffer = buffer?;
    let outcome = read_int64s(py, &buffer, read);
    // PyBuffer_Release with the GIL we hold (a plain drop would take it
    // again with PyGILState_Ensure). Until here `array.append` on the
    // exporter raised BufferError.
    buffer.release_ref(py);
    outcome.map(Some)
}

/// The values of a held buffer: in place when C-contiguous, else one copy.
fn read_int64s<R>(
    py: Python,
    buffer: &PyBuffer,
    read: impl FnOnce(&[u64], bool) -> PyResult<R>,
) -> PyResult<R> {
    let format = buffer.format().to_string_lossy();
    let signed = int64_layout(py, &format, buffer.item_size(), buffer.dimensions())?;
    let len = buffer.item_count();
    let start = buffer.buf_ptr().cast::<u64>().cast_const();
    if buffer.is_c_contiguous() && !start.is_null() && start.is_aligned() {
        // SAFETY: the export keeps `len` items of 8 bytes back to back at
        // `start` (checked: format, C-contiguous, aligned) until our caller
        // releases it, after `read` returns; an i64 reads as the u64 of the
        // same bits. The crate's `as_slice` gives `ReadOnlyCell`s, which the
        // kernel does not take. The export stops resizing, not writing: we
        // take on that no other thread writes into the array meanwhile.
        return read(unsafe { std::slice::from_raw_parts(start, len) }, signed);
    }
    // Strided or misaligned: one copy, item by item where CPython says each
    // one is (PyBuffer_GetPointer). (`to_vec::<u64>` would refuse format 'q'.)
    // SAFETY: `i < len` and the format says 8-byte integers; unaligned reads.
    let copy: Vec<u64> = (0..len)
        .map(|i| unsafe { buffer.get_ptr(&[i]).cast::<u64>().read_unaligned() })
        .collect();
    read(&copy, signed)
}

/// The buffer rule of every backend (pure.py's `int64_buffer`): one
/// dimension of 8-byte items, format `q`/`l` (signed: `Ok(true)`) or `Q`/`L`
/// (`Ok(false)`) after native byte-order prefixes; any other is TypeError.
fn int64_layout(py: Python, format: &str, itemsize: usize, ndim: usize) -> PyResult<bool> {
    #[cfg(target_endian = "little")]
    const NATIVE: [char; 3] = ['@', '=', '<'];
    #[cfg(target_endian = "big")]
    const NATIVE: [char; 3] = ['@', '=', '>'];
    if ndim == 1 && itemsize == 8 {
        match format.trim_start_matches(NATIVE) {
            "q" | "l" => return Ok(true),
            "Q" | "L" => return Ok(false),
            _ => {}
        }
    }
    Err(PyErr::new::<exc::TypeError, _>(
        py,
        format!(
            "factorials() reads buffers of 64-bit integers (format 'q' or 'Q', one dimension), \
             got format '{format}', itemsize {itemsize}, {ndim} dimension(s)"
        ),
    ))
}

/// A list of the results as ints. `PyList::new(py, &[PyObject])` would add a
/// reference to each int, and the `Vec` holding ours would then drop each
/// one with a `PyGILState_Ensure`: instead each int's reference goes to the
/// list (`set_item` steals it).
fn new_list(py: Python, results: &[Factorial]) -> PyResult<PyObject> {
    // SAFETY: we hold the GIL. PyList_New returns a new reference to a list
    // of `len` empty (NULL) slots, or NULL with MemoryError set; a list with
    // empty slots may be freed (list_dealloc skips them).
    let list = unsafe {
        let len = results.len() as ffi::Py_ssize_t;
        PyObject::from_owned_ptr_opt(py, ffi::PyList_New(len))
            .ok_or_else(|| PyErr::fetch(py))?
            .unchecked_cast_into::<PyList>()
    };
    for (i, value) in results.iter().enumerate() {
        match to_py_int(py, value) {
            Ok(int) => list.set_item(py, i, int),
            Err(err) => {
                list.release_ref(py);
                return Err(err);
            }
        }
    }
    Ok(list.into_object())
}
// ANCHOR_END: factorials

// ANCHOR: factorial-str
/// `factorial_str(n)`: `str(factorial(n))`, whatever
/// `sys.get_int_max_str_digits()` says; a bad n raises what `factorial` does.
fn factorial_str(py: Python, n: &PyObject) -> PyResult<PyObject> {
    let n = index_to_u64(py, n)?;
    let expensive = (EXPENSIVE_N..=MAX_N).contains(&n);
    // The digits, computed natively (no Python int on the way), without the
    // GIL for large n, a panic caught, as for `factorial`.
    let digits = guarded(py, expensive, move || factlab_core::factorial_digits(n))?
        .map_err(|error| kernel_error(py, error))?;
    // `digits` is a Rust `String`, freed when we return; CPython copies its
    // bytes into a new str that Python owns: one copy. The crate's
    // `PyString::new` makes the same call but panics when it fails (a
    // SystemError for the caller); called directly, a failed allocation is
    // the MemoryError that `str()` would raise. No copy at all would need
    // the kernel to write into the str's own buffer (`PyUnicode_New`, then
    // `PyUnicode_DATA`): outside the limited API, and rust-cpython has no
    // abi3 build anyway.
    // SAFETY: we hold the GIL; CPython reads `len` bytes of valid UTF-8
    // (ASCII digits) and returns a new reference or NULL with the error set.
    unsafe {
        let str = ffi::PyUnicode_FromStringAndSize(
            digits.as_ptr().cast(),
            digits.len() as ffi::Py_ssize_t,
        );
        PyObject::from_owned_ptr_opt(py, str).ok_or_else(|| PyErr::fetch(py))
    }
}
// ANCHOR_END: factorial-str
