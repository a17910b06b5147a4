"""factlab: one exact factorial, ten ways to call native code from Python.

>>> import factlab
>>> factlab.backend_names()[:3]
['python', 'math', 'pyo3']
>>> factlab.load("python").factorial(25)
15511210043330985984000000
"""

from factlab._facts import CLIB
from factlab._registry import (
    BUILTIN,
    PURE,
    STDLIB,
    Backend,
    BackendNotBuilt,
    BackendSpec,
    Reach,
    StableAbi,
    Targets,
    backend_names,
    build_projects,
    load,
    native_names,
    register,
    spec,
    specs,
)

__all__ = [
    "BUILTIN",
    "CLIB",
    "PURE",
    "STDLIB",
    "Backend",
    "BackendNotBuilt",
    "BackendSpec",
    "Reach",
    "StableAbi",
    "Targets",
    "backend_names",
    "build_projects",
    "load",
    "native_names",
    "register",
    "spec",
    "specs",
]
__version__ = "0.1.0"
