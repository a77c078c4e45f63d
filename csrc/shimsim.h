/* SPDX-License-Identifier: MIT */
/* shimsim C core: types shared by the tokeniser (tokenise.[ch]) and the
 * replay engine (replay.[ch]).  The part between the CDEF markers is read
 * by src/shimsim/_build.py as the cffi cdef, so keep it free of anything
 * but plain declarations and integer #defines.  Every exported symbol is
 * prefixed ss_ / SS_. */
#ifndef SHIMSIM_H
#define SHIMSIM_H
#include <stdint.h>
#include <stddef.h>

/* CDEF BEGIN */
/* Event kinds (ss_event.kind). */
#define SS_EV_SYSCALL      1
#define SS_EV_SIGNAL       2   /* --- SIGX {...} ---, truss SIGNAL n, kdump PSIG */
#define SS_EV_STOPPED      3   /* --- stopped by SIGX --- */
#define SS_EV_EXIT         4   /* +++ exited with N +++, process exit, rval = N */
#define SS_EV_KILLED       5   /* +++ killed by SIGX [(core dumped)] +++ */
#define SS_EV_SUPERSEDED   6   /* +++ superseded by execve in pid N +++ */
#define SS_EV_PERSONALITY  7   /* [ Process PID=N runs in 32 bit mode. ] */
#define SS_EV_DETACHED     8   /* <detached ...> */

/* Recorded outcome of a syscall event (ss_event.rec). */
#define SS_REC_SUCCESS     1
#define SS_REC_ERROR       2
#define SS_REC_UNKNOWN     3   /* = ?  (no return: exit, killed thread) */
#define SS_REC_RESTARTED   4   /* ERESTARTSYS and friends */
#define SS_REC_INJECTED    5   /* (INJECTED) */
#define SS_REC_UNFINISHED  6   /* never resumed before end of trace */

/* ss_event.flags bits. */
#define SS_EVF_MERGED      1   /* joined from <unfinished ...> + <... resumed> */
#define SS_EVF_TRUNCATED   2   /* a string argument was cut with ... */
#define SS_EVF_HAS_TS      4
#define SS_EVF_HAS_DUR     8
#define SS_EVF_CORE        16  /* killed ... (core dumped) */

/* One normalised event.  Text fields point into memory owned by the
 * producer (the parser's arena), valid until the producer's next call. */
typedef struct {
    uint32_t line;        /* 1-based source line (first line of a merged pair) */
    uint16_t file_id;     /* index into the caller's list of source files */
    uint8_t  kind;        /* SS_EV_* */
    uint8_t  rec;         /* SS_REC_* (syscalls only) */
    uint32_t flags;       /* SS_EVF_* */
    int32_t  pid;         /* -1 when not printed */
    int32_t  tid;         /* -1 when not printed */
    int32_t  nr;          /* guest syscall number, -1 when the name is unknown */
    int32_t  err;         /* guest errno number (0 = none); for SIGNAL/KILLED/STOPPED the signal number */
    int64_t  ret;         /* return value; exit status for SS_EV_EXIT; new personality for SS_EV_PERSONALITY */
    double   ts;          /* seconds (absolute or relative as printed); valid if SS_EVF_HAS_TS */
    double   dur;         /* seconds; valid if SS_EVF_HAS_DUR */
    const char *name;     /* syscall or signal name */
    uint32_t name_len;
    uint32_t args_len;
    const char *args;     /* raw argument text, without the outer parentheses */
    const char *errname;  /* ENOENT, ERESTARTSYS, ... */
    uint32_t errname_len;
    uint32_t abi;         /* ABI index chosen by the caller (personality switches change it per pid) */
} ss_event;
/* ABI version of this header; bumped when ss_event changes. */
int ss_core_version(void);
/* CDEF END */

#endif
