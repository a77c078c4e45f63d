# SPDX-License-Identifier: MIT
"""libseccomp through cffi in ABI mode: the one module that touches it.

Why ABI mode (``ffi.dlopen("libseccomp.so.2")``) rather than a PyPI binding:
cffi is already a dependency, Debian ships the library (libseccomp2) but not
its headers, and the only pure-Python binding on PyPI (pyseccomp 0.1.2,
ctypes) has had no release since January 2021.  Nothing is compiled, so the
probe works wherever the shared library is installed.

This file imports only the standard library and cffi, because the exec
wrapper (``_exec.py``) loads it as a plain script neighbour, before any of
shimsim is importable in the child.

Facts, from seccomp/libseccomp@58a7c20d4c2defc1c984c5c7391ecc60093f85fa:include/seccomp.h.in
(the values are unchanged in 2.5.4, the version Debian 12 ships):
    SCMP_ACT_ALLOW        0x7fff0000U
    SCMP_ACT_ERRNO(x)     0x00050000U | (x & 0xffff)   (x = 0: the call returns 0 unrun)
    SCMP_FLTATR_ACT_BADARCH = 2, SCMP_FLTATR_CTL_NNP = 3 (enum scmp_filter_attr)
    SCMP_CMP_NE = 1 (enum scmp_compare)
    __NR_SCMP_ERROR = -1  (seccomp_syscall_resolve_name: unknown name)
"""
from __future__ import annotations

from typing import Any

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO_BASE = 0x00050000
SCMP_FLTATR_ACT_BADARCH = 2
SCMP_FLTATR_CTL_NNP = 3
SCMP_CMP_NE = 1
SCMP_CMP_MASKED_EQ = 7      # (arg & datum_a) == datum_b  (enum scmp_compare in seccomp.h)
NR_SCMP_ERROR = -1
LIBNAME = "libseccomp.so.2"

CDEF = """
typedef void *scmp_filter_ctx;
struct scmp_version { unsigned int major; unsigned int minor; unsigned int micro; };
struct scmp_arg_cmp { unsigned int arg; int op; uint64_t datum_a; uint64_t datum_b; };
const struct scmp_version *seccomp_version(void);
scmp_filter_ctx seccomp_init(uint32_t def_action);
void seccomp_release(scmp_filter_ctx ctx);
int seccomp_attr_set(scmp_filter_ctx ctx, int attr, uint32_t value);
int seccomp_rule_add_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
                           unsigned int arg_cnt, const struct scmp_arg_cmp *arg_array);
int seccomp_load(scmp_filter_ctx ctx);
int seccomp_syscall_resolve_name(const char *name);
int execve(const char *path, char *const argv[], char *const envp[]);
"""


class SeccompUnavailable(Exception):
    """libseccomp cannot be loaded or the kernel refuses filters."""


def act_errno(err: int) -> int:
    """SCMP_ACT_ERRNO(err): the call is not run and returns -err (0 when err is 0)."""
    return SCMP_ACT_ERRNO_BASE | (err & 0xFFFF)


_LIB: tuple[Any, Any, Any] | None = None


def lib() -> tuple[Any, Any, Any]:
    """(ffi, libseccomp, libc), loaded once; SeccompUnavailable if the library is missing."""
    global _LIB
    if _LIB is None:
        import cffi

        ffi = cffi.FFI()
        ffi.cdef(CDEF)
        try:
            sc = ffi.dlopen(LIBNAME)
        except OSError as exc:
            raise SeccompUnavailable(f"cannot load {LIBNAME} ({exc}); install libseccomp2") from None
        _LIB = (ffi, sc, ffi.dlopen(None))
    return _LIB


def version() -> str:
    ffi, sc, _ = lib()
    v = sc.seccomp_version()
    return f"{v.major}.{v.minor}.{v.micro}" if v != ffi.NULL else "?"


def resolve_name(name: str) -> int | None:
    """The native number libseccomp knows for NAME, None if it does not know it."""
    _, sc, _ = lib()
    nr = sc.seccomp_syscall_resolve_name(name.encode())
    return None if nr < 0 else nr


def kernel_supports_filters() -> bool:
    """/proc/self/status has a Seccomp line only on kernels built with CONFIG_SECCOMP."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            return any(line.startswith("Seccomp:") for line in f)
    except OSError:
        return False


class Filter:
    """A libseccomp filter context: default allow, rules that return an errno (or 0).

    ``errno_rule(nr, err, except_arg0=P)`` leaves the call alone when its first
    argument equals P: the exec wrapper uses it so that its own execve of the
    command (whose path buffer it owns) passes while every later execve meets
    the shim's treatment."""

    def __init__(self) -> None:
        self.ffi, self.sc, _ = lib()
        ctx = self.sc.seccomp_init(SCMP_ACT_ALLOW)
        if ctx == self.ffi.NULL:
            raise SeccompUnavailable("seccomp_init failed")
        self.ctx = ctx
        # calls of another architecture (int 0x80 from a 64-bit program) pass unfiltered
        # instead of killing the process: the shim only models the native ABI.
        self._check(self.sc.seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW), "attr BADARCH")
        self._check(self.sc.seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1), "attr NNP")

    def _check(self, rc: int, what: str) -> None:
        if rc < 0:
            raise SeccompUnavailable(f"libseccomp {what}: error {-rc}")

    def errno_rule(self, nr: int, err: int, except_arg0: int | None = None) -> None:
        if except_arg0 is None:
            rc = self.sc.seccomp_rule_add_array(self.ctx, act_errno(err), nr, 0, self.ffi.NULL)
        else:
            cmp = self.ffi.new("struct scmp_arg_cmp[1]")
            cmp[0].arg, cmp[0].op, cmp[0].datum_a, cmp[0].datum_b = 0, SCMP_CMP_NE, except_arg0, 0
            rc = self.sc.seccomp_rule_add_array(self.ctx, act_errno(err), nr, 1, cmp)
        self._check(rc, f"rule for syscall {nr}")

    def masked_rule(self, nr: int, err: int, arg: int, mask: int) -> None:
        """Fail the call with ERR only when argument ARG carries all of MASK's bits (a flag the
        layer's handler rejects, shim rule 'reject')."""
        cmp = self.ffi.new("struct scmp_arg_cmp[1]")
        cmp[0].arg, cmp[0].op, cmp[0].datum_a, cmp[0].datum_b = arg, SCMP_CMP_MASKED_EQ, mask, mask
        self._check(self.sc.seccomp_rule_add_array(self.ctx, act_errno(err), nr, 1, cmp),
                    f"rule for syscall {nr} argument {arg}")

    def load(self) -> None:
        """Install the filter in this process (and everything it execs or forks)."""
        self._check(self.sc.seccomp_load(self.ctx), "seccomp_load")

    def release(self) -> None:
        self.sc.seccomp_release(self.ctx)
