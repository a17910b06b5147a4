//! # The PyO3 backend
//!
//! `factorial(n)` with exactly the behaviour of `math.factorial`, written with
//! PyO3: the attribute macros generate the C-API glue (the `PyMethodDef`
//! table, argument parsing, reference counting, turning `Err` into a raised
//! exception) that `crates/capi` writes by hand.
//!
//! Built by maturin (`pip install crates/pyo3`) into the module `factlab_pyo3`.
//! Long calls that answer Ctrl-C, and `factorial_progress`: `src/control.rs`.
//! `Factorials`, an object that owns native state: `src/iterator.rs`.

mod control;
mod iterator;

use factlab_core::control::INTERRUPTIBLE_N;
use factlab_core::{
    factorial_limbs, factorial_u128, factorial_u64, limbs_le_bytes, EXPENSIVE_N, MAX_N,
};
use factlab_core::{BatchError, Error, Factorial};
use pyo3::exceptions::{PyMemoryError, PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyInt, PyList, PyString};

const NEGATIVE: &str = "factorial() not defined for negative values";

// ANCHOR: to-i64
/// Converts `n` the way `math.factorial` does: through `__index__` (so bool,
/// int subclasses and objects with `__index__` pass, float and str raise
/// TypeError), then into a C `long long`.
///
/// `__index__` is called exactly once, as `math.factorial` does: we call
/// `PyNumber_Index` (`operator.index`) ourselves and then only look at the
/// int it gave. (`n.extract::<i64>()` would call `__index__` itself, and a
/// second time whenever we asked `n` for its sign after an overflow: an
/// `__index__` that answers differently, or raises, the second time would
/// then decide the outcome.)
fn to_i64(n: &Bound<'_, PyAny>) -> PyResult<i64> {
    let py = n.py();
    // SAFETY: `n` is a live object and `py` proves the GIL is held.
    // PyNumber_Index returns a new reference to an exact int (`n` itself
    // when it is one: no copy), or NULL with the exception set, which
    // `from_owned_ptr_or_err` turns into the `PyErr`.
    let index = unsafe { Bound::from_owned_ptr_or_err(py, pyo3::ffi::PyNumber_Index(n.as_ptr()))? };
    match index.extract::<i64>() {
        Ok(v) => Ok(v),
        // Too big for a C long either way: its sign decides the exception,
        // ValueError below zero, OverflowError above (PyO3's own error).
        // `index` is an int: comparing it calls no `__index__`.
        Err(err) if err.is_instance_of::<PyOverflowError>(py) => {
            if index.lt(0)? {
                Err(PyValueError::new_err(NEGATIVE))
            } else {
                Err(past_long_max())
            }
        }
        Err(err) => Err(err),
    }
}

/// `n` as `factorial` takes it: [`to_i64`], then ValueError below zero.
fn to_u64(n: &Bound<'_, PyAny>) -> PyResult<u64> {
    u64::try_from(to_i64(n)?).map_err(|_| PyValueError::new_err(NEGATIVE))
}

/// `math.factorial`'s OverflowError past a C long.
fn past_long_max() -> PyErr {
    PyOverflowError::new_err(format!(
        "factorial() argument should not exceed {}",
        i64::MAX
    ))
}
// ANCHOR_END: to-i64

// ANCHOR: factorial
/// Find n!, exactly as math.factorial does.
///
/// Raise TypeError if n is not integral, ValueError if n is negative, and
/// OverflowError past a C long or past factlab's bound (10**8).
// `n, /`: positional-only, like math.factorial. PyO3 then skips keyword
// matching on every call.
#[pyfunction(signature = (n, /))]
fn factorial<'py>(n: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyInt>> {
    let py = n.py();
    let n = to_u64(n)?;

    // Small results: a table lookup, and PyO3 converts u64/u128 to an int.
    if let Some(v) = factorial_u64(n) {
        return Ok(v.into_pyobject(py)?);
    }
    if let Some(v) = factorial_u128(n) {
        return Ok(v.into_pyobject(py)?);
    }

    // Long calls (n >= 100,000: 10 ms to tens of seconds) without the GIL,
    // taking it back every 20 ms to let a Ctrl-C in (control.rs). Past
    // MAX_N there is no long call: the kernel refuses at once, below.
    if (INTERRUPTIBLE_N..=MAX_N).contains(&n) {
        return control::interruptible(py, n);
    }

    // Big results. For large n the work takes milliseconds to seconds: let
    // other Python threads run meanwhile. `detach` releases the GIL for the
    // closure; the closure cannot touch Python objects (the compiler checks
    // it: no `py`, no `Bound` may cross into it). For small n, releasing and
    // re-taking the GIL would cost more than the work, so we keep it (and
    // past MAX_N, which the kernel refuses at once).
    let limbs = if (EXPENSIVE_N..=MAX_N).contains(&n) {
        py.detach(|| factorial_limbs(n))
    } else {
        factorial_limbs(n)
    }
    .map_err(kernel_error)?;

    int_from_le_bytes(py, &limbs_le_bytes(&limbs))
}

/// The kernel refuses at once n past its bound (OverflowError) and an n!
/// that would not fit in memory (MemoryError: it checks before allocating,
/// since a failed allocation in Rust aborts).
fn kernel_error(err: Error) -> PyErr {
    match err {
        Error::NoMemory { .. } => PyMemoryError::new_err(err.to_string()),
        Error::TooLarge { .. } => PyOverflowError::new_err(err.to_string()),
    }
}
// ANCHOR_END: factorial

// ANCHOR: int-from-bytes
/// Builds a Python int from little-endian bytes, in linear time (going
/// through a decimal string would be quadratic).
///
/// PyO3 has no safe constructor for an int of any size (its `num-bigint`
/// feature would bring a second big-integer engine), so this is the one place
/// we call the C API ourselves, through `pyo3::ffi`, as PyO3 does for u128.
fn int_from_le_bytes<'py>(py: Python<'py>, bytes: &[u8]) -> PyResult<Bound<'py, PyInt>> {
    // The stable ABI (`--features abi3`, one binary for CPython 3.10+) has
    // neither call below: there we do what Python code does,
    // `int.from_bytes(data, "little")`: one bytes object and one method call
    // more (the matrix chapter of the book measures what that costs).
    #[cfg(Py_LIMITED_API)]
    {
        use pyo3::types::PyBytes;
        let int = py
            .get_type::<PyInt>()
            .call_method1("from_bytes", (PyBytes::new(py, bytes), "little"))?;
        Ok(int.cast_into()?)
    }
    // SAFETY: `bytes` is valid for `bytes.len()` bytes during the call, and
    // holding `py` means we hold the GIL. The call returns a new reference,
    // or NULL with an exception set, which `from_owned_ptr_or_err` turns
    // into an owned `Bound` or the `PyErr`.
    #[cfg(not(Py_LIMITED_API))]
    unsafe {
        #[cfg(not(Py_3_13))]
        let ptr = pyo3::ffi::_PyLong_FromByteArray(bytes.as_ptr(), bytes.len(), 1, 0);
        #[cfg(Py_3_13)]
        let ptr = pyo3::ffi::PyLong_FromUnsignedNativeBytes(
            bytes.as_ptr().cast(),
            bytes.len(),
            pyo3::ffi::Py_ASNATIVEBYTES_LITTLE_ENDIAN | pyo3::ffi::Py_ASNATIVEBYTES_UNSIGNED_BUFFER,
        );
        Ok(Bound::from_owned_ptr_or_err(py, ptr)?.cast_into_unchecked())
    }
}
// ANCHOR_END: int-from-bytes

// ANCHOR: factorials
/// `[factorial(n) for n in ns]`, in one call.
///
/// A buffer of 64-bit integers (`array('q')`, a numpy `int64` array) is read
/// in place; anything else is iterated once, each element converted as
/// `factorial` converts `n`. A bad element raises what `factorial` would,
/// its message prefixed with `ns[i]: `.
#[pyfunction(signature = (ns, /))]
fn factorials<'py>(ns: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyList>> {
    let py = ns.py();
    // Two phases: read every n, then run the kernel over the whole batch.
    // For a buffer the kernel runs inside the closure, over the exporter's
    // own memory, while we still hold the export.
    let results = match with_int64_buffer(ns, |values, signed| batch(py, values, signed))? {
        Some(results) => results,
        None => batch(py, &read_iterable(ns)?, false)?,
    };
    // With the GIL: one Python int per result, made as `factorial` makes it.
    // PyList::new takes the ints over (no reference count changes).
    let ints = results
        .iter()
        .map(|value| to_int(py, value))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, ints)
}

/// The kernel over the whole batch, without the GIL when the core says it
/// pays (10,000 values or more, or one n >= 1000). `signed`: `ns` holds the
/// bits of i64s (a signed buffer), which only changes how a refusal reads.
fn batch(py: Python<'_>, ns: &[u64], signed: bool) -> PyResult<Vec<Factorial>> {
    let results = if factlab_core::batch_is_expensive(ns) {
        // `ns` may be the buffer's memory: a `&[u64]` may cross into the
        // closure (it is `Send`), a `Bound` may not.
        py.detach(|| factlab_core::factorials(ns))
    } else {
        factlab_core::factorials(ns)
    };
    results.map_err(|BatchError { index, error }| {
        // A negative i64 (its sign bit set) and a value past LONG_MAX both
        // read as a u64 past MAX_N: the kernel stops there as at any n too
        // large, and we name the fault as `factorial` would.
        let n = ns[index];
        let err = match error {
            Error::TooLarge { .. } if signed && n >> 63 == 1 => PyValueError::new_err(NEGATIVE),
            Error::TooLarge { .. } if i64::try_from(n).is_err() => past_long_max(),
            _ => kernel_error(error),
        };
        at(py, index, err)
    })
}

/// Reads an iterable once: each element converted as `factorial` converts
/// `n`, then the kernel's own refusals asked at once (its bound, its memory
/// check), so that the first bad element wins whatever its fault, and a
/// generator is not consumed past it.
fn read_iterable(ns: &Bound<'_, PyAny>) -> PyResult<Vec<u64>> {
    let py = ns.py();
    let mut values = Vec::new();
    // Errors of the iteration itself (`ns` is an int, a generator raises)
    // are no element's: they pass unchanged, as in the reference.
    for item in ns.try_iter()? {
        let index = values.len();
        let n = to_u64(&item?)
            .and_then(|n| factlab_core::admit(n).map_err(kernel_error))
            .map_err(|err| at(py, index, err))?;
        values.push(n);
    }
    Ok(values)
}

/// `err` as element `index` raised it: the same exception type, the message
/// prefixed with `ns[index]: ` (pure.py's `at`). Only the four errors
/// `factorial` raises are renamed; any other (KeyboardInterrupt, an
/// `__index__`'s own RuntimeError) passes unchanged, as in the reference.
fn at(py: Python<'_>, index: usize, err: PyErr) -> PyErr {
    let renamed = err.is_instance_of::<PyTypeError>(py)
        || err.is_instance_of::<PyValueError>(py)
        || err.is_instance_of::<PyOverflowError>(py)
        || err.is_instance_of::<PyMemoryError>(py);
    if !renamed {
        return err;
    }
    // `from_type` is lazy: `type(message)` is called when it is raised.
    PyErr::from_type(err.get_type(py), format!("ns[{index}]: {}", err.value(py)))
}

/// Calls `read(values, signed)` with the 64-bit integers of `ns`'s buffer,
/// read in place; `None` when `ns` has no buffer.
///
/// PyO3's typed `PyBuffer::<i64>` / `PyBuffer::<u64>` check the format too,
/// but 0.30.1 reads the byte-order prefix backwards on little-endian
/// machines: it refuses `<q` (what a ctypes `c_int64` array exports) and
/// accepts `>q` (a big-endian numpy array, whose values it would misread).
/// So we check the format ourselves and read the untyped buffer.
#[cfg(any(not(Py_LIMITED_API), Py_3_11))]
fn with_int64_buffer<R>(
    ns: &Bound<'_, PyAny>,
    read: impl FnOnce(&[u64], bool) -> PyResult<R>,
) -> PyResult<Option<R>> {
    use pyo3::buffer::PyUntypedBuffer;
    use pyo3::exceptions::PyBufferError;
    // No buffer: known without raising (a look at the type's slot). PyPy's
    // C API lacks the function: there the TypeError below says it.
    // SAFETY: `ns` is a live object and we hold the GIL.
    #[cfg(not(PyPy))]
    if unsafe { pyo3::ffi::PyObject_CheckBuffer(ns.as_ptr()) } == 0 {
        return Ok(None);
    }
    // PyObject_GetBuffer(ns, PyBUF_FULL_RO): the exporter's memory with its
    // format, shape and strides. Until `buffer` drops (PyBuffer_Release, at
    // the end of this function) the exporter keeps that memory in place:
    // `array.append` raises BufferError meanwhile.
    let py = ns.py();
    let buffer = match PyUntypedBuffer::get(ns) {
        Ok(buffer) => buffer,
        Err(err) if err.is_instance_of::<PyTypeError>(py) => return Ok(None),
        // ctypes arrays leave `strides` NULL (the protocol's "C-contiguous"),
        // which PyO3 refuses ("strides is null"). A memoryview of `ns` fills
        // them in, and holds `ns`'s export for as long as we hold its own.
        Err(err) if err.is_instance_of::<PyBufferError>(py) => {
            PyUntypedBuffer::get(pyo3::types::PyMemoryView::from(ns)?.as_any())?
        }
        Err(err) => return Err(err),
    };
    let format = buffer.format().to_string_lossy();
    let signed = int64_layout(&format, buffer.item_size(), buffer.dimensions())?;
    let len = buffer.item_count();
    let start = buffer.buf_ptr().cast::<u64>().cast_const();
    if buffer.is_c_contiguous() && !start.is_null() && start.is_aligned() {
        // SAFETY: the export keeps `len` items of 8 bytes back to back at
        // `start` (checked: format, C-contiguous, aligned) until `buffer`
        // drops, after `read` returns; an i64 reads as the u64 of the same
        // bits. The export stops resizing, not writing: another thread that
        // writes into the array meanwhile would race with us (why PyO3 0.30
        // deprecated `PyBuffer::as_slice`). We take on that the caller does
        // not, as numpy's own loops without the GIL do.
        return read(unsafe { std::slice::from_raw_parts(start, len) }, signed).map(Some);
    }
    // Strided (`a[::2]`) or misaligned: one copy, item by item where CPython
    // says each one is (PyBuffer_GetPointer follows strides and suboffsets).
    // SAFETY: `i < len` and the format says 8-byte integers; unaligned reads.
    let copy: Vec<u64> = (0..len)
        .map(|i| unsafe { buffer.get_ptr(&[i]).cast::<u64>().read_unaligned() })
        .collect();
    read(&copy, signed).map(Some)
}

/// The abi3 build for 3.10 has no `PyBuffer`: the buffer protocol entered
/// the limited API in 3.11. It does what Python code does: `memoryview(ns)`
/// and its `tobytes()`, one copy made while the view holds the export, then
/// a second one into aligned u64s.
#[cfg(all(Py_LIMITED_API, not(Py_3_11)))]
fn with_int64_buffer<R>(
    ns: &Bound<'_, PyAny>,
    read: impl FnOnce(&[u64], bool) -> PyResult<R>,
) -> PyResult<Option<R>> {
    use pyo3::types::{PyBytes, PyMemoryView};
    let view = match PyMemoryView::from(ns) {
        Ok(view) => view,
        Err(err) if err.is_instance_of::<PyTypeError>(ns.py()) => return Ok(None),
        Err(err) => return Err(err),
    };
    let format: String = view.getattr("format")?.extract()?;
    let itemsize: usize = view.getattr("itemsize")?.extract()?;
    let signed = int64_layout(&format, itemsize, view.getattr("ndim")?.extract()?)?;
    let bytes = view.call_method0("tobytes")?.cast_into::<PyBytes>()?;
    view.call_method0("release")?;
    let (items, _) = bytes.as_bytes().as_chunks::<8>();
    let copy: Vec<u64> = items.iter().map(|item| u64::from_ne_bytes(*item)).collect();
    read(&copy, signed).map(Some)
}

/// The buffer rule of every backend (pure.py's `int64_buffer`): one
/// dimension of 8-byte items, format `q`/`l` (signed: `Ok(true)`) or `Q`/`L`
/// (`Ok(false)`) after native byte-order prefixes; any other is TypeError.
fn int64_layout(format: &str, itemsize: usize, ndim: usize) -> PyResult<bool> {
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
    Err(PyTypeError::new_err(format!(
        "factorials() reads buffers of 64-bit integers (format 'q' or 'Q', one dimension), \
         got format '{format}', itemsize {itemsize}, {ndim} dimension(s)"
    )))
}

/// One result as a Python int, made as `factorial` makes it.
fn to_int<'py>(py: Python<'py>, value: &Factorial) -> PyResult<Bound<'py, PyInt>> {
    match value {
        Factorial::U64(v) => Ok(v.into_pyobject(py)?),
        Factorial::U128(v) => Ok(v.into_pyobject(py)?),
        Factorial::Limbs(limbs) => int_from_le_bytes(py, &limbs_le_bytes(limbs)),
    }
}
// ANCHOR_END: factorials

// ANCHOR: factorial-str
/// `str(factorial(n))`, whatever `sys.get_int_max_str_digits()` says.
///
/// Raise what factorial(n) raises for a bad n.
#[pyfunction(signature = (n, /))]
fn factorial_str<'py>(n: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
    let py = n.py();
    let n = to_u64(n)?;
    // The digits, computed natively (malachite's sub-quadratic conversion, no
    // Python int on the way), without the GIL for large n as in `factorial`.
    let digits = if n >= EXPENSIVE_N {
        py.detach(|| factlab_core::factorial_digits(n))
    } else {
        factlab_core::factorial_digits(n)
    }
    .map_err(kernel_error)?;
    // `digits` is a Rust `String`: our allocation, freed when this function
    // returns. PyUnicode_FromStringAndSize copies its bytes into a new str
    // that Python owns: one copy. (`PyString::new` makes the same call but
    // panics when it fails; `from_bytes` gives the MemoryError that `str()`
    // would raise.) No copy would need the str's own buffer,
    // `PyUnicode_New(len, 127)` and then the digits written into
    // `PyUnicode_DATA`: neither is in the limited API (abi3), and the kernel
    // would have to write into a buffer we give it instead of its `String`.
    PyString::from_bytes(py, digits.as_bytes())
}
// ANCHOR_END: factorial-str

// ANCHOR: crossing
/// The bare crossing: n! if n <= 20, else 0, with only PyO3's own conversion
/// of n to a u64. The benchmark compares it with factorial to show what
/// exactness and validation cost.
#[pyfunction(signature = (n, /))]
fn crossing(n: u64) -> u64 {
    factorial_u64(n).unwrap_or(0)
}
// ANCHOR_END: crossing

// ANCHOR: raise-panic
/// Test-only: panics inside the kernel. PyO3 catches the panic at the
/// boundary and raises `pyo3_runtime.PanicException` (a BaseException), so
/// the panic never unwinds into the interpreter's C frames.
#[pyfunction]
fn raise_panic() -> PyResult<()> {
    factlab_core::testing::deliberate_panic()
        .map(drop)
        .map_err(|err| PyOverflowError::new_err(err.to_string()))
}
// ANCHOR_END: raise-panic

// ANCHOR: module
/// The compiled module, `factlab_pyo3`: the name `import` looks for (`PyInit_factlab_pyo3`).
#[pymodule(gil_used = false)]
mod factlab_pyo3 {
    #[pymodule_export]
    use super::control::factorial_progress;
    #[pymodule_export]
    use super::iterator::Factorials;
    #[pymodule_export]
    use super::{crossing, factorial, factorial_str, factorials, raise_panic};
}
// ANCHOR_END: module
