/* SPDX-License-Identifier: MIT */
/* Drives ss_tok_pipe the way src/shimsim/engine/c.py does (swap, feed on the
 * thread, read the previous batch meanwhile, wait), or serially ("serial" as
 * the second argument), and prints a digest of every batch; built with
 * -fsanitize=thread by tests/csrc/test_tok_pipe_sanitizers.py.  "par" feeds
 * each block with ss_tok_feed_par on 3 threads, "pipepar" does so on the
 * pipeline thread (the fourth argument: bytes per chunk, 0 = even split; the
 * fifth: threads, 3 by default, the waiting caller one of them, so 2 = no worker);
 * the digest then covers the notes, counts, statistics and pids too. */
#include "tok_par.h"
#include "tok_pipe.h"
#include "tokenise.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t digest(const ss_event *ev, int64_t n, uint64_t h)
{
    for (int64_t k = 0; k < n; k++) {
        const ss_event *e = &ev[k];
        h = h * 1099511628211u + e->line + (uint64_t)e->kind * 7 + (uint64_t)(uint32_t)e->pid * 13 +
            e->flags * 17 + e->name_len * 19 + e->args_len * 23;
        for (uint32_t i = 0; i < e->args_len; i++)
            h = h * 31 + (unsigned char)e->args[i];
    }
    return h;
}

static uint64_t digest_rest(const ss_tok *t, uint64_t h)
{
    const ss_note *nt = ss_tok_notes(t);
    for (uint32_t k = 0; k < ss_tok_nnotes(t); k++)
        h = h * 1099511628211u + nt[k].line + nt[k].kind * 7u + nt[k].reason * 13u + nt[k].len * 17u;
    return h;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    const char *mode = argc > 2 ? argv[2] : "pipe";
    int serial = strcmp(mode, "serial") == 0 || strcmp(mode, "par") == 0;
    int par = strcmp(mode, "par") == 0 || strcmp(mode, "pipepar") == 0;
    size_t block = argc > 3 ? (size_t)atol(argv[3]) : 4096;
    size_t chunk = argc > 4 ? (size_t)atol(argv[4]) : 0;
    int threads = argc > 5 ? atoi(argv[5]) : 3;   /* pipepar: the caller helps as one of them */
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return 2;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
        return 2;
    fclose(f);
    ss_tok *t = ss_tok_new();
    ss_tok_pipe *p = serial ? NULL : ss_tok_pipe_new(t);
    if (!t || (!serial && !p))
        return 3;
    if (p && par)
        ss_tok_pipe_set_par(p, threads, chunk);
    uint64_t h = 0;
    int64_t total = 0, prev = 0;
    long i = 0;
    int first = 1;
    while (i < n) {
        long e = i + (long)block < n ? i + (long)block : n;
        while (e < n && buf[e - 1] != '\n')
            e++;
        if (serial) {
            prev = par ? ss_tok_feed_par(t, buf + i, (size_t)(e - i), 0, first ? 1 : 0, -1, 3, chunk)
                       : ss_tok_feed(t, buf + i, (size_t)(e - i), 0, first ? 1 : 0, -1);
            h = digest(ss_tok_events(t), prev, h);
            h = digest_rest(t, h);
        } else {
            const ss_event *pev = ss_tok_events(t);
            int64_t pn = prev;
            if (!first)
                h = digest_rest(t, h);           /* the notes of the batch just waited for */
            ss_tok_swap(t);
            if (ss_tok_pipe_feed(p, buf + i, (size_t)(e - i), 0, first ? 1 : 0, -1) < 0)
                return 4;
            h = digest(pev, pn, h);              /* the previous batch, read during the feed */
            prev = ss_tok_pipe_wait(p);
        }
        if (prev < 0)
            return 5;
        total += prev;
        first = 0;
        i = e;
    }
    if (!serial) {
        h = digest(ss_tok_events(t), prev, h);
        h = digest_rest(t, h);
        if (ss_tok_pipe_wait(p) != -2)           /* nothing in flight */
            return 6;
        ss_tok_pipe_free(p);
    }
    int64_t fin = ss_tok_finish(t);
    h = digest(ss_tok_events(t), fin, h);
    h = digest_rest(t, h);
    ss_tok_counts c;
    ss_tok_get_counts(t, &c);
    const uint64_t *cv = (const uint64_t *)&c;
    for (size_t k = 0; k < sizeof c / sizeof *cv; k++)
        h = h * 31 + cv[k];
    for (uint32_t k = 0; k < ss_tok_nsyscalls(t); k++) {
        const char *nm;
        uint32_t nl;
        uint64_t calls, errs;
        ss_tok_syscall_stat(t, k, &nm, &nl, &calls, &errs);
        if (calls)   /* by name: the order of first use may differ */
            h ^= (calls * 1000003u + errs) * (nl * 2654435761u + (unsigned char)nm[0] * 97u + (unsigned char)nm[nl - 1]);
    }
    uint64_t pidsum = 0;
    uint32_t np = ss_tok_npids(t);
    int32_t *pids = malloc((np + 1) * sizeof *pids);
    uint32_t got = pids ? ss_tok_pids(t, pids, np) : 0;
    for (uint32_t k = 0; k < got; k++)
        pidsum += (uint64_t)(uint32_t)pids[k] * 2654435761u;
    free(pids);
    h = h * 31 + pidsum + np;
    printf("events %lld digest %llu\n", (long long)(total + fin), (unsigned long long)h);
    ss_tok_free(t);
    free(buf);
    return 0;
}
