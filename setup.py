# SPDX-License-Identifier: MIT
# All metadata lives in pyproject.toml; cffi_modules is a setup() keyword only,
# and the package list is computed here so no subpackage is ever left out.
from setuptools import find_packages, setup

setup(
    package_dir={"": "src", "shimsim._tables": "tables"},
    packages=find_packages("src", exclude=["shimsim._tables*"]) + ["shimsim._tables"],
    cffi_modules=["csrc/build_ffi.py:ffibuilder"],
)
