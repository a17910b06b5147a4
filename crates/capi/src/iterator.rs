//! State that lives between calls: `Factorials(start=0, /)`, a Python object
//! that owns a [`factlab_core::iterator::Factorials`].
//!
//! A class written by hand. What the C-API asks of it, and where it is kept:
//!
//! - **A heap type, in module state.** `PyType_FromModuleAndSpec` makes the
//!   type at import, in the module's `Py_mod_exec` slot, once per module
//!   object: every (sub-)interpreter gets its own type object. A static
//!   `PyTypeObject` would be one object shared by every interpreter, its
//!   reference count and dict written from several GILs at once: PEP 630
//!   forbids it for a module that declares a per-interpreter GIL.
//! - **Ownership.** The Python object holds a `Box<Mutex<Factorials>>`,
//!   allocated in `tp_new` and dropped in `tp_dealloc`, which runs exactly
//!   once, when the last reference goes. The object also owns a reference to
//!   its type (a heap type's instances must), released there too.
//! - **Threads.** Steps are serialized by the `Mutex`. Whoever must wait for
//!   it releases the GIL *before* waiting (see [`iternext`]).

use std::ffi::{c_int, c_ulonglong, c_void};
use std::mem;
use std::ptr;
use std::sync::{Mutex, MutexGuard, TryLockError};

use factlab_core::iterator::Factorials;
use factlab_core::{Error, Factorial};
use pyo3_ffi::*;

use crate::{guarded, index_to_u64, raise, to_py_int};

// ANCHOR: iterator
/// The module's state (`PyModule_GetState`): one per module object, so one
/// per interpreter. CPython allocates it zeroed, `m_size` bytes.
#[repr(C)]
pub(crate) struct ModuleState {
    /// A strong reference to this interpreter's `Factorials` type, held for
    /// the module's lifetime: the GC visits it (`module_traverse`) and the
    /// module's clear releases it (`module_clear`). It is where a module-level
    /// function would find the type (to make a `Factorials`, or to check
    /// that an argument is one), never in a static. None needs to today:
    /// `tp_new` is handed the type, and a method reaches it as `Py_TYPE(obj)`.
    factorials_type: *mut PyObject,
}

/// The instance: `PyObject_HEAD`, then our one field. `tp_alloc` zeroes it.
#[repr(C)]
struct FactorialsObject {
    ob_base: PyObject,
    /// Owned; NULL only between `tp_alloc` and the end of `tp_new`.
    state: *mut Mutex<Factorials>,
}

/// `Py_mod_exec`'s part: makes the type and exports it. 0, or -1 set.
pub(crate) unsafe fn add_type(module: *mut PyObject) -> c_int {
    // A NEW reference to a new heap type. It keeps a strong reference to
    // `module` (its `PyType_GetModule`): module -> state -> type -> module
    // is a cycle, which the GC breaks through m_traverse / m_clear below.
    let tp = PyType_FromModuleAndSpec(module, &raw mut SPEC, ptr::null_mut());
    if tp.is_null() {
        return -1;
    }
    // The state keeps the reference FromModuleAndSpec gave us (module_clear
    // releases it). CPython zeroed the state, so there is none to replace.
    (*module_state(module)).factorials_type = tp;
    // Adds `Factorials` to the module's dict: the dict takes its own reference.
    PyModule_AddType(module, tp.cast())
}

unsafe fn module_state(module: *mut PyObject) -> *mut ModuleState {
    PyModule_GetState(module).cast()
}

/// `m_traverse`: tells the GC which objects the state references.
pub(crate) unsafe extern "C" fn module_traverse(
    module: *mut PyObject,
    visit: visitproc,
    arg: *mut c_void,
) -> c_int {
    let state = module_state(module);
    if state.is_null() || (*state).factorials_type.is_null() {
        return 0; // not executed yet, or cleared
    }
    visit((*state).factorials_type, arg)
}

/// `m_clear`: drops the state's references (the GC breaking the cycle).
pub(crate) unsafe extern "C" fn module_clear(module: *mut PyObject) -> c_int {
    let state = module_state(module);
    if !state.is_null() {
        // DECREF (and NULL, so a second clear does nothing): the state's
        // reference to the type, taken in add_type.
        Py_CLEAR(&raw mut (*state).factorials_type);
    }
    0
}

/// `m_free`: the module object itself is going; its state with it.
pub(crate) unsafe extern "C" fn module_free(module: *mut c_void) {
    module_clear(module.cast());
}

// --- the type ----------------------------------------------------------------

// CPython keeps pointers into these tables (the methods, the getset) for the
// type's life: mutable statics, named only through `&raw mut`, as in lib.rs.
// They are constant tables of C functions: every interpreter reads the same
// ones, which is safe; the type *objects* are per interpreter.
static mut SPEC: PyType_Spec = PyType_Spec {
    // "module.qualname": sets __module__ to "factlab_capi".
    name: c"factlab_capi.Factorials".as_ptr(),
    basicsize: mem::size_of::<FactorialsObject>() as c_int,
    itemsize: 0,
    // HAVE_GC: an instance references its type, and a type its module, whose
    // dict may reference an instance (`factlab_capi.keep = it`): a cycle only
    // the GC can find, so instances take part (tp_traverse). IMMUTABLETYPE:
    // `Factorials.x = ...` is refused, as for a static type. No BASETYPE: no
    // subclasses, so every instance has exactly this layout and these slots.
    flags: (Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE) as _,
    slots: (&raw mut SLOTS).cast(),
};

static mut SLOTS: [PyType_Slot; 10] = [
    slot(Py_tp_new, new as *mut c_void),
    slot(Py_tp_dealloc, dealloc as *mut c_void),
    slot(Py_tp_traverse, traverse as *mut c_void),
    slot(Py_tp_iter, iter as *mut c_void),
    slot(Py_tp_iternext, iternext as *mut c_void),
    slot(Py_tp_repr, repr as *mut c_void),
    slot(Py_tp_getset, (&raw mut GETSET).cast()),
    slot(Py_tp_methods, (&raw mut METHODS).cast()),
    slot(
        Py_tp_doc,
        c"Factorials(start=0, /)\n--\n\nstart!, (start+1)!, ...: each value one multiplication from the last, in native state."
            .as_ptr() as *mut c_void,
    ),
    slot(0, ptr::null_mut()), // the end
];

const fn slot(slot: c_int, pfunc: *mut c_void) -> PyType_Slot {
    PyType_Slot { slot, pfunc }
}

static mut GETSET: [PyGetSetDef; 2] = [
    PyGetSetDef {
        name: c"n".as_ptr(),
        get: Some(get_n),
        set: None, // read-only: `it.n = 3` raises AttributeError
        doc: c"The n whose factorial the next next() returns.".as_ptr(),
        closure: ptr::null_mut(),
    },
    PyGetSetDef {
        name: ptr::null(),
        get: None,
        set: None,
        doc: ptr::null(),
        closure: ptr::null_mut(),
    },
];

static mut METHODS: [PyMethodDef; 2] = [
    PyMethodDef {
        ml_name: c"__reduce__".as_ptr(),
        ml_meth: PyMethodDefPointer {
            PyCFunction: reduce,
        },
        ml_flags: METH_NOARGS,
        ml_doc: c"Refused: two objects must never share one native state.".as_ptr(),
    },
    PyMethodDef::zeroed(),
];

// --- the slots -----------------------------------------------------------------

/// `tp_new`: `Factorials(start=0, /)`. `args` (a tuple) and `kwargs` (NULL
/// or a dict) are borrowed. Returns a new reference, or NULL set.
unsafe extern "C" fn new(
    tp: *mut PyTypeObject,
    args: *mut PyObject,
    kwargs: *mut PyObject,
) -> *mut PyObject {
    let Some(start) = start_arg(args, kwargs) else {
        return ptr::null_mut(); // set
    };
    // The kernel's refusal (start > MAX_N) as factorial(start) words it.
    let it = match Factorials::new(start) {
        Ok(it) => it,
        Err(error) => return raise(&error),
    };
    // tp_alloc (PyType_GenericAlloc): a NEW reference to a zeroed object of
    // type `tp`, tracked by the GC. It INCREFs `tp`: a heap type's instance
    // owns a reference to its type, which dealloc gives back.
    let alloc: allocfunc = mem::transmute(PyType_GetSlot(tp, Py_tp_alloc));
    let obj = alloc(tp, 0);
    if obj.is_null() {
        return ptr::null_mut(); // MemoryError is set
    }
    // The native state, owned by the object from here on: one Box, freed by
    // dealloc and by nothing else.
    (*obj.cast::<FactorialsObject>()).state = Box::into_raw(Box::new(Mutex::new(it)));
    obj
}

/// `start` from `Factorials(start=0, /)`: converted as `factorial(n)`
/// converts n. `None`: an exception is set.
unsafe fn start_arg(args: *mut PyObject, kwargs: *mut PyObject) -> Option<u64> {
    if !kwargs.is_null() && PyDict_Size(kwargs) != 0 {
        PyErr_SetString(
            PyExc_TypeError,
            c"Factorials() takes no keyword arguments".as_ptr(),
        );
        return None;
    }
    match PyTuple_Size(args) {
        0 => Some(0),
        // PyTuple_GetItem: a BORROWED reference; the tuple keeps it alive.
        1 => index_to_u64(PyTuple_GetItem(args, 0)),
        nargs => {
            PyErr_Format(
                PyExc_TypeError,
                c"Factorials expected at most 1 argument, got %zd".as_ptr(),
                nargs,
            );
            None
        }
    }
}

/// `tp_dealloc`: the last reference is gone. Runs once per object, with the
/// GIL held; no other thread can be inside a method of it (a call holds a
/// reference), so nobody holds the lock.
unsafe extern "C" fn dealloc(obj: *mut PyObject) {
    // Before anything is freed: the GC must not visit a half-freed object.
    PyObject_GC_UnTrack(obj.cast());
    let state = (*obj.cast::<FactorialsObject>()).state;
    if !state.is_null() {
        // The native state: the Mutex, the iterator and its last factorial.
        drop(Box::from_raw(state));
    }
    // Borrowed, and kept alive by the reference this object still owns.
    let tp = Py_TYPE(obj);
    // tp_free through the type (PyObject_GC_Del for a GC type): the memory.
    let free: freefunc = mem::transmute(PyType_GetSlot(tp, Py_tp_free));
    free(obj.cast());
    // DECREF: the instance's reference to its heap type, taken by tp_alloc.
    // Last, after the memory is gone: this may free the type itself.
    Py_DECREF(tp.cast());
}

/// `tp_traverse`: what the GC may follow from an instance: its type (since
/// 3.9 a heap type's instances must visit it). The native state holds no
/// Python object.
unsafe extern "C" fn traverse(obj: *mut PyObject, visit: visitproc, arg: *mut c_void) -> c_int {
    visit(Py_TYPE(obj).cast(), arg)
}

/// `tp_iter`: `iter(it) is it`.
unsafe extern "C" fn iter(obj: *mut PyObject) -> *mut PyObject {
    // INCREF: we return `obj` (borrowed on entry) as a new reference.
    Py_INCREF(obj);
    obj
}

/// `tp_iternext`: the next factorial, a new reference; NULL with an
/// exception set; or NULL with none set, which Python reads as StopIteration.
///
/// `obj` is borrowed: the caller (`next(it)`, a `for` loop) owns a reference
/// for the whole call. So even with the GIL released, another thread's
/// `del it` cannot free the state under us: dealloc runs after we return.
///
/// The lock and the GIL: a thread that waits for the lock must not hold the
/// GIL. Else thread A, holding the lock, finishes its step and waits for the
/// GIL, while thread B holds the GIL and waits for the lock: deadlock. So:
/// `try_lock` with the GIL held; if another thread has the lock, release
/// the GIL first, then wait. And a step that released the GIL unlocks before
/// it takes the GIL back: the guard is moved into the closure and dropped
/// at its end, inside `guarded`, before `PyEval_RestoreThread`.
unsafe extern "C" fn iternext(obj: *mut PyObject) -> *mut PyObject {
    let cell = state_of(obj);
    let stepped = match try_lock(cell) {
        // Ours at once (the usual case): a cheap step keeps the GIL (a table
        // lookup, a small multiplication); a big one releases it.
        Some(guard) => guarded(guard.next_is_expensive(), move || step(guard)),
        // Another thread is stepping, the GIL released: we release it too
        // before we wait, and step while detached.
        None => guarded(true, || step(lock(cell))),
    };
    match stepped {
        Some(Some(Ok(value))) => to_py_int(&value),
        // Past MAX_N (once): factorial(MAX_N + 1)'s OverflowError.
        Some(Some(Err(error))) => raise(&error),
        Some(None) => ptr::null_mut(), // exhausted: StopIteration, no exception
        None => ptr::null_mut(),       // a panic: RuntimeError is set
    }
}

/// One step, the lock held; the guard drops (unlocks) as this returns.
fn step(mut guard: MutexGuard<'_, Factorials>) -> Option<Result<Factorial, Error>> {
    guard.step()
}

/// `n`: a new int, the n whose factorial the next `next()` returns.
unsafe extern "C" fn get_n(obj: *mut PyObject, _closure: *mut c_void) -> *mut PyObject {
    PyLong_FromUnsignedLongLong(read_n(obj))
}

/// `repr(it)`: `Factorials(<n>)`, a new str.
unsafe extern "C" fn repr(obj: *mut PyObject) -> *mut PyObject {
    PyUnicode_FromFormat(c"Factorials(%llu)".as_ptr(), read_n(obj) as c_ulonglong)
}

/// `__reduce__` (METH_NOARGS): refused, so `pickle.dumps`, `copy.copy` and
/// `copy.deepcopy` (all three go through it) raise TypeError. A copy would
/// be a second object owning the same Box: freed twice.
unsafe extern "C" fn reduce(_obj: *mut PyObject, _unused: *mut PyObject) -> *mut PyObject {
    PyErr_SetString(
        PyExc_TypeError,
        c"cannot pickle 'Factorials' object".as_ptr(),
    );
    ptr::null_mut()
}

// --- the lock ------------------------------------------------------------------

/// The object's state. `obj` is a live `Factorials`: its state is set.
unsafe fn state_of<'a>(obj: *mut PyObject) -> &'a Mutex<Factorials> {
    &*(*obj.cast::<FactorialsObject>()).state
}

/// `it.n`, read under the lock, waiting for it (if we must) detached.
unsafe fn read_n(obj: *mut PyObject) -> u64 {
    let cell = state_of(obj);
    if let Some(guard) = try_lock(cell) {
        return guard.n();
    }
    // Py_BEGIN_ALLOW_THREADS, then wait: the rule of iternext.
    let saved = PyEval_SaveThread();
    let n = lock(cell).n(); // the guard drops at the end of this statement
    PyEval_RestoreThread(saved);
    n
}

/// The lock if it is free now; `None` if another thread holds it.
fn try_lock(cell: &Mutex<Factorials>) -> Option<MutexGuard<'_, Factorials>> {
    match cell.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

/// The lock, waiting for it. Call only without the GIL.
///
/// Poisoned (a step panicked, which became RuntimeError): the iterator is
/// still whole (a panic leaves n and its last value as they were, or the
/// last value dropped, which only makes the next step recompute), so we go on.
fn lock(cell: &Mutex<Factorials>) -> MutexGuard<'_, Factorials> {
    cell.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
// ANCHOR_END: iterator
