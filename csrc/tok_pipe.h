/* SPDX-License-Identifier: MIT */
/* One worker thread per tokeniser that runs ss_tok_feed on a block while the
 * caller works on the previous batch (replays it): the tokenising stays one
 * serial pass over the blocks in order; only its timing overlaps the caller.
 * Use with ss_tok_swap, so that the batch being read is not the one written. */
#ifndef SHIMSIM_TOK_PIPE_H
#define SHIMSIM_TOK_PIPE_H
#include "tokenise.h"

/* CDEF BEGIN */
typedef struct ss_tok_pipe ss_tok_pipe;

/* Start the worker thread for tokeniser t; NULL if no thread can be made. */
ss_tok_pipe *ss_tok_pipe_new(struct ss_tok *t);   /* struct: this header comes before tokenise.h in the cdef */
/* Wait for a feed in flight, stop the thread and free; t itself is not freed. */
void ss_tok_pipe_free(ss_tok_pipe *p);
/* Start ss_tok_feed(t, buf, len, ...) on the worker and return at once; buf
 * must stay alive and t untouched until ss_tok_pipe_wait.  0, or -1 if a feed
 * is already in flight. */
int ss_tok_pipe_feed(ss_tok_pipe *p, const char *buf, size_t len, uint16_t file_id,
                     uint32_t first_line, int32_t default_pid);
/* The result of the feed in flight (what ss_tok_feed returned); -2 if none. */
int64_t ss_tok_pipe_wait(ss_tok_pipe *p);
/* The feeds after this one run ss_tok_feed_par on nthreads cores (1 = ss_tok_feed,
 * the default); chunk as there.  The caller's thread counts as one of them: while
 * it waits in ss_tok_pipe_wait (or ss_tok_pipe_free) it tokenises the chunks no
 * other thread has taken, so the pipeline thread and nthreads - 2 workers run
 * beside it and a consumer that has its own work to do never competes with an
 * extra worker for a core.  Not while a feed is in flight. */
void ss_tok_pipe_set_par(ss_tok_pipe *p, int nthreads, size_t chunk);
/* CDEF END */

#endif
