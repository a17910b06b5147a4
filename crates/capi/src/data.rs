//! Two shapes beyond one int: many values in one call (`factorials`) and a
//! decimal string out (`factorial_str`).
//!
//! The rules of lib.rs hold here too: arguments are borrowed, results are new
//! references, every other reference we obtain is released on every path, and
//! an error is "set an exception, return `NULL`". What is new:
//!
//! - **Buffers.** `PyObject_GetBuffer` lends us the memory of an `array`, a
//!   numpy array or a `memoryview`: no Python object per element. The loan
//!   (the "export") must be returned with `PyBuffer_Release`, on every path:
//!   [`Export`] does it in `Drop`. While we hold it, the exporter refuses to
//!   resize (`array.append` raises `BufferError`), so its memory stays put.
//! - **Iterables.** `PyObject_GetIter` + `PyIter_Next`: every item is a new
//!   reference we release after reading it.
//! - **Strings.** A `str` is made from the kernel's ASCII digits with one copy.

use std::ffi::c_long;
use std::ptr;

use factlab_core::{Factorial, EXPENSIVE_N, MAX_N};
use pyo3_ffi::*;

use crate::{
    guarded, index_to_u64, kernel_exception, raise, raise_above_long_max, raise_negative,
    set_error, to_py_int,
};

// ANCHOR: factorials
/// `factorials(ns)`: `[factorial(n) for n in ns]` in one call. `ns` is
/// borrowed: we never DECREF it.
pub(crate) unsafe extern "C" fn factorials(
    _module: *mut PyObject,
    ns: *mut PyObject,
) -> *mut PyObject {
    match from_buffer(ns) {
        Some(list) => list, // a buffer: read in place, or refused (NULL)
        None => from_iterable(ns),
    }
}

/// Any other object: iterated exactly once (a generator is consumed once).
unsafe fn from_iterable(ns: *mut PyObject) -> *mut PyObject {
    // A NEW reference to an iterator (for an iterator, itself with one more
    // reference), or NULL with TypeError ("'int' object is not iterable").
    let iter = PyObject_GetIter(ns);
    if iter.is_null() {
        return ptr::null_mut();
    }
    let ns = read_items(iter);
    // DECREF: the iterator PyObject_GetIter gave us, on both outcomes.
    Py_DECREF(iter);
    match ns {
        Some(ns) => batch(&ns),
        None => ptr::null_mut(), // read_items set the exception
    }
}

/// Every item of `iter` (borrowed), converted as `factorial(n)` converts n.
/// `None`: an exception is set, with the bad item's index in its message.
unsafe fn read_items(iter: *mut PyObject) -> Option<Vec<u64>> {
    let mut ns = Vec::new();
    loop {
        // A NEW reference to the next item, or NULL: the end (no exception
        // set) or an error raised by the iterator (a generator's body).
        let item = PyIter_Next(iter);
        if item.is_null() {
            if PyErr_Occurred().is_null() {
                return Some(ns);
            }
            return failed_at(ns.len());
        }
        // The same conversion as factorial (TypeError, ValueError,
        // OverflowError), then the kernel's own refusals, so that the first
        // bad element in order is the one reported.
        let n = index_to_u64(item).filter(|&n| kernel_accepts(n));
        // DECREF: the item PyIter_Next gave us; we keep its value, a u64.
        Py_DECREF(item);
        match n {
            Some(n) => ns.push(n),
            None => return failed_at(ns.len()),
        }
    }
}

/// The kernel's refusals for one n, checked while reading (the kernel checks
/// again): n > MAX_N is OverflowError, n! too big for the memory left is
/// MemoryError (the check reads /proc only for a huge n). `false`: set.
unsafe fn kernel_accepts(n: u64) -> bool {
    match factlab_core::admit(n) {
        Ok(_) => true,
        Err(error) => {
            set_error(kernel_exception(&error), &error.to_string());
            false
        }
    }
}

// ANCHOR: buffer
/// `Some(list or NULL)` when `ns` exports a buffer, `None` when it does not.
///
/// We ask for `PyBUF_STRIDES | PyBUF_FORMAT`: shape, strides and format, and
/// any layout. With `PyBUF_ND` (C-contiguous only), numpy's `a[::2]` would
/// fail with BufferError; with strides we read a contiguous buffer in place
/// and walk a strided one by its strides into one copy.
#[cfg(any(not(Py_LIMITED_API), Py_3_11))]
unsafe fn from_buffer(ns: *mut PyObject) -> Option<*mut PyObject> {
    if PyObject_CheckBuffer(ns) == 0 {
        return None;
    }
    let mut view = Py_buffer::new();
    // On success the view holds a NEW reference to the exporter (view.obj)
    // and the exporter counts one more export. On failure: NULL, nothing held.
    if PyObject_GetBuffer(ns, &mut view, PyBUF_STRIDES | PyBUF_FORMAT) < 0 {
        return Some(ptr::null_mut());
    }
    // From here every return releases it. The guard borrows `view` rather
    // than moving it: some exporters (bytes) point view.shape and
    // view.strides into the Py_buffer itself, so it must not move.
    let view = Export(&mut view);
    let format = if view.0.format.is_null() {
        &b"B"[..] // NULL means unsigned bytes
    } else {
        std::ffi::CStr::from_ptr(view.0.format).to_bytes()
    };
    let Some(signed) = int64_format(format, view.0.itemsize, view.0.ndim as isize) else {
        return Some(ptr::null_mut()); // TypeError is set
    };
    Some(from_words(&view.words(), signed))
    // `view` drops here: PyBuffer_Release, after the last read of its memory.
}

/// A buffer export we hold, released when the guard goes out of scope.
#[cfg(any(not(Py_LIMITED_API), Py_3_11))]
struct Export<'a>(&'a mut Py_buffer);

#[cfg(any(not(Py_LIMITED_API), Py_3_11))]
impl Drop for Export<'_> {
    fn drop(&mut self) {
        // Ends the export (the exporter may resize again) and DECREFs
        // view.obj, the reference GetBuffer took. Runs with the GIL held:
        // every Export lives in a function that holds it.
        unsafe { PyBuffer_Release(self.0) }
    }
}

#[cfg(any(not(Py_LIMITED_API), Py_3_11))]
impl Export<'_> {
    /// The items (1-D, 8 bytes each) as u64 words: the exporter's memory
    /// itself when contiguous and aligned, else one copy walked by the
    /// strides (`a[::2]`, `a[::-1]`, a cast memoryview at an odd address).
    /// The borrow ties the slice to the guard: it cannot outlive the release.
    unsafe fn words(&self) -> std::borrow::Cow<'_, [u64]> {
        use std::borrow::Cow;
        let view = &*self.0;
        // ndim == 1: shape and strides have one entry each. An exporter may
        // still leave them NULL (ctypes arrays leave strides NULL): NULL
        // strides mean C-contiguous, a NULL shape means len / itemsize items.
        let len = if view.shape.is_null() {
            (view.len / view.itemsize) as usize
        } else {
            *view.shape as usize
        };
        let stride = if view.strides.is_null() {
            view.itemsize
        } else {
            *view.strides // in bytes, may be negative
        };
        let first = view.buf.cast::<u8>().cast_const();
        if len == 0 {
            Cow::Borrowed(&[]) // buf may be NULL: no slice over it
        } else if stride == 8 && first.cast::<u64>().is_aligned() {
            Cow::Borrowed(std::slice::from_raw_parts(first.cast(), len))
        } else {
            let at = |i: usize| first.offset(i as isize * stride).cast::<u64>();
            Cow::Owned((0..len).map(|i| at(i).read_unaligned()).collect())
        }
    }
}
// ANCHOR_END: buffer

/// The abi3 build targets CPython 3.10, whose limited API has no buffer
/// protocol (it joined in 3.11): we ask Python for `memoryview(ns)` and its
/// `tobytes()`, one copy, C order whatever the strides. The memoryview holds
/// the export (the exporter's lock) until we drop it, after the copy.
#[cfg(all(Py_LIMITED_API, not(Py_3_11)))]
unsafe fn from_buffer(ns: *mut PyObject) -> Option<*mut PyObject> {
    // A NEW reference to a memoryview, or NULL: TypeError when `ns` has no
    // buffer (then we iterate it), another error from the exporter.
    let view = PyMemoryView_FromObject(ns);
    if view.is_null() {
        if PyErr_ExceptionMatches(PyExc_TypeError) == 0 {
            return Some(ptr::null_mut());
        }
        PyErr_Clear();
        return None;
    }
    let words = copy_words(view);
    // DECREF: our memoryview, the only reference: this ends the export.
    Py_DECREF(view);
    Some(match words {
        Some((words, signed)) => from_words(&words, signed),
        None => ptr::null_mut(),
    })
}

/// The items of a memoryview (borrowed) as u64 words, copied; `None`: set.
#[cfg(all(Py_LIMITED_API, not(Py_3_11)))]
unsafe fn copy_words(view: *mut PyObject) -> Option<(Vec<u64>, bool)> {
    let format = attribute(view, c"format", |s| {
        let mut size: Py_ssize_t = 0;
        let text = PyUnicode_AsUTF8AndSize(s, &mut size); // borrowed from `s`
        (!text.is_null()).then(|| std::slice::from_raw_parts(text.cast(), size as usize).to_vec())
    })?;
    let itemsize = attribute(view, c"itemsize", |i| Some(PyLong_AsSsize_t(i)))?;
    let ndim = attribute(view, c"ndim", |i| Some(PyLong_AsSsize_t(i)))?;
    let signed = int64_format(&format, itemsize, ndim)?;
    let words = attribute(view, c"tobytes", |method| {
        // A NEW bytes object: the copy; its memory is read (unaligned) once more.
        let bytes = PyObject_CallNoArgs(method);
        if bytes.is_null() {
            return None;
        }
        let data = PyBytes_AsString(bytes).cast::<u8>().cast_const();
        let len = PyBytes_Size(bytes) as usize / 8;
        let words = (0..len).map(|i| data.add(8 * i).cast::<u64>().read_unaligned());
        let words = words.collect();
        Py_DECREF(bytes); // DECREF: the bytes, read into our Vec
        Some(words)
    })?;
    Some((words, signed))
}

/// `read(getattr(object, name))`; the attribute, a NEW reference, is
/// released after `read`. `None`: an exception is set.
#[cfg(all(Py_LIMITED_API, not(Py_3_11)))]
unsafe fn attribute<T>(
    object: *mut PyObject,
    name: &std::ffi::CStr,
    read: impl FnOnce(*mut PyObject) -> Option<T>,
) -> Option<T> {
    let value = PyObject_GetAttrString(object, name.as_ptr());
    if value.is_null() {
        return None;
    }
    let read = read(value);
    Py_DECREF(value); // DECREF: the attribute GetAttrString gave us
    read.filter(|_| PyErr_Occurred().is_null())
}

/// `Some(signed)` for a buffer of 64-bit integers in one dimension (format
/// `q`/`l` signed, `Q`/`L` unsigned, optionally with a native byte-order
/// prefix); any other buffer (floats, bytes, 32-bit, 2-D) is a TypeError.
unsafe fn int64_format(format: &[u8], itemsize: isize, ndim: isize) -> Option<bool> {
    let native: &[u8] = if cfg!(target_endian = "little") {
        b"@=<"
    } else {
        b"@=>"
    };
    let code = &format[format.iter().take_while(|c| native.contains(c)).count()..];
    let signed = match code {
        b"q" | b"l" => Some(true),
        b"Q" | b"L" => Some(false),
        _ => None,
    };
    match signed {
        Some(signed) if ndim == 1 && itemsize == 8 => Some(signed),
        _ => {
            let format = String::from_utf8_lossy(format);
            set_error(
                PyExc_TypeError,
                &format!(
                    "factorials() reads buffers of 64-bit integers (format 'q' or 'Q', one \
                     dimension), got format '{format}', itemsize {itemsize}, {ndim} dimension(s)"
                ),
            );
            None
        }
    }
}

/// The buffer's words, checked in order as `factorial` checks n, then the
/// kernel. Nothing here makes a Python object per element.
unsafe fn from_words(words: &[u64], signed: bool) -> *mut PyObject {
    for (i, &word) in words.iter().enumerate() {
        let checked = if signed && (word as i64) < 0 {
            raise_negative()
        } else if word > c_long::MAX as u64 {
            raise_above_long_max()
        } else {
            Some(word).filter(|&n| kernel_accepts(n))
        };
        if checked.is_none() {
            failed_at::<()>(i);
            return ptr::null_mut();
        }
    }
    // Every word is now a valid n: a non-negative i64 has the same bits as
    // the u64, so a signed buffer is passed as it is, without a conversion.
    batch(words)
}

/// Checked values in, a new list out (or NULL with the exception set).
unsafe fn batch(ns: &[u64]) -> *mut PyObject {
    // The GIL is released for a long batch or a big n: the kernel reads only
    // `ns` (our Vec, or a buffer whose export we hold) and returns Rust values.
    // The export stops a resize, not a write: another thread may assign an
    // item meanwhile, a data race as it would be in C (numpy's GIL-free loops
    // live with the same). Every word is still a u64 the kernel re-checks.
    match guarded(factlab_core::batch_is_expensive(ns), || {
        factlab_core::factorials(ns)
    }) {
        Some(Ok(values)) => new_list(&values),
        Some(Err(refused)) => {
            // Display of BatchError: "ns[i]: <the kernel's message>".
            set_error(kernel_exception(&refused.error), &refused.to_string());
            ptr::null_mut()
        }
        None => ptr::null_mut(), // a panic: RuntimeError is set
    }
}

/// A NEW list holding one new int per value.
unsafe fn new_list(values: &[Factorial]) -> *mut PyObject {
    // PyList_New(len) makes `len` empty (NULL) slots, to be filled before
    // anyone else sees the list.
    let list = PyList_New(values.len() as Py_ssize_t);
    if list.is_null() {
        return ptr::null_mut(); // MemoryError is set
    }
    for (i, value) in values.iter().enumerate() {
        let int = to_py_int(value); // a NEW reference, or NULL
        if int.is_null() {
            // DECREF: our list; its deallocation skips the NULL slots and
            // releases the ints already stored.
            Py_DECREF(list);
            return ptr::null_mut();
        }
        // STOLEN: the list now owns `int`'s reference; we must not DECREF it.
        #[cfg(not(Py_LIMITED_API))]
        PyList_SET_ITEM(list, i as Py_ssize_t, int);
        // The macro is not in the limited API; PyList_SetItem steals the
        // same way (and cannot fail here: a list, an index in range).
        #[cfg(Py_LIMITED_API)]
        PyList_SetItem(list, i as Py_ssize_t, int);
    }
    list
}

/// Re-raises the exception just set as the same type, its message prefixed
/// with `ns[index]: `, like the reference's `type(exc)(f"ns[{i}]: {exc}")`.
/// Only factorial's own four types are rewritten; any other exception (a
/// generator's RuntimeError, KeyboardInterrupt...) passes unchanged.
unsafe fn failed_at<T>(index: usize) -> Option<T> {
    let ours = [
        PyExc_TypeError,
        PyExc_ValueError,
        PyExc_OverflowError,
        PyExc_MemoryError,
    ];
    // PyErr_ExceptionMatches: the exception set is one of them or a subclass.
    if !ours.iter().any(|&kind| PyErr_ExceptionMatches(kind) != 0) {
        return None;
    }
    let mut kind = ptr::null_mut();
    let mut value = ptr::null_mut();
    let mut traceback = ptr::null_mut();
    // Takes the exception out (the error indicator is now clear): three NEW
    // references, any of which may be NULL. Normalizing turns `value` into
    // an instance of `kind` (it may still be a bare message string).
    // (3.12 has PyErr_GetRaisedException, one object; this works in all.)
    #[allow(deprecated)]
    {
        PyErr_Fetch(&mut kind, &mut value, &mut traceback);
        PyErr_NormalizeException(&mut kind, &mut value, &mut traceback);
    }
    // %zd takes a Py_ssize_t, %S calls str() on the object: the message.
    PyErr_Format(kind, c"ns[%zd]: %S".as_ptr(), index as Py_ssize_t, value);
    // XDECREF: the three references PyErr_Fetch gave us (PyErr_Format took
    // its own). The old traceback goes: the new exception starts here.
    Py_XDECREF(kind);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    None
}
// ANCHOR_END: factorials

// ANCHOR: factorial-str
/// `factorial_str(n)`: `str(factorial(n))`, the digits computed by the
/// kernel (no Python int, so no `sys.get_int_max_str_digits()` limit).
pub(crate) unsafe extern "C" fn factorial_str(
    _module: *mut PyObject,
    arg: *mut PyObject,
) -> *mut PyObject {
    let Some(n) = index_to_u64(arg) else {
        return ptr::null_mut(); // index_to_u64 has set the exception
    };
    // As for factorial: the GIL is released for a big n, around the product
    // and its conversion to decimal (10^5! has 456,574 digits).
    let release_gil = (EXPENSIVE_N..=MAX_N).contains(&n);
    match guarded(release_gil, || factlab_core::factorial_digits(n)) {
        Some(Ok(digits)) => ascii_str(&digits),
        Some(Err(error)) => raise(&error),
        None => ptr::null_mut(), // a panic: RuntimeError is set
    }
}

/// A NEW `str` holding `digits` (ASCII), or NULL with MemoryError set.
///
/// The kernel's `String` owns the digits (Rust frees it when `digits` goes
/// out of scope in the caller); the str gets its own copy: one copy. None
/// at all would need the exact digit count first, to create the str and
/// have the kernel write straight into its buffer.
#[cfg(not(Py_LIMITED_API))]
unsafe fn ascii_str(digits: &str) -> *mut PyObject {
    // maxchar 127: a compact ASCII str, one byte per character, with room
    // for `len` characters (and the NUL, which PyUnicode_New writes).
    let len = digits.len();
    let text = PyUnicode_New(len as Py_ssize_t, 127);
    if text.is_null() {
        return ptr::null_mut();
    }
    // A str is immutable once shared; until we return it, it is ours to
    // fill. The digits are ASCII, as maxchar promised.
    ptr::copy_nonoverlapping(digits.as_ptr(), PyUnicode_DATA(text).cast::<u8>(), len);
    text
}

/// The limited API (abi3) has neither `PyUnicode_New`'s buffer nor
/// `PyUnicode_DATA`: the str is decoded from our bytes, still one copy,
/// plus a pass checking that they are ASCII.
#[cfg(Py_LIMITED_API)]
unsafe fn ascii_str(digits: &str) -> *mut PyObject {
    // errors = NULL: "strict" (never triggered: the digits are ASCII).
    PyUnicode_DecodeASCII(
        digits.as_ptr().cast(),
        digits.len() as Py_ssize_t,
        ptr::null(),
    )
}
// ANCHOR_END: factorial-str
