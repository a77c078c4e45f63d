/* SPDX-License-Identifier: MIT */
/* Drives ss_tok_pipe the way src/shimsim/engine/c.py does (swap, feed on the
 * thread, read the previous batch meanwhile, wait), or serially ("serial" as
 * the second argument), and prints a digest of every batch; built with
 * -fsanitize=thread by tests/csrc/test_tok_pipe_sanitizers.py. */
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

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    int serial = argc > 2 && strcmp(argv[2], "serial") == 0;
    size_t block = argc > 3 ? (size_t)atol(argv[3]) : 4096;
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
    uint64_t h = 0;
    int64_t total = 0, prev = 0;
    long i = 0;
    int first = 1;
    while (i < n) {
        long e = i + (long)block < n ? i + (long)block : n;
        while (e < n && buf[e - 1] != '\n')
            e++;
        if (serial) {
            prev = ss_tok_feed(t, buf + i, (size_t)(e - i), 0, first ? 1 : 0, -1);
            h = digest(ss_tok_events(t), prev, h);
        } else {
            const ss_event *pev = ss_tok_events(t);
            int64_t pn = prev;
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
        if (ss_tok_pipe_wait(p) != -2)           /* nothing in flight */
            return 6;
        ss_tok_pipe_free(p);
    }
    int64_t fin = ss_tok_finish(t);
    h = digest(ss_tok_events(t), fin, h);
    printf("events %lld digest %llu\n", (long long)(total + fin), (unsigned long long)h);
    ss_tok_free(t);
    free(buf);
    return 0;
}
