"""The backends written in Python: the yardsticks and the wrappers over the C ABI library.

The compiled extensions need no Python around them: the registry loads them as
they are (``factlab_pyo3``, ``factlab_capi``, ...). See :mod:`factlab._registry`.
"""
