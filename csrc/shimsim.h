/* SPDX-License-Identifier: MIT */
/* shimsim C core: types shared by the tokeniser (tokenise.[ch]) and the
 * replay engine (replay.[ch]).  The part between the CDEF markers is read
 * by csrc/build_ffi.py as the cffi cdef, so keep it free of anything
 * but plain declarations and integer #defines.  Every exported symbol is
 * prefixed ss_ / SS_. */
#ifndef SHIMSIM_H
#define SHIMSIM_H
#include <stdint.h>
#include <stddef.h>
/* Event kinds SS_EV_*, recorded outcomes SS_REC_*, flags SS_EVF_*, outcomes,
 * divergences and reasons: csrc/codes.h, generated from csrc/codes.def. */
#include "codes.h"

/* CDEF BEGIN */
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
