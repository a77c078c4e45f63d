# SPDX-License-Identifier: MIT
# All metadata lives in pyproject.toml; cffi_modules is a setup() keyword only,
# and the package list is computed here so no subpackage is ever left out.
# Data folders (schemas/, report/templates/, tables/consts/<os>/ ...) are listed
# as namespace packages too: setuptools>=69 warns about, and will stop shipping,
# importable folders that are missing from `packages`.
from setuptools import find_namespace_packages, setup

_SKIP = ["*.__pycache__", "*.egg-info"]
_code = find_namespace_packages("src", include=["shimsim", "shimsim.*"], exclude=["shimsim._tables*", *_SKIP])
_tables = ["shimsim._tables"] + ["shimsim._tables." + p for p in find_namespace_packages("tables", exclude=["__pycache__", *_SKIP])]

setup(
    package_dir={"": "src", "shimsim._tables": "tables"},
    packages=_code + _tables,
    cffi_modules=["csrc/build_ffi.py:ffibuilder"],
)
