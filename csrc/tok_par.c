/* SPDX-License-Identifier: MIT */
/* The parallel feed of the strace tokeniser; see tok_par.h.
 *
 * What a speculative tokeniser S (one per chunk of a round) cannot know is the real
 * tokeniser G's state at the start of its chunk: the per-pid records (ABI,
 * pending <unfinished ...> call), a call line waiting for its continuation,
 * a summary table being read, the latest unfinished call (for -z/-Z's bare
 * resumes).  S starts from none of it, and its hooks (tokenise.c, t->spec)
 * note where that could have mattered.  Stitching chunk k onto G (in order,
 * G holding the state after chunk k-1), S's output stands when:
 *  - G reads no call line, no summary table;
 *  - no pid S touched has a non-default ABI in G;
 *  - every pid whose pending call S read first at line L (a dep) either has
 *    none in G, or line L, run again on a scratch tokeniser R holding G's
 *    record of the pid, leaves the pid as S left it after L (then R's events
 *    and notes replace S's for L);
 *  - no bare resume found S without a latest call while G has a pending one,
 *    no adoption scan ran while G has pending calls.
 * Otherwise G tokenises the chunk itself ("redone").  Then G takes S's
 * events, notes, counts, syscall statistics, records and globals. */
#define _POSIX_C_SOURCE 200809L
#include "tok_par.h"
#include "tok_impl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAR_MIN (128u << 10)   /* below this per thread (chunk 0) a block is fed serially */

#define MAX_SPEC 64            /* speculative chunks per round */

/* One round: chunk 0 is G's; the speculative chunks 1..n wait in [front, back]
 * (indices from 0): workers take the last one still waiting, G the first one
 * when it is done with the one before, and tokenises that one itself, as the
 * real state.  So a worker that gets no core costs nothing but the hand-off,
 * and the chunks balance themselves between the threads. */
struct ss_tok_par {
    int nw, nspec;
    pthread_t *thread;
    ss_tok **s;             /* a speculative tokeniser per chunk of a round */
    ss_tok *r;              /* scratch for the re-runs */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int quit, started;
    int busy;               /* a feed is in flight: a helper waits for chunks (ss_tok__par_help) */
    /* the round (under mu) */
    int n, front, back;
    const char *cbuf[MAX_SPEC];
    size_t clen[MAX_SPEC];
    int done[MAX_SPEC], rc[MAX_SPEC];
    uint16_t file_id;
    int32_t dpid;
    uint64_t chunks, redone, reruns;
    /* with chunk 0, the feed is serial or parallel, whichever has been faster
     * per byte lately (a machine with no core to spare makes the workers a
     * loss): the best of each way's last NHIST timings (delays only ever add
     * to a timing), the two ways alternating over the first WARM feeds and
     * the other one tried again every PROBE feeds */
    double hist[2][4];
    uint32_t nhist[2], feeds;
};

#define NHIST 4
#define WARM 8
#define PROBE 16

static double best_rate(const struct ss_tok_par *p, int par)
{
    uint32_t n = p->nhist[par] < NHIST ? p->nhist[par] : NHIST;
    double b = 0;
    for (uint32_t k = 0; k < n; k++)
        if (!b || p->hist[par][k] < b)
            b = p->hist[par][k];
    return b;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* -------------------------------------------------------------- clones */

static int clone_names(ss_name_table *dst, const ss_name_table *src)
{
    for (uint32_t k = 0; k < src->n; k++) {
        const ss_name_entry *e = &src->ent[k];
        ss_name_entry *d = ss_names_insert(dst, e->name, e->len);
        if (!d)
            return -1;
        memcpy(d->val, e->val, sizeof d->val);
    }
    return 0;
}

/* a tokeniser with t's name tables and modes and nothing else */
static ss_tok *clone_tok(const ss_tok *t)
{
    ss_tok *s = ss_tok_new();
    if (!s)
        return NULL;
    for (int i = 0; i < 3; i++)
        if (clone_names(&s->tab[i], &t->tab[i]) < 0) {
            ss_tok_free(s);
            return NULL;
        }
    memcpy(s->modes, t->modes, sizeof s->modes);
    return s;
}

static void reset_pids(ss_pid_table *p)
{
    for (uint32_t k = 0; k < p->nslot; k++) {
        free(p->rec[k].name);
        free(p->rec[k].args);
    }
    if (p->nslot)
        memset(p->rec, 0, p->nslot * sizeof *p->rec);
    p->n = 0;
    p->last = NULL;
}

/* back to a fresh tokeniser, name tables (without statistics) kept */
static void reset_tok(ss_tok *s)
{
    reset_pids(&s->pids);
    ss_name_table *sc = &s->tab[SS_TOK_SYSCALLS];
    for (uint32_t k = 0; k < sc->n; k++)
        sc->ent[k].calls = sc->ent[k].errors = 0;
    memset(&s->counts, 0, sizeof s->counts);
    s->oom = s->in_summary = s->has_partial = s->has_last = 0;
    s->next_line = 1;
    s->nev = s->nnotes = 0;
    ss_arena_reset(&s->arena);
    if (s->spec) {
        s->spec->ndep = 0;
        s->spec->anon_dep = s->spec->scan_dep = s->spec->adopted = 0;
        ss_arena_reset(&s->spec->snap);
    }
}

/* ------------------------------------------------------------- threads */

/* Take the last chunk still waiting and tokenise it speculatively; with p->mu
 * held on entry and on return (released while tokenising). */
static void run_last(struct ss_tok_par *p)
{
    int i = p->back--;
    const char *buf = p->cbuf[i];
    size_t len = p->clen[i];
    uint16_t fid = p->file_id;
    int32_t dpid = p->dpid;
    pthread_mutex_unlock(&p->mu);
    ss_tok *s = p->s[i];
    reset_tok(s);
    int rc = ss_tok__feed_lines(s, buf, len, fid, 1, dpid);
    pthread_mutex_lock(&p->mu);
    p->rc[i] = rc;
    p->done[i] = 1;
    pthread_cond_broadcast(&p->cv);
}

static void *work(void *arg)
{
    struct ss_tok_par *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->front > p->back)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->quit)
            break;
        run_last(p);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

void ss_tok__par_busy(struct ss_tok_par *p, int busy)
{
    pthread_mutex_lock(&p->mu);
    p->busy = busy;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void ss_tok__par_help(struct ss_tok_par *p)
{
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->busy && !p->quit && p->front > p->back)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->front > p->back || p->quit)
            break;          /* the feed is over (a chunk left waiting is its own thread's) */
        run_last(p);
    }
    pthread_mutex_unlock(&p->mu);
}

void ss_tok__par_free(struct ss_tok_par *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->thread[i], NULL);
    for (int i = 0; p->s && i < p->nspec; i++) {
        ss_tok *s = p->s[i];
        if (s && s->spec) {
            free(s->spec->dep);
            ss_arena_free(&s->spec->snap);
            free(s->spec);
            s->spec = NULL;
        }
        ss_tok_free(s);
    }
    ss_tok_free(p->r);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->s);
    free(p->thread);
    free(p);
}

static struct ss_tok_par *par_new(const ss_tok *t, int nw, int nspec)
{
    struct ss_tok_par *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (pthread_mutex_init(&p->mu, NULL)) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cv, NULL)) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    p->front = 0;
    p->back = -1;
    p->nw = nw;
    p->nspec = nspec;
    p->thread = calloc((size_t)(nw > 0 ? nw : 1), sizeof *p->thread);   /* nw 0: the caller helps (tok_pipe.c) */
    p->s = calloc((size_t)nspec, sizeof *p->s);
    p->r = clone_tok(t);
    if (!p->thread || !p->s || !p->r) {
        ss_tok__par_free(p);
        return NULL;
    }
    for (int i = 0; i < nspec; i++) {
        p->s[i] = clone_tok(t);
        if (!p->s[i] || !(p->s[i]->spec = calloc(1, sizeof *p->s[i]->spec))) {
            ss_tok__par_free(p);
            return NULL;
        }
    }
    for (int i = 0; i < nw; i++) {
        if (pthread_create(&p->thread[i], NULL, work, p)) {
            ss_tok__par_free(p);
            return NULL;
        }
        p->started++;
    }
    return p;
}

/* ----------------------------------------------------------- stitching */

static int grow_events(ss_tok *t, uint32_t extra)
{
    if ((uint64_t)t->nev + extra <= t->evcap)
        return 0;
    uint64_t nc = t->evcap ? t->evcap : 4096;
    while (nc < (uint64_t)t->nev + extra)
        nc *= 2;
    if (nc > UINT32_MAX)
        return -1;
    ss_event *ne = realloc(t->ev, (size_t)nc * sizeof *ne);
    if (!ne)
        return -1;
    t->ev = ne;
    t->evcap = (uint32_t)nc;
    return 0;
}

static int grow_notes(ss_tok *t, uint32_t extra)
{
    if ((uint64_t)t->nnotes + extra <= t->notecap)
        return 0;
    uint64_t nc = t->notecap ? t->notecap : 256;
    while (nc < (uint64_t)t->nnotes + extra)
        nc *= 2;
    if (nc > UINT32_MAX)
        return -1;
    ss_note *nn = realloc(t->notes, (size_t)nc * sizeof *nn);
    if (!nn)
        return -1;
    t->notes = nn;
    t->notecap = (uint32_t)nc;
    return 0;
}

/* the scratch tokeniser's record of pid is G's */
static int load_record(ss_tok *r, const ss_pidrec *g)
{
    reset_pids(&r->pids);
    r->has_partial = r->in_summary = r->has_last = 0;
    ss_pidrec *q = ss_pids_get(&r->pids, g->pid, 1);
    if (!q || ss_buf_set(&q->name, &q->name_len, &q->name_cap, g->name, g->name_len) < 0 ||
        ss_buf_set(&q->args, &q->args_len, &q->args_cap, g->args, g->args_len) < 0)
        return -1;
    q->abi = g->abi;
    q->has_pending = g->has_pending;
    q->line = g->line;
    q->file_id = g->file_id;
    q->flags = g->flags;
    q->pabi = g->pabi;
    q->owner = g->owner;
    q->ts = g->ts;
    return 0;
}

/* R's record of the dep's pid equals S's after the line (lines shifted by off) */
static int same_after(const ss_tok *r, const ss_spec_dep *d, uint32_t off)
{
    ss_pidrec *q = ss_pids_lookup((ss_pid_table *)&r->pids, d->pid, 0);
    if (!q || q->abi != d->abi || q->has_pending != d->has_pending)
        return 0;
    if (!q->has_pending)
        return 1;
    return q->pabi == d->pabi && q->flags == d->flags && q->line == d->pline + off &&
           q->file_id == d->pfile && q->owner == d->owner && q->ts == d->ts &&
           q->name_len == d->name_len && q->args_len == d->args_len &&
           memcmp(q->name, d->name, d->name_len) == 0 && memcmp(q->args, d->args, d->args_len) == 0;
}

static void sub_counts(ss_tok_counts *c, const ss_tok_counts *a, const ss_tok_counts *b)
{
    /* c -= (a - b) */
    uint64_t *cv = (uint64_t *)c;
    const uint64_t *av = (const uint64_t *)a, *bv = (const uint64_t *)b;
    for (size_t k = 0; k < sizeof *c / sizeof(uint64_t); k++)
        cv[k] -= av[k] - bv[k];
}

static void add_counts(ss_tok_counts *c, const ss_tok_counts *a)
{
    uint64_t *cv = (uint64_t *)c;
    const uint64_t *av = (const uint64_t *)a;
    for (size_t k = 0; k < sizeof *c / sizeof(uint64_t); k++)
        cv[k] += av[k];
}

/* take back what count_event added to the syscall statistics for events [lo, hi) of s */
static void uncount_stats(ss_tok *s, uint32_t lo, uint32_t hi)
{
    for (uint32_t k = lo; k < hi; k++) {
        const ss_event *e = &s->ev[k];
        if (e->kind != SS_EV_SYSCALL)
            continue;
        if ((e->rec == SS_REC_UNKNOWN || e->rec == SS_REC_UNFINISHED) && !e->errname_len)
            continue;
        ss_name_entry *ne = ss_names_find(&s->tab[SS_TOK_SYSCALLS], e->name, e->name_len);
        if (!ne)
            continue;
        ne->calls--;
        if (e->errname_len)
            ne->errors--;
    }
}

static int merge_stats(ss_tok *g, ss_tok *s)
{
    ss_name_table *sc = &s->tab[SS_TOK_SYSCALLS];
    for (uint32_t k = 0; k < sc->n; k++) {
        ss_name_entry *e = &sc->ent[k];
        if (!e->calls && !e->errors)
            continue;
        ss_name_entry *d = ss_names_insert(&g->tab[SS_TOK_SYSCALLS], e->name, e->len);
        if (!d)
            return -1;
        d->calls += e->calls;
        d->errors += e->errors;
    }
    return 0;
}

static int merge_seen(ss_tok *g, const ss_tok *s)
{
    for (uint32_t k = 0; k < s->pids.nslot; k++) {
        const ss_pidrec *q = &s->pids.rec[k];
        if (!q->used || !q->seen)
            continue;
        ss_pidrec *d = ss_pids_get(&g->pids, q->pid, 1);
        if (!d)
            return -1;
        d->seen = 1;
    }
    return 0;
}

/* chunk ends of S's output and the re-run spliced in: copy events [a, b) and
 * notes [na, nb) of S onto G, lines shifted by off, frame notes' event
 * indices moved with their events */
static void copy_span(ss_tok *g, const ss_tok *s, uint32_t a, uint32_t b, uint32_t na, uint32_t nb, uint32_t off)
{
    int64_t delta = (int64_t)g->nev - (int64_t)a;
    for (uint32_t k = na; k < nb; k++) {
        ss_note n = s->notes[k];
        n.line += off;
        if (n.kind == SS_NOTE_FRAME)
            n.reason = (uint32_t)((int64_t)n.reason + delta);
        g->notes[g->nnotes++] = n;
    }
    if (b == a)
        return;
    ss_event *dst = g->ev + g->nev;
    memcpy(dst, s->ev + a, (size_t)(b - a) * sizeof *dst);
    for (uint32_t k = 0; k < b - a; k++)
        dst[k].line += off;
    g->nev += b - a;
}

static void take_arena(ss_arena *dst, ss_arena *src)
{
    /* src's chunks go after dst's current one (which stays the one allocated from) */
    ss_arena_chunk *c = src->head;
    if (!c)
        return;
    ss_arena_chunk *last = c;
    while (last->next)
        last = last->next;
    if (dst->head) {
        last->next = dst->head->next;
        dst->head->next = c;
    } else
        dst->head = c;
    src->head = NULL;
}

/* S's chunk onto G, or -1 when it must be tokenised again (G untouched), -2 on out of memory */
static int stitch(struct ss_tok_par *p, ss_tok *g, ss_tok *s)
{
    ss_spec *sp = s->spec;
    ss_tok *r = p->r;
    uint32_t off = g->next_line - 1;
    if (s->oom || g->has_partial || g->in_summary)
        return -1;
    if (sp->anon_dep && g->has_last) {
        ss_pidrec *q = ss_pids_get(&g->pids, g->last_pid, 0);
        if (q && q->has_pending)
            return -1;
    }
    int any_pending;
    for (uint32_t k = 0; k < s->pids.nslot; k++) {
        const ss_pidrec *q = &s->pids.rec[k];
        if (!q->used)
            continue;
        ss_pidrec *d = ss_pids_get(&g->pids, q->pid, 0);
        if (d && d->abi != 0)
            return -1;
    }
    if (sp->scan_dep) {
        any_pending = 0;
        for (uint32_t k = 0; k < g->pids.nslot; k++)
            any_pending |= g->pids.rec[k].used && g->pids.rec[k].has_pending;
        if (any_pending)
            return -1;
    }
    /* the re-runs, on R, G still untouched */
    reset_tok(r);
    uint32_t nrerun = 0;
    for (uint32_t k = 0; k < sp->ndep; k++) {
        ss_spec_dep *d = &sp->dep[k];
        d->rerun = 0;
        ss_pidrec *q = ss_pids_get(&g->pids, d->pid, 0);
        if (!q || !q->has_pending)
            continue;
        if (d->pid < 0 || d->bad || q->owner != d->pid)
            return -1;
        if (load_record(r, q) < 0)
            return -2;
        d->r_ev_lo = r->nev;
        d->r_note_lo = r->nnotes;
        ss_tok__feed_line(r, d->s, d->n, d->file_id, d->line + off, d->dpid);
        if (r->oom)
            return -2;
        d->r_ev_hi = r->nev;
        d->r_note_hi = r->nnotes;
        if (r->has_partial || !same_after(r, d, off))
            return -1;
        ss_pidrec *rq = ss_pids_lookup(&r->pids, d->pid, 0);
        d->r_seen = rq && rq->seen;
        d->rerun = 1;
        nrerun++;
    }
    /* commit */
    if (grow_events(g, s->nev + r->nev) < 0 || grow_notes(g, s->nnotes + r->nnotes) < 0)
        return -2;
    uint32_t a = 0, na = 0;
    for (uint32_t k = 0; k < sp->ndep; k++) {
        ss_spec_dep *d = &sp->dep[k];
        if (!d->rerun)
            continue;
        copy_span(g, s, a, d->ev_lo, na, d->note_lo, off);
        for (uint32_t x = d->r_ev_lo; x < d->r_ev_hi; x++)
            g->ev[g->nev++] = r->ev[x];
        for (uint32_t x = d->r_note_lo; x < d->r_note_hi; x++)
            g->notes[g->nnotes++] = r->notes[x];
        if (d->r_seen) {
            ss_pidrec *gq = ss_pids_get(&g->pids, d->pid, 1);
            if (!gq)
                return -2;
            gq->seen = 1;
        }
        sub_counts(&s->counts, &d->after, &d->before);
        uncount_stats(s, d->ev_lo, d->ev_hi);
        a = d->ev_hi;
        na = d->note_hi;
    }
    copy_span(g, s, a, s->nev, na, s->nnotes, off);
    add_counts(&g->counts, &s->counts);
    add_counts(&g->counts, &r->counts);
    if (merge_stats(g, s) < 0 || merge_stats(g, r) < 0 || merge_seen(g, r) < 0)
        return -2;
    for (uint32_t k = 0; k < s->pids.nslot; k++) {
        ss_pidrec *q = &s->pids.rec[k];
        if (!q->used)
            continue;
        ss_pidrec *d = ss_pids_get(&g->pids, q->pid, 1);
        if (!d)
            return -2;
        d->seen |= q->seen;
        d->abi = q->abi;
        if (!(q->sflags & SS_SF_PEND))
            continue;
        /* S's pending call (or that it has none left) is the pid's */
        ss_tok__move_pending(d, q);
        d->line += off;
    }
    if (s->has_last) {
        g->has_last = 1;
        g->last_pid = s->last_pid;
    }
    if (s->has_partial) {
        char *tp = g->partial;
        uint32_t tc = g->partial_cap;
        g->partial = s->partial;
        g->partial_cap = s->partial_cap;
        g->partial_len = s->partial_len;
        s->partial = tp;
        s->partial_cap = tc;
        g->has_partial = 1;
        g->partial_line = s->partial_line + off;
        g->partial_file = s->partial_file;
        g->partial_pid = s->partial_pid;
    }
    g->in_summary = s->in_summary;
    g->next_line += s->next_line - 1;
    take_arena(&g->arena, &s->arena);
    take_arena(&g->arena, &r->arena);
    p->reruns += nrerun;
    return 0;
}

/* ---------------------------------------------------------------- feed */

/* the end of the chunk from pos of at least n bytes: just past a newline, or len */
static size_t cut(const char *buf, size_t len, size_t pos, size_t n)
{
    if (n >= len - pos)
        return len;
    const char *q = memchr(buf + pos + n - 1, '\n', len - (pos + n - 1));
    return q ? (size_t)(q - buf) + 1 : len;
}

static int64_t feed_rounds(struct ss_tok_par *p, ss_tok *t, const char *buf, size_t len, uint16_t file_id,
                           uint32_t first_line, int32_t default_pid, size_t chunk, int nspec);

struct ss_tok_par *ss_tok__par_get(struct ss_tok *t, int nthreads, int nw)
{
    if (nthreads > 32)
        nthreads = 32;
    if (nw > nthreads - 1)
        nw = nthreads - 1;
    if (t->par && (t->par->nw != nw || t->par->nspec != 2 * nthreads - 1)) {
        ss_tok__par_free(t->par);
        t->par = NULL;
    }
    /* two chunks per thread a round (the threads' shares balance themselves) */
    if (!t->par)
        t->par = par_new(t, nw, 2 * nthreads - 1);
    return t->par;
}

int64_t ss_tok_feed_par(struct ss_tok *t, const char *buf, size_t len, uint16_t file_id,
                        uint32_t first_line, int32_t default_pid, int nthreads, size_t chunk)
{
    return ss_tok__feed_par(t, buf, len, file_id, first_line, default_pid, nthreads, nthreads - 1, chunk);
}

int64_t ss_tok__feed_par(struct ss_tok *t, const char *buf, size_t len, uint16_t file_id,
                         uint32_t first_line, int32_t default_pid, int nthreads, int nw, size_t chunk)
{
    if (nthreads < 2 || (!chunk && len / (size_t)nthreads < PAR_MIN))
        return ss_tok_feed(t, buf, len, file_id, first_line, default_pid);
    struct ss_tok_par *p = ss_tok__par_get(t, nthreads, nw);
    if (!p)
        return ss_tok_feed(t, buf, len, file_id, first_line, default_pid);
    int nspec = p->nspec;
    if (chunk)
        return feed_rounds(p, t, buf, len, file_id, first_line, default_pid, chunk, nspec);
    /* the output never depends on the choice: only the time does */
    uint32_t f = p->feeds++;
    int par = f < WARM ? !(f & 1) : best_rate(p, 1) <= best_rate(p, 0);
    if (f >= WARM && f % PROBE == 0)
        par = !par;
    uint64_t t0 = now_ns();
    int64_t n = par ? feed_rounds(p, t, buf, len, file_id, first_line, default_pid, 0, nspec)
                    : ss_tok_feed(t, buf, len, file_id, first_line, default_pid);
    p->hist[par][p->nhist[par]++ % NHIST] = (double)(now_ns() - t0) / (double)(len ? len : 1);
    return n;
}

/* the rounds of chunks of one block */
static int64_t feed_rounds(struct ss_tok_par *p, ss_tok *t, const char *buf, size_t len, uint16_t file_id,
                           uint32_t first_line, int32_t default_pid, size_t chunk, int nspec)
{
    ss_tok__begin_batch(t);
    if (first_line)
        t->next_line = first_line;
    size_t csz = chunk ? chunk : (len + (size_t)nspec) / (size_t)(nspec + 1);
    size_t pos = 0;
    int oom = 0;
    while (pos < len && !oom) {
        size_t e0 = cut(buf, len, pos, csz), q = e0;
        pthread_mutex_lock(&p->mu);
        int n = 0;
        while (n < nspec && q < len) {
            size_t e = cut(buf, len, q, csz);
            p->cbuf[n] = buf + q;
            p->clen[n] = e - q;
            p->done[n] = 0;
            q = e;
            n++;
        }
        p->n = n;
        p->file_id = file_id;
        p->dpid = default_pid;
        p->front = 0;
        p->back = n - 1;
        if (n)
            pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (ss_tok__feed_lines(t, buf + pos, e0 - pos, file_id, t->next_line, default_pid) < 0)
            oom = 1;
        for (int i = 0; i < n; i++) {
            pthread_mutex_lock(&p->mu);
            if (i <= p->back && !chunk) {
                /* still waiting: G takes it (not with the test knob chunk, which
                 * is there to make every chunk boundary a stitch) */
                p->front = i + 1;
                pthread_mutex_unlock(&p->mu);
                if (!oom && ss_tok__feed_lines(t, p->cbuf[i], p->clen[i], file_id, t->next_line, default_pid) < 0)
                    oom = 1;
                continue;
            }
            while (!p->done[i])     /* a worker has it or, with chunk, will take it */
                pthread_cond_wait(&p->cv, &p->mu);
            pthread_mutex_unlock(&p->mu);
            if (oom)
                continue;
            p->chunks++;
            int rc = p->rc[i] < 0 ? -1 : stitch(p, t, p->s[i]);
            if (rc == -2)
                oom = 1;
            else if (rc == -1) {
                p->redone++;
                if (ss_tok__feed_lines(t, p->cbuf[i], p->clen[i], file_id, t->next_line, default_pid) < 0)
                    oom = 1;
            }
        }
        pos = q;
    }
    if (oom) {
        t->oom = 1;
        return -1;
    }
    return (int64_t)t->nev;
}

void ss_tok_par_stats(const struct ss_tok *t, uint64_t *chunks, uint64_t *redone, uint64_t *reruns)
{
    const struct ss_tok_par *p = t->par;
    *chunks = p ? p->chunks : 0;
    *redone = p ? p->redone : 0;
    *reruns = p ? p->reruns : 0;
}
