"""The shared harness every benchmark plugs into; see the package docstring."""
