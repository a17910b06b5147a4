"""factlab-cffi: the two pre-built cffi modules of factlab.

- ``factlab_cffi_abi``: ABI mode, out-of-line (build_abi_outofline.py), a
  pure-Python module; the library is loaded with ``dlopen`` at run time.
- ``factlab_cffi_api``: API mode (build_api.py), a compiled extension that
  links the Rust kernel statically.

cffi's setuptools plugin runs each builder named in ``cffi_modules`` and adds
what it produces to the distribution. Build with ``just setup``.
"""

from setuptools import setup

setup(cffi_modules=["build_abi_outofline.py:ffibuilder", "build_api.py:ffibuilder"])
