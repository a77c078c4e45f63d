/* SPDX-License-Identifier: MIT */
/* strace tokeniser: turns batches of strace output lines into ss_event
 * records, one call per batch.  Mirrors src/shimsim/trace/strace.py (the
 * Python reference) rule for rule; tests/trace/test_strace_diff.py compares them.
 *
 * Lifetime: the events and notes of a batch point into the caller's buffer
 * (keep it alive until the next ss_tok_feed/ss_tok_finish) or into the
 * tokeniser's batch arena (valid until the next feed/finish). */
#ifndef SHIMSIM_TOKENISE_H
#define SHIMSIM_TOKENISE_H
#include "shimsim.h"

/* CDEF BEGIN */
/* SS_EVF_NO_RET, SS_TOK_*, SS_NOTE_* and the unparsed reasons SS_R_* (texts
 * and all): csrc/codes.h. */

/* A line that carries no event but matters to the caller. */
typedef struct {
    uint32_t line;
    uint16_t file_id;
    uint16_t kind;        /* SS_NOTE_* */
    uint32_t reason;
    uint32_t len;
    const char *text;
} ss_note;

/* Running totals over everything fed so far. */
typedef struct {
    uint64_t lines;
    uint64_t unparsed;
    uint64_t blank;
    uint64_t stack;
    uint64_t messages;
    uint64_t summary;
    uint64_t continuation;
    uint64_t by_kind[SS_NEV + 1];  /* indexed by SS_EV_* */
} ss_tok_counts;

typedef struct ss_tok ss_tok;

ss_tok *ss_tok_new(void);
void ss_tok_free(ss_tok *t);
/* Register NAME -> VALUE in table SS_TOK_* for ABI index abi (< SS_TOK_MAX_ABI). 0 ok, -1 error. */
int ss_tok_add_name(ss_tok *t, int table, int abi, const char *name, uint32_t len, int32_t value);
/* ABI index for personality 0 (64 bit), 1 (32 bit), 2 (x32); -1 = no table (stay on 0). */
void ss_tok_set_modes(ss_tok *t, int m64, int m32, int mx32);
/* Tokenise the lines in buf[0..len) (whole lines; the last may lack its newline).
 * first_line 0 continues the line numbering of the previous batch.
 * Returns the number of events of this batch (ss_tok_events), -1 on out of memory. */
int64_t ss_tok_feed(ss_tok *t, const char *buf, size_t len, uint16_t file_id,
                    uint32_t first_line, int32_t default_pid);
/* End of the trace: pending call lines and unfinished calls become events/notes. */
int64_t ss_tok_finish(ss_tok *t);
/* The line number the next batch starts at (when fed with first_line 0). */
uint32_t ss_tok_next_line(const ss_tok *t);
const ss_event *ss_tok_events(const ss_tok *t);
/* Swap the output (events, notes and their arena) with a second slot: the
 * batch just made stays valid, untouched, through the next feed/finish and
 * until the swap after it, so one thread may read it while another feeds the
 * next block (the tokenising itself stays serial; only its output is double
 * buffered).  Never call it while a feed/finish runs. */
void ss_tok_swap(ss_tok *t);
uint32_t ss_tok_nnotes(const ss_tok *t);
const ss_note *ss_tok_notes(const ss_tok *t);
void ss_tok_get_counts(const ss_tok *t, ss_tok_counts *out);
/* Per-syscall statistics (calls and errors counted as strace -c does). */
uint32_t ss_tok_nsyscalls(const ss_tok *t);
int ss_tok_syscall_stat(const ss_tok *t, uint32_t i, const char **name, uint32_t *len,
                        uint64_t *calls, uint64_t *errors);
/* Distinct pids seen in events; copies up to cap of them into out. */
uint32_t ss_tok_npids(const ss_tok *t);
uint32_t ss_tok_pids(const ss_tok *t, int32_t *out, uint32_t cap);
/* CDEF END */

#endif
