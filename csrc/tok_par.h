/* SPDX-License-Identifier: MIT */
/* The strace tokeniser on several cores for one block (issue 17).  The block
 * is cut at line boundaries into chunks; the tokeniser itself takes the
 * first chunk of each round while worker threads tokenise the next ones
 * speculatively, from no per-pid state, and note where the real state could
 * have mattered.  The chunks are then stitched on in order against the real
 * state: a line that resumes a call the real state has pending is run again
 * against it and its output spliced in, provided the pid ends in the same
 * state; anything not provably the same is tokenised again serially.  The
 * result (events, notes, counts, statistics, pids, line numbers, state for
 * the next feed) is the serial feed's. */
#ifndef SHIMSIM_TOK_PAR_H
#define SHIMSIM_TOK_PAR_H
#include "tokenise.h"

/* CDEF BEGIN */
/* ss_tok_feed's contract on nthreads cores (the caller's thread and
 * nthreads - 1 workers, started on first use and kept by t, with t's name
 * tables as they are then).  chunk: bytes per chunk, 0 = the block split
 * into 2 * nthreads chunks, which the threads share out as they get to them
 * (a chunk no worker has started when the caller's thread gets to it is
 * tokenised by that thread, serially; and a block is fed serially when that
 * has been faster per byte lately, as on a machine with no core to spare:
 * the ways alternate over the first 8 feeds, then the other way is timed
 * again every 16).  chunk > 0 is a test knob: every
 * chunk is tokenised speculatively and stitched, so that with a small value
 * every line boundary becomes a chunk boundary.  nthreads < 2, a small
 * block with chunk 0, or no thread to be had: a serial feed.  Returns what
 * ss_tok_feed returns. */
int64_t ss_tok_feed_par(struct ss_tok *t, const char *buf, size_t len, uint16_t file_id,
                        uint32_t first_line, int32_t default_pid, int nthreads, size_t chunk);
/* What the parallel feeds did so far: chunks tokenised speculatively, of them
 * tokenised again serially, and lines run again against the real state. */
void ss_tok_par_stats(const struct ss_tok *t, uint64_t *chunks, uint64_t *redone, uint64_t *reruns);
/* CDEF END */

#endif
