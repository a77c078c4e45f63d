# SPDX-License-Identifier: MIT
"""shimsim: replay recorded syscall streams through models of compat layers."""

__version__ = "0.1.0"
