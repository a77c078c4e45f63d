# SPDX-License-Identifier: MIT
# All metadata lives in pyproject.toml; cffi_modules is a setup() keyword only.
from setuptools import setup

setup(cffi_modules=["src/shimsim/_build.py:ffibuilder"])
