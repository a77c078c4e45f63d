/* SPDX-License-Identifier: MIT */
/* The strace tokeniser's state (internal to the C core), shared by
 * tokenise.c and the parallel feed tok_par.c. */
#ifndef SHIMSIM_TOK_IMPL_H
#define SHIMSIM_TOK_IMPL_H
#include "tokenise.h"
#include "tok_store.h"

/* CDEF BEGIN */
/* CDEF END */

/* A speculative tokeniser (tok_par.c) starts a chunk with no per-pid state
 * and records each place where the real state could have mattered: the
 * first line that reads a pid's pending call (ss_spec_dep), an anonymous
 * resume without a call of its own to resume, an adoption scan. */
typedef struct {
    int32_t pid;
    uint32_t line;               /* chunk-relative */
    int bad;                     /* output before the read, a continuation, an adoption: never re-run */
    uint32_t ev_lo, ev_hi, note_lo, note_hi;
    const char *s;               /* the line as fed */
    size_t n;
    int32_t dpid;
    uint16_t file_id;
    ss_tok_counts before, after;
    /* the pid's record after the line */
    uint8_t has_pending, abi, pabi;
    uint32_t flags, pline;
    uint16_t pfile;
    int32_t owner;
    double ts;
    char *name, *args;
    uint32_t name_len, args_len;
    /* stitching: the re-run's output in the scratch tokeniser */
    int rerun, r_seen;
    uint32_t r_ev_lo, r_ev_hi, r_note_lo, r_note_hi;
} ss_spec_dep;

typedef struct {
    ss_spec_dep *dep;
    uint32_t ndep, depcap;
    ss_arena snap;               /* the post-state texts of dep */
    int anon_dep, scan_dep, adopted;
    /* the line being fed */
    uint32_t line_ev0, line_note0, cur_line, line_dep0;
    const char *line_s;
    size_t line_n;
    int32_t line_dpid;
    uint16_t line_fid;
    int line_cont;
} ss_spec;

struct ss_tok_par;

#define SS_SF_PEND 1u            /* ss_pidrec.sflags: the speculative tokeniser read its pending call */


struct ss_tok {
    ss_name_table tab[3];
    int modes[3];
    ss_pid_table pids;
    ss_arena arena;
    ss_event *ev;
    uint32_t nev, evcap;
    ss_note *notes;
    uint32_t nnotes, notecap;
    ss_tok_counts counts;
    int oom;
    int in_summary;
    /* a call line waiting for its continuation */
    int has_partial;
    char *partial;
    uint32_t partial_len, partial_cap;
    uint32_t partial_line;
    uint16_t partial_file;
    int32_t partial_pid;
    uint32_t next_line;
    /* pending key of the latest <unfinished ...> (for bare ") = R" lines) */
    int has_last;
    int32_t last_pid;
    /* the other output slot (ss_tok_swap): a batch's events, notes and arena
     * stay there, untouched, while the next batch is tokenised */
    struct {
        ss_arena arena;
        ss_event *ev;
        uint32_t nev, evcap;
        ss_note *notes;
        uint32_t nnotes, notecap;
    } spare;
    ss_spec *spec;               /* set in a speculative tokeniser (tok_par.c) */
    struct ss_tok_par *par;      /* the parallel feed's threads, made by the first ss_tok_feed_par */
};


/* internal entry points (tokenise.c) */
void ss_tok__begin_batch(ss_tok *t);
/* feed the lines of buf at line numbers from line on, appending to the batch; -1 on out of memory */
int ss_tok__feed_lines(ss_tok *t, const char *buf, size_t len, uint16_t file_id, uint32_t line, int32_t dpid);
/* one line (without its newline), appending to the batch */
void ss_tok__feed_line(ss_tok *t, const char *s, size_t n, uint16_t file_id, uint32_t line, int32_t dpid);
void ss_tok__par_free(struct ss_tok_par *p);
/* t's parallel feed for nthreads threads of which nw are its own workers (made or
 * remade as needed; NULL when no thread can be had).  The others are callers of
 * ss_tok__par_help: a thread that waits for a feed tokenises chunks meanwhile. */
struct ss_tok_par *ss_tok__par_get(struct ss_tok *t, int nthreads, int nw);
/* ss_tok_feed_par with nw workers of its own (ss_tok_feed_par: nthreads - 1). */
int64_t ss_tok__feed_par(struct ss_tok *t, const char *buf, size_t len, uint16_t file_id,
                         uint32_t first_line, int32_t default_pid, int nthreads, int nw, size_t chunk);
/* A feed on p is in flight (1) or over (0): set by the thread that runs the feed,
 * 1 before it starts (so that a helper arriving first waits for its chunks). */
void ss_tok__par_busy(struct ss_tok_par *p, int busy);
/* Tokenise p's waiting chunks, as its workers do, until the feed in flight is over. */
void ss_tok__par_help(struct ss_tok_par *p);
/* q's pending call (and whether it has one) becomes p's, buffers swapped; q is left with none */
void ss_tok__move_pending(ss_pidrec *p, ss_pidrec *q);

#endif
