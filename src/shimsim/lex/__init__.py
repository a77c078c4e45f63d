# SPDX-License-Identifier: MIT
"""Scanners of tracer text; ``lex.strace`` is the Python twin of csrc/lex.c."""
