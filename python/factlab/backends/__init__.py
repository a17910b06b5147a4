"""One module per backend; see :mod:`factlab._registry` for the contract."""
