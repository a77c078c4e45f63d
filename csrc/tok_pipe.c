/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "tok_pipe.h"
#include "tok_impl.h"
#include "tok_par.h"

#include <pthread.h>
#include <stdlib.h>

enum { IDLE, JOB, DONE, QUIT };

struct ss_tok_pipe {
    ss_tok *t;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state;                 /* IDLE, JOB (posted or running), DONE (result ready), QUIT */
    const char *buf;
    size_t len;
    uint16_t file_id;
    uint32_t first_line;
    int32_t default_pid;
    int64_t result;
    int nthreads;              /* > 1: ss_tok_feed_par, the waiting caller one of the threads */
    size_t chunk;
    struct ss_tok_par *help;   /* t's parallel feed (nthreads > 1), which a waiting caller helps */
};

static void *worker(void *arg)
{
    ss_tok_pipe *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->state != JOB && p->state != QUIT)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->state == QUIT)
            break;
        const char *buf = p->buf;
        size_t len = p->len;
        uint16_t fid = p->file_id;
        uint32_t first = p->first_line;
        int32_t dpid = p->default_pid;
        int nthreads = p->nthreads;
        size_t chunk = p->chunk;
        struct ss_tok_par *help = p->help;
        pthread_mutex_unlock(&p->mu);
        int64_t r = nthreads > 1 ? ss_tok__feed_par(p->t, buf, len, fid, first, dpid, nthreads, nthreads - 2, chunk)
                                 : ss_tok_feed(p->t, buf, len, fid, first, dpid);
        if (help)
            ss_tok__par_busy(help, 0);      /* a waiting caller stops helping */
        pthread_mutex_lock(&p->mu);
        p->result = r;
        p->state = DONE;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

ss_tok_pipe *ss_tok_pipe_new(struct ss_tok *t)
{
    ss_tok_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->t = t;
    p->state = IDLE;
    if (pthread_mutex_init(&p->mu, NULL)) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cv, NULL)) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    if (pthread_create(&p->thread, NULL, worker, p)) {
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    return p;
}

/* Wait for the feed in flight to end, with p->mu held; meanwhile tokenise its
 * chunks that no thread has taken yet. */
static void await_feed(ss_tok_pipe *p)
{
    if (p->state == JOB && p->help) {
        struct ss_tok_par *help = p->help;
        pthread_mutex_unlock(&p->mu);
        ss_tok__par_help(help);
        pthread_mutex_lock(&p->mu);
    }
    while (p->state == JOB)
        pthread_cond_wait(&p->cv, &p->mu);
}

void ss_tok_pipe_free(ss_tok_pipe *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    await_feed(p);
    p->state = QUIT;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int ss_tok_pipe_feed(ss_tok_pipe *p, const char *buf, size_t len, uint16_t file_id,
                     uint32_t first_line, int32_t default_pid)
{
    pthread_mutex_lock(&p->mu);
    if (p->state != IDLE) {
        pthread_mutex_unlock(&p->mu);
        return -1;
    }
    p->buf = buf;
    p->len = len;
    p->file_id = file_id;
    p->first_line = first_line;
    p->default_pid = default_pid;
    if (p->help)
        ss_tok__par_busy(p->help, 1);       /* before the feed starts: see await_feed */
    p->state = JOB;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int64_t ss_tok_pipe_wait(ss_tok_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    if (p->state == IDLE) {
        pthread_mutex_unlock(&p->mu);
        return -2;
    }
    await_feed(p);
    int64_t r = p->result;
    p->state = IDLE;
    pthread_mutex_unlock(&p->mu);
    return r;
}

void ss_tok_pipe_set_par(ss_tok_pipe *p, int nthreads, size_t chunk)
{
    pthread_mutex_lock(&p->mu);
    /* the pipeline thread, the caller while it waits, and nthreads - 2 workers */
    p->help = nthreads > 1 ? ss_tok__par_get(p->t, nthreads, nthreads - 2) : NULL;
    p->nthreads = p->help ? nthreads : 1;
    p->chunk = chunk;
    pthread_mutex_unlock(&p->mu);
}
