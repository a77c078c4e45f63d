/* SPDX-License-Identifier: MIT */
/* strace tokeniser.  The grammar and every decision mirror the Python
 * reference src/shimsim/trace/strace.py; keep the two in step (the
 * differential test compares them event by event). */
#include "tokenise.h"
#include "lex.h"
#include "tok_scan.h"
#include "tok_store.h"
#include "tok_impl.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PARTIAL (1u << 20)

/* ------------------------------------------------------------- tokeniser */

ss_tok *ss_tok_new(void)
{
    ss_tok *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->modes[0] = 0;
    t->modes[1] = t->modes[2] = -1;
    t->next_line = 1;
    return t;
}

void ss_tok_free(ss_tok *t)
{
    if (!t)
        return;
    for (int i = 0; i < 3; i++)
        ss_names_free(&t->tab[i]);
    for (uint32_t k = 0; k < t->pids.nslot; k++) {
        free(t->pids.rec[k].name);
        free(t->pids.rec[k].args);
    }
    free(t->pids.rec);
    ss_arena_free(&t->arena);
    free(t->ev);
    free(t->notes);
    ss_arena_free(&t->spare.arena);
    free(t->spare.ev);
    free(t->spare.notes);
    free(t->partial);
    ss_tok__par_free(t->par);
    free(t);
}

int ss_tok_add_name(ss_tok *t, int table, int abi, const char *name, uint32_t len, int32_t value)
{
    if (table < 0 || table > 2 || abi < 0 || abi >= SS_TOK_MAX_ABI)
        return -1;
    ss_name_entry *e = ss_names_insert(&t->tab[table], name, len);
    if (!e)
        return -1;
    e->val[abi] = value;
    return 0;
}

void ss_tok_set_modes(ss_tok *t, int m64, int m32, int mx32)
{
    t->modes[0] = m64;
    t->modes[1] = m32;
    t->modes[2] = mx32;
}

const ss_event *ss_tok_events(const ss_tok *t) { return t->ev; }

#define SWAP(T, a, b) do { T tmp_ = (a); (a) = (b); (b) = tmp_; } while (0)
void ss_tok_swap(ss_tok *t)
{
    SWAP(ss_arena, t->arena, t->spare.arena);
    SWAP(ss_event *, t->ev, t->spare.ev);
    SWAP(uint32_t, t->nev, t->spare.nev);
    SWAP(uint32_t, t->evcap, t->spare.evcap);
    SWAP(ss_note *, t->notes, t->spare.notes);
    SWAP(uint32_t, t->nnotes, t->spare.nnotes);
    SWAP(uint32_t, t->notecap, t->spare.notecap);
}
#undef SWAP
uint32_t ss_tok_next_line(const ss_tok *t) { return t->next_line; }
uint32_t ss_tok_nnotes(const ss_tok *t) { return t->nnotes; }
const ss_note *ss_tok_notes(const ss_tok *t) { return t->notes; }
void ss_tok_get_counts(const ss_tok *t, ss_tok_counts *out) { *out = t->counts; }
uint32_t ss_tok_nsyscalls(const ss_tok *t) { return t->tab[SS_TOK_SYSCALLS].n; }

int ss_tok_syscall_stat(const ss_tok *t, uint32_t i, const char **name, uint32_t *len,
                        uint64_t *calls, uint64_t *errors)
{
    if (i >= t->tab[SS_TOK_SYSCALLS].n)
        return -1;
    const ss_name_entry *e = &t->tab[SS_TOK_SYSCALLS].ent[i];
    *name = e->name;
    *len = e->len;
    *calls = e->calls;
    *errors = e->errors;
    return 0;
}

uint32_t ss_tok_npids(const ss_tok *t)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < t->pids.nslot; k++)
        n += t->pids.rec[k].used && t->pids.rec[k].seen;
    return n;
}

uint32_t ss_tok_pids(const ss_tok *t, int32_t *out, uint32_t cap)
{
    uint32_t n = 0;
    for (uint32_t k = 0; k < t->pids.nslot && n < cap; k++)
        if (t->pids.rec[k].used && t->pids.rec[k].seen)
            out[n++] = t->pids.rec[k].pid;
    return n;
}

/* ---------------------------------------------------------------- output */

static ss_event *new_event(ss_tok *t, uint8_t kind, uint16_t file_id, uint32_t line, int32_t pid)
{
    if (t->nev == t->evcap) {
        uint32_t nc = t->evcap ? t->evcap * 2 : 4096;
        ss_event *ne = realloc(t->ev, nc * sizeof *ne);
        if (!ne) {
            t->oom = 1;
            return NULL;
        }
        t->ev = ne;
        t->evcap = nc;
    }
    ss_event *e = &t->ev[t->nev++];
    /* one struct store (the compiler writes it as a few vector moves) in
     * place of a memset and the defaults one by one */
    *e = (ss_event){
        .kind = kind,
        .file_id = file_id,
        .line = line,
        .pid = pid,
        .tid = pid,    /* strace prints the thread id: [pid N], the -f -o column, the -ff file suffix */
        .nr = -1,
        .name = "",
        .args = "",
        .errname = "",
    };
    return e;
}

/* Stats for an event that is complete (mirrors ParseStats.add_event). */
static void count_event(ss_tok *t, ss_event *e, ss_name_entry *ne)
{
    t->counts.by_kind[e->kind]++;
    if (e->pid >= 0) {
        ss_pidrec *r = ss_pids_get(&t->pids, e->pid, 1);
        if (!r)
            t->oom = 1;
        else
            r->seen = 1;
    }
    if (e->kind == SS_EV_SYSCALL) {
        if ((e->rec == SS_REC_UNKNOWN || e->rec == SS_REC_UNFINISHED) && !e->errname_len)
            return;
        if (!ne)
            ne = ss_names_insert(&t->tab[SS_TOK_SYSCALLS], e->name, e->name_len);
        if (!ne) {
            t->oom = 1;
            return;
        }
        ne->calls++;
        if (e->errname_len)
            ne->errors++;
    }
}

static void note(ss_tok *t, uint16_t kind, uint32_t reason, uint16_t file_id, uint32_t line,
                 const char *text, size_t len)
{
    if (kind == SS_NOTE_UNPARSED)
        t->counts.unparsed++;
    if (t->nnotes == t->notecap) {
        uint32_t nc = t->notecap ? t->notecap * 2 : 256;
        ss_note *nn = realloc(t->notes, nc * sizeof *nn);
        if (!nn) {
            t->oom = 1;
            return;
        }
        t->notes = nn;
        t->notecap = nc;
    }
    ss_note *n = &t->notes[t->nnotes++];
    n->line = line;
    n->file_id = file_id;
    n->kind = kind;
    n->reason = reason;
    n->text = text;
    n->len = (uint32_t)len;
}

static int32_t lookup(ss_tok *t, int table, int abi, const char *s, uint32_t n)
{
    ss_name_entry *e = ss_names_find(&t->tab[table], s, n);
    return e ? e->val[abi] : -1;
}

/* -------------------------------------------------------------- the lines */

typedef struct {
    uint16_t file_id;
    uint32_t line;
    int32_t pid;
    int has_ts;
    double ts;
} ctx;

static void unparsed(ss_tok *t, const ctx *c, int code, const char *s, size_t n)
{
    note(t, SS_NOTE_UNPARSED, (uint32_t)code, c->file_id, c->line, s, n);
}

/* Speculative tokenisers (t->spec): the first read of a pid's pending call
 * is recorded with the line it happens on; the record is made at once, so a
 * caller's pointers to records must be looked up after the hook. */
static void spec_pend_slow(ss_tok *t, int32_t pid)
{
    ss_pidrec *r = ss_pids_get(&t->pids, pid, 1);
    if (!r) {
        t->oom = 1;
        return;
    }
    if (r->sflags & SS_SF_PEND)
        return;
    r->sflags |= SS_SF_PEND;
    ss_spec *sp = t->spec;
    if (sp->ndep == sp->depcap) {
        uint32_t nc = sp->depcap ? sp->depcap * 2 : 256;
        ss_spec_dep *nd = realloc(sp->dep, nc * sizeof *nd);
        if (!nd) {
            t->oom = 1;
            return;
        }
        sp->dep = nd;
        sp->depcap = nc;
    }
    ss_spec_dep *d = &sp->dep[sp->ndep++];
    memset(d, 0, sizeof *d);
    d->pid = pid;
    d->line = sp->cur_line;
    d->bad = sp->line_cont || t->nev != sp->line_ev0 || t->nnotes != sp->line_note0;
    d->ev_lo = sp->line_ev0;
    d->note_lo = sp->line_note0;
    d->s = sp->line_s;
    d->n = sp->line_n;
    d->dpid = sp->line_dpid;
    d->file_id = sp->line_fid;
    d->before = t->counts;
}

static inline void spec_pend(ss_tok *t, int32_t pid)
{
    if (t->spec)
        spec_pend_slow(t, pid);
}

static uint8_t pid_abi(ss_tok *t, int32_t pid)
{
    if (t->spec && !ss_pids_get(&t->pids, pid, 1))  /* a record for every pid whose ABI was read */
        t->oom = 1;
    ss_pidrec *r = ss_pids_get(&t->pids, pid, 0);
    return r ? r->abi : 0;
}

static ss_event *base_event(ss_tok *t, uint8_t kind, const ctx *c)
{
    ss_event *e = new_event(t, kind, c->file_id, c->line, c->pid);
    if (!e)
        return NULL;
    if (c->has_ts) {
        e->flags |= SS_EVF_HAS_TS;
        e->ts = c->ts;
    }
    e->abi = pid_abi(t, c->pid);
    return e;
}

static void set_sig(ss_tok *t, ss_event *e, const char *name, size_t len)
{
    e->name = name;
    e->name_len = (uint32_t)len;
    e->err = lookup(t, SS_TOK_SIGNALS, (int)e->abi, name, (uint32_t)len);
}

static void emit_unfinished(ss_tok *t, ss_pidrec *p)
{
    /* the pending text must outlive the pid record's buffers */
    char *name = ss_arena_alloc(&t->arena, p->name_len + p->args_len + 1);
    if (!name) {
        t->oom = 1;
        return;
    }
    memcpy(name, p->name, p->name_len);
    memcpy(name + p->name_len, p->args, p->args_len);
    ss_event *e = new_event(t, SS_EV_SYSCALL, p->file_id, p->line, p->owner);
    p->has_pending = 0;
    if (!e)
        return;
    e->name = name;
    e->name_len = p->name_len;
    e->args = name + p->name_len;
    e->args_len = p->args_len;
    e->ts = p->ts;
    e->flags = p->flags | SS_EVF_NO_RET;
    e->rec = SS_REC_UNFINISHED;
    e->abi = p->pabi;
    ss_name_entry *ne = ss_names_find(&t->tab[SS_TOK_SYSCALLS], e->name, e->name_len);
    e->nr = ne ? ne->val[e->abi] : -1;
    count_event(t, e, ne);
}

static void flush_pid(ss_tok *t, int32_t pid)
{
    spec_pend(t, pid);
    ss_pidrec *p = ss_pids_get(&t->pids, pid, 0);
    if (p && p->has_pending)
        emit_unfinished(t, p);
}

static void finish_syscall(ss_tok *t, ss_event *e, const ss_result *r)
{
    if (r->has_dur) {
        e->flags |= SS_EVF_HAS_DUR;
        e->dur = r->dur;
    }
    if (!r->has_ret)
        e->flags |= SS_EVF_NO_RET;
    e->ret = r->has_ret ? r->ret : 0;
    e->rec = ss_rec_of(r);
    if (r->errname) {
        e->errname = r->errname;
        e->errname_len = r->errname_len;
        e->err = lookup(t, SS_TOK_ERRNOS, (int)e->abi, r->errname, r->errname_len);
    }
    ss_name_entry *ne = ss_names_find(&t->tab[SS_TOK_SYSCALLS], e->name, e->name_len);
    e->nr = ne ? ne->val[e->abi] : -1;
    count_event(t, e, ne);
}

static void line_body(ss_tok *t, const char *s, size_t n, size_t i, ctx *c);

/* "(strace: )?Process [0-9]+ (attached|detached)$" or " ?[wait(0x..) = N] " */
static size_t splice_start(const char *s, size_t n, int *detached)
{
    size_t best = (size_t)-1;
    *detached = 0;
    int att = n >= 9 && memcmp(s + n - 9, " attached", 9) == 0;
    int det = n >= 9 && memcmp(s + n - 9, " detached", 9) == 0;
    if (att || det) {
        size_t k = n - 9;
        size_t d = k;
        while (d > 0 && IS_DIGIT(s[d - 1]))
            d--;
        if (d < k && d >= 8 && memcmp(s + d - 8, "Process ", 8) == 0) {
            size_t st = d - 8;
            if (st >= 8 && memcmp(s + st - 8, "strace: ", 8) == 0)
                st -= 8;
            best = st;
            *detached = det;
        }
    }
    size_t i = 0;
    while (i < n) {
        const char *p = memchr(s + i, '[', n - i);
        if (!p)
            break;
        size_t k = (size_t)(p - s);
        if (k >= best)
            break;
        if (STARTS(s, n, k, "[wait(0x")) {
            size_t j = k + 8, h = j;
            while (j < n && ((s[j] >= '0' && s[j] <= '9') || (s[j] >= 'a' && s[j] <= 'f')))
                j++;
            if (j > h && STARTS(s, n, j, ") = ")) {
                j += 4;
                size_t d = j;
                while (j < n && IS_DIGIT(s[j]))
                    j++;
                if (j > d && STARTS(s, n, j, "] ")) {
                    size_t st = (k > 0 && s[k - 1] == ' ') ? k - 1 : k;
                    if (st < best)
                        best = st;
                    break;
                }
            }
        }
        i = k + 1;
    }
    return best;
}

static void incomplete(ss_tok *t, const char *s, size_t n, ctx *c, const char *name, size_t name_len,
                       size_t astart)
{
    int detached;
    size_t cut = splice_start(s, n, &detached);
    if (cut != (size_t)-1) {
        if (detached) {
            spec_pend(t, c->pid);
            ss_pidrec *p = ss_pids_get(&t->pids, c->pid, 0);
            int had = p && p->has_pending;
            ss_event *e = new_event(t, SS_EV_DETACHED, c->file_id, c->line, c->pid);
            if (e) {
                e->abi = pid_abi(t, c->pid);
                e->name = name;
                e->name_len = (uint32_t)name_len;
                e->args = s + astart;
                e->args_len = astart <= cut ? (uint32_t)(cut - astart) : 0;
                count_event(t, e, NULL);
            }
            if (had)
                emit_unfinished(t, p);
            return;
        }
        n = cut;
    }
    if (t->has_partial)
        note(t, SS_NOTE_UNPARSED, SS_R_PARTIAL, t->partial_file, t->partial_line, t->partial,
             0);
    if (ss_buf_set(&t->partial, &t->partial_len, &t->partial_cap, s, n) < 0) {
        t->oom = 1;
        return;
    }
    t->has_partial = 1;
    t->partial_line = c->line;
    t->partial_file = c->file_id;
    t->partial_pid = c->pid;
}

static void do_call(ss_tok *t, const char *s, size_t n, size_t i, size_t j, ctx *c)
{
    size_t start = j + 1, end;
    int trunc;
    int kind = ss_lex_call(s, n, start, &end, &trunc);
    uint32_t flags = trunc ? SS_EVF_TRUNCATED : 0;
    if (kind == SS_LEX_EOL) {
        incomplete(t, s, n, c, s + i, j - i, start);
        return;
    }
    if (kind == SS_LEX_UNFINISHED || kind == SS_LEX_DETACHED) {
        size_t alen = end - start;
        if (alen && s[start + alen - 1] == ' ')
            alen--;
        if (kind == SS_LEX_DETACHED) {
            ss_event *e = base_event(t, SS_EV_DETACHED, c);
            if (!e)
                return;
            e->flags |= flags;
            e->name = s + i;
            e->name_len = (uint32_t)(j - i);
            e->args = s + start;
            e->args_len = (uint32_t)alen;
            count_event(t, e, NULL);
            return;
        }
        flush_pid(t, c->pid);
        ss_pidrec *p = ss_pids_get(&t->pids, c->pid, 1);
        if (!p || ss_buf_set(&p->name, &p->name_len, &p->name_cap, s + i, j - i) < 0 ||
            ss_buf_set(&p->args, &p->args_len, &p->args_cap, s + start, alen) < 0) {
            t->oom = 1;
            return;
        }
        p->has_pending = 1;
        p->owner = c->pid;
        p->line = c->line;
        p->file_id = c->file_id;
        p->ts = c->has_ts ? c->ts : 0.0;
        p->flags = flags | (c->has_ts ? SS_EVF_HAS_TS : 0);
        p->pabi = p->abi;
        t->has_last = 1;
        t->last_pid = c->pid;
        return;
    }
    ss_result r;
    int rc = ss_parse_result(s, n, end + 1, &r);
    if (rc) {
        unparsed(t, c, rc, s, n);
        return;
    }
    ss_event *e = base_event(t, SS_EV_SYSCALL, c);
    if (!e)
        return;
    e->flags |= flags;
    e->name = s + i;
    e->name_len = (uint32_t)(j - i);
    e->args = s + start;
    e->args_len = (uint32_t)(end - start);
    finish_syscall(t, e, &r);
}

/* joined pending + part, right-stripped of spaces, in the ss_arena */
static const char *join_args(ss_tok *t, const ss_pidrec *p, const char *part, size_t plen, uint32_t *outlen)
{
    size_t n = p->args_len + plen;
    char *buf = ss_arena_alloc(&t->arena, n + p->name_len + 1);
    if (!buf) {
        t->oom = 1;
        *outlen = 0;
        return "";
    }
    memcpy(buf, p->args, p->args_len);
    memcpy(buf + p->args_len, part, plen);
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    *outlen = (uint32_t)n;
    return buf;
}

/* In stderr captures the first process has no [pid N] prefix until a second
 * one exists: a call it left unfinished is resumed under its pid. */
static int pending_is(const ss_pidrec *q, const char *name, size_t name_len)
{
    return q && q->has_pending && q->name_len == name_len && memcmp(q->name, name, name_len) == 0;
}


static void adopt(ss_tok *t, int32_t pid, const char *name, size_t name_len)
{
    spec_pend(t, pid);
    ss_pidrec *p = ss_pids_get(&t->pids, pid, 0);
    if (p && p->has_pending)
        return;
    if (pid >= 0) {
        spec_pend(t, -1);
        if (!pending_is(ss_pids_get(&t->pids, -1, 0), name, name_len))
            return;
        p = ss_pids_get(&t->pids, pid, 1);   /* may move the records: look q up again */
        if (!p) {
            t->oom = 1;
            return;
        }
        ss_pidrec *q = ss_pids_get(&t->pids, -1, 0);
        if (t->spec)
            t->spec->adopted = 1;
        ss_tok__move_pending(p, q);
        p->owner = pid;
        return;
    }
    if (t->spec)
        t->spec->scan_dep = 1;   /* reads every pid's pending call */
    int32_t from = 0;
    uint32_t count = 0;
    for (uint32_t k = 0; k < t->pids.nslot; k++) {
        ss_pidrec *q = &t->pids.rec[k];
        if (q->used && pending_is(q, name, name_len)) {
            count++;
            from = q->pid;
        }
    }
    if (count != 1)
        return;
    p = ss_pids_get(&t->pids, -1, 1);
    if (!p) {
        t->oom = 1;
        return;
    }
    if (t->spec)
        t->spec->adopted = 1;
    ss_tok__move_pending(p, ss_pids_get(&t->pids, from, 0));
}

/* q's pending call (and whether it has one) becomes p's: buffers swapped,
 * owner kept; q is left with none */
void ss_tok__move_pending(ss_pidrec *p, ss_pidrec *q)
{
    char *tn = p->name, *ta = p->args;
    uint32_t tnc = p->name_cap, tac = p->args_cap;
    p->name = q->name;
    p->name_len = q->name_len;
    p->name_cap = q->name_cap;
    p->args = q->args;
    p->args_len = q->args_len;
    p->args_cap = q->args_cap;
    q->name = tn;
    q->name_cap = tnc;
    q->name_len = 0;
    q->args = ta;
    q->args_cap = tac;
    q->args_len = 0;
    p->line = q->line;
    p->file_id = q->file_id;
    p->ts = q->ts;
    p->flags = q->flags;
    p->pabi = q->pabi;
    p->owner = q->owner;
    p->has_pending = q->has_pending;
    q->has_pending = 0;
}

/* strace -z/-Z print the rest of an unfinished call without the
 * "<... NAME resumed>" header ("ARGS) = RESULT", often just ") = R"): such a
 * line, when nothing else fits, resumes the latest unfinished call. */
static void do_anon_resumed(ss_tok *t, const char *s, size_t n, size_t i, ctx *c)
{
    if (t->spec) {
        if (t->has_last)
            spec_pend(t, t->last_pid);
        else
            t->spec->anon_dep = 1;   /* the latest unfinished call may be the real state's */
    }
    ss_pidrec *p = t->has_last ? ss_pids_get(&t->pids, t->last_pid, 0) : NULL;
    if (!p || !p->has_pending) {
        unparsed(t, c, SS_R_SYNTAX, s, n);
        return;
    }
    size_t end;
    int trunc;
    if (ss_lex_call(s, n, i, &end, &trunc) != SS_LEX_CLOSE) {
        unparsed(t, c, SS_R_SYNTAX, s, n);
        return;
    }
    ss_result r;
    int rc = ss_parse_result(s, n, end + 1, &r);
    if (rc) {
        unparsed(t, c, rc, s, n);
        return;
    }
    uint32_t alen;
    const char *args = join_args(t, p, s + i, end - i, &alen);
    ss_event *e = new_event(t, SS_EV_SYSCALL, p->file_id, p->line, p->owner);
    p->has_pending = 0;
    if (!e)
        return;
    e->ts = p->ts;
    e->flags = p->flags | SS_EVF_MERGED | (trunc ? SS_EVF_TRUNCATED : 0);
    e->abi = p->pabi;
    e->args = args;
    e->args_len = alen;
    /* the name must outlive the record's buffer */
    char *nm = ss_arena_alloc(&t->arena, p->name_len + 1);
    if (!nm) {
        t->oom = 1;
        return;
    }
    memcpy(nm, p->name, p->name_len);
    e->name = nm;
    e->name_len = p->name_len;
    finish_syscall(t, e, &r);
}

static void do_resumed(ss_tok *t, const char *s, size_t n, size_t i, ctx *c)
{
    /* NAME then " resumed>": a name has no space, so the first " resumed>"
     * after a run of name characters is the one a search would find */
    size_t j = i + 5, k = j;
    while (k < n && IS_NAME(s[k]))
        k++;
    if (!(k > j && STARTS(s, n, k, " resumed>"))) {
        unparsed(t, c, SS_R_RESUMED, s, n);
        return;
    }
    const char *name = s + j;
    size_t name_len = k - j;
    size_t r0 = k + 9;
    if (STARTS(s, n, r0, " <unfinished ...>"))
        r0 += 17;
    size_t end;
    int trunc;
    int kind = ss_lex_call(s, n, r0, &end, &trunc);
    if (kind == SS_LEX_EOL) {
        incomplete(t, s, n, c, name, name_len, r0);
        return;
    }
    adopt(t, c->pid, name, name_len);
    ss_pidrec *p = ss_pids_get(&t->pids, c->pid, 0);
    int have = p && p->has_pending;
    if (kind == SS_LEX_UNFINISHED) {
        size_t plen = end - r0;
        if (plen && s[r0 + plen - 1] == ' ')
            plen--;
        if (have && p->name_len == name_len && memcmp(p->name, name, name_len) == 0) {
            if (ss_buf_append(&p->args, &p->args_len, &p->args_cap, s + r0, plen) < 0)
                t->oom = 1;
            if (trunc)
                p->flags |= SS_EVF_TRUNCATED;
        } else {
            if (have)
                emit_unfinished(t, p);
            p = ss_pids_get(&t->pids, c->pid, 1);
            if (!p || ss_buf_set(&p->name, &p->name_len, &p->name_cap, name, name_len) < 0 ||
                ss_buf_set(&p->args, &p->args_len, &p->args_cap, s + r0, plen) < 0) {
                t->oom = 1;
                return;
            }
            p->has_pending = 1;
            p->owner = c->pid;
            p->line = c->line;
            p->file_id = c->file_id;
            p->ts = c->has_ts ? c->ts : 0.0;
            p->flags = (trunc ? SS_EVF_TRUNCATED : 0) | (c->has_ts ? SS_EVF_HAS_TS : 0);
            p->pabi = p->abi;
            t->has_last = 1;
            t->last_pid = c->pid;
        }
        return;
    }
    const char *part = s + r0;
    size_t plen = end - r0;
    if (have && !(p->name_len == name_len && memcmp(p->name, name, name_len) == 0)) {
        emit_unfinished(t, p);
        have = 0;
    }
    if (kind == SS_LEX_DETACHED) {
        ss_event *e;
        if (have) {
            uint32_t alen;
            const char *args = join_args(t, p, part, plen, &alen);
            e = new_event(t, SS_EV_DETACHED, p->file_id, p->line, p->owner);
            p->has_pending = 0;
            if (!e)
                return;
            e->ts = p->ts;
            e->flags = p->flags | SS_EVF_MERGED;
            e->abi = p->pabi;
            e->args = args;
            e->args_len = alen;
        } else {
            e = base_event(t, SS_EV_DETACHED, c);
            if (!e)
                return;
            while (plen > 0 && part[plen - 1] == ' ')
                plen--;
            e->args = part;
            e->args_len = (uint32_t)plen;
        }
        e->name = name;
        e->name_len = (uint32_t)name_len;
        count_event(t, e, NULL);
        return;
    }
    ss_result r;
    int rc = ss_parse_result(s, n, end + 1, &r);
    if (rc) {
        unparsed(t, c, rc, s, n);
        if (have)
            emit_unfinished(t, p);
        return;
    }
    ss_event *e;
    if (have) {
        uint32_t alen;
        const char *args = join_args(t, p, part, plen, &alen);
        e = new_event(t, SS_EV_SYSCALL, p->file_id, p->line, p->owner);
        p->has_pending = 0;
        if (!e)
            return;
        e->ts = p->ts;
        e->flags = p->flags | SS_EVF_MERGED | (trunc ? SS_EVF_TRUNCATED : 0);
        e->abi = p->pabi;
        e->args = args;
        e->args_len = alen;
    } else {
        e = base_event(t, SS_EV_SYSCALL, c);
        if (!e)
            return;
        while (plen > 0 && part[plen - 1] == ' ')
            plen--;
        e->flags |= trunc ? SS_EVF_TRUNCATED : 0;
        e->args = part;
        e->args_len = (uint32_t)plen;
    }
    e->name = name;
    e->name_len = (uint32_t)name_len;
    finish_syscall(t, e, &r);
}

static size_t rstrip_spaces(const char *s, size_t a, size_t n)
{
    while (n > a && s[n - 1] == ' ')
        n--;
    return n;
}

static void do_signal(ss_tok *t, const char *s, size_t n, size_t i, ctx *c)
{
    size_t a = i + 4, b = rstrip_spaces(s, a, n);
    if (b - a < 4 || memcmp(s + b - 4, " ---", 4) != 0) {
        unparsed(t, c, SS_R_SIGNAL, s, n);
        return;
    }
    b -= 4;
    if (STARTS(s, b, a, "stopped by ")) {
        size_t x = ss_skip_spaces(s, b, a + 11), y = rstrip_spaces(s, x, b);
        if (y == x) {
            unparsed(t, c, SS_R_SIGNAL, s, n);
            return;
        }
        ss_event *e = base_event(t, SS_EV_STOPPED, c);
        if (!e)
            return;
        set_sig(t, e, s + x, y - x);
        count_event(t, e, NULL);
        return;
    }
    const char *sp = memchr(s + a, ' ', b - a);
    size_t ne = sp ? (size_t)(sp - s) : b;
    if (!(ne - a >= 3 && memcmp(s + a, "SIG", 3) == 0)) {
        unparsed(t, c, SS_R_SIGNAL, s, n);
        return;
    }
    ss_event *e = base_event(t, SS_EV_SIGNAL, c);
    if (!e)
        return;
    set_sig(t, e, s + a, ne - a);
    if (sp) {
        size_t x = ss_skip_spaces(s, b, ne + 1), y = rstrip_spaces(s, x, b);
        e->args = s + x;
        e->args_len = (uint32_t)(y - x);
    }
    count_event(t, e, NULL);
}

static void do_exit(ss_tok *t, const char *s, size_t n, size_t i, ctx *c)
{
    size_t a = i + 4, b = rstrip_spaces(s, a, n);
    if (b - a < 4 || memcmp(s + b - 4, " +++", 4) != 0) {
        unparsed(t, c, SS_R_EXIT, s, n);
        return;
    }
    b -= 4;
    uint64_t v;
    if (STARTS(s, b, a, "exited with ")) {
        size_t k = ss_parse_uint(s, b, a + 12, &v);
        if (k != b || k == a + 12 || k - (a + 12) > 18) {
            unparsed(t, c, SS_R_EXIT, s, n);
            return;
        }
        flush_pid(t, c->pid);
        ss_event *e = base_event(t, SS_EV_EXIT, c);
        if (!e)
            return;
        e->ret = (int64_t)v;
        count_event(t, e, NULL);
    } else if (STARTS(s, b, a, "killed by ")) {
        size_t x = a + 10, y = b;
        uint32_t flags = 0;
        if (y - x >= 14 && memcmp(s + y - 14, " (core dumped)", 14) == 0) {
            y -= 14;
            flags = SS_EVF_CORE;
        }
        if (!(y - x >= 3 && memcmp(s + x, "SIG", 3) == 0) || memchr(s + x, ' ', y - x)) {
            unparsed(t, c, SS_R_EXIT, s, n);
            return;
        }
        flush_pid(t, c->pid);
        ss_event *e = base_event(t, SS_EV_KILLED, c);
        if (!e)
            return;
        e->flags |= flags;
        set_sig(t, e, s + x, y - x);
        count_event(t, e, NULL);
    } else if (STARTS(s, b, a, "superseded by execve in pid ")) {
        size_t k = ss_parse_uint(s, b, a + 28, &v);
        if (k != b || k == a + 28 || k - (a + 28) > 18) {
            unparsed(t, c, SS_R_EXIT, s, n);
            return;
        }
        flush_pid(t, c->pid);
        ss_event *e = base_event(t, SS_EV_SUPERSEDED, c);
        if (!e)
            return;
        e->ret = (int64_t)v;
        count_event(t, e, NULL);
    } else
        unparsed(t, c, SS_R_EXIT, s, n);
}

static void do_personality(ss_tok *t, const char *s, size_t n, size_t i, ctx *c)
{
    size_t j = i + 14;
    uint64_t v;
    size_t k = ss_parse_uint(s, n, j, &v);
    size_t b = rstrip_spaces(s, k, n);
    int pers = -1;
    const char *mode = NULL;
    size_t mlen = 0;
    if (k > j && k - j <= 9 && b - k >= 17 && memcmp(s + k, " runs in ", 9) == 0 &&
        memcmp(s + b - 8, " mode. ]", 8) == 0) {
        mode = s + k + 9;
        mlen = b - 8 - (k + 9);
        if (mlen == 6 && memcmp(mode, "64 bit", 6) == 0)
            pers = 0;
        else if (mlen == 6 && memcmp(mode, "32 bit", 6) == 0)
            pers = 1;
        else if (mlen == 3 && memcmp(mode, "x32", 3) == 0)
            pers = 2;
    }
    if (pers < 0) {
        unparsed(t, c, SS_R_PERS, s, n);
        return;
    }
    int nabi = t->modes[pers];
    if (nabi < 0)
        nabi = 0;
    ss_pidrec *p = ss_pids_get(&t->pids, c->pid, 1);
    if (!p) {
        t->oom = 1;
        return;
    }
    p->abi = (uint8_t)nabi;
    int32_t epid = c->pid >= 0 ? c->pid : (int32_t)v;
    ss_event *e = new_event(t, SS_EV_PERSONALITY, c->file_id, c->line, epid);
    if (!e)
        return;
    if (c->has_ts) {
        e->flags |= SS_EVF_HAS_TS;
        e->ts = c->ts;
    }
    e->abi = (uint32_t)nabi;
    e->name = mode;
    e->name_len = (uint32_t)mlen;
    e->ret = pers;
    count_event(t, e, NULL);
}

static int is_summary_header(const char *s, size_t n)
{
    static const char *words[] = {"%", "time", "seconds", "usecs/call", "calls", "errors",
                                  "syscall", "shortest", "longest"};
    int ntok = 0, key = 0;
    size_t i = 0;
    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        if (i >= n)
            break;
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        int found = 0;
        for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
            size_t wl = strlen(words[w]);
            if (wl == j - i && memcmp(words[w], s + i, wl) == 0) {
                found = 1;
                if (w == 4 || w == 6)
                    key = 1;
                break;
            }
        }
        if (!found)
            return 0;
        ntok++;
        i = j;
    }
    return ntok >= 2 && key;
}

/* returns 1 if the line was consumed as part of a summary table */
static int summary_line(ss_tok *t, const char *s, size_t n, ctx *c)
{
    if (!t->in_summary) {
        t->in_summary = 1;
        note(t, SS_NOTE_SUMMARY, 1, c->file_id, c->line, s, n);
        t->counts.summary++;
        return 1;
    }
    size_t a = ss_skip_spaces(s, n, 0), b = rstrip_spaces(s, a, n);
    if (a == b) {
        t->in_summary = 0;
        return 0;
    }
    note(t, SS_NOTE_SUMMARY, 2, c->file_id, c->line, s, n);
    t->counts.summary++;
    if (STARTS(s, b, a, "total ") || (b - a >= 6 && memcmp(s + b - 6, " total", 6) == 0) ||
        (b - a == 5 && memcmp(s + a, "total", 5) == 0))
        t->in_summary = 0;
    return 1;
}

static int is_msg_process(const char *s, size_t n, size_t i)
{
    if (!STARTS(s, n, i, "Process "))
        return 0;
    size_t j = i + 8, k = j;
    while (k < n && IS_DIGIT(s[k]))
        k++;
    if (k == j)
        return 0;
    return STARTS(s, n, k, " attached") || STARTS(s, n, k, " detached") || STARTS(s, n, k, " suspended");
}

/* past the '>' closing a -Y command name at s[k] == '<'; n if unclosed */
static size_t skip_comm(const char *s, size_t n, size_t k)
{
    const char *gt = memchr(s + k, '>', n - k);
    return gt ? (size_t)(gt - s) + 1 : n;
}

static void parse_line(ss_tok *t, const char *s, size_t n, ctx *c)
{
    if (t->in_summary || (n && (s[0] == '%' || s[0] == 's') && is_summary_header(s, n)))
        if (summary_line(t, s, n, c))
            return;
    size_t i = ss_skip_spaces(s, n, 0);
    if (i == n) {
        t->counts.blank++;
        return;
    }
    if (STARTS(s, n, 0, " > ")) {
        t->counts.stack++;
        note(t, SS_NOTE_FRAME, t->nev, c->file_id, c->line, s, n);
        return;
    }
    if (s[0] == 'S' && STARTS(s, n, 0, "System call usage summary for")) {
        t->counts.summary++;
        return;
    }
    i = 0;
    uint64_t v;
    if (STARTS(s, n, 0, "[pid")) {
        size_t j = ss_skip_spaces(s, n, 4);
        size_t k = ss_parse_uint(s, n, j, &v);
        size_t digits = k - j;
        if (k < n && s[k] == '<')  /* -Y: [pid 123<comm>] */
            k = skip_comm(s, n, k);
        if (digits == 0 || digits > 9 || k >= n || s[k] != ']') {
            unparsed(t, c, SS_R_PREFIX, s, n);
            return;
        }
        c->pid = (int32_t)v;
        i = ss_skip_spaces(s, n, k + 1);
    } else if (IS_DIGIT(s[0])) {
        size_t k = ss_parse_uint(s, n, 0, &v);
        size_t digits = k;
        if (k < n && s[k] == '<')  /* -Y: 123<comm> */
            k = skip_comm(s, n, k);
        if (k < n && s[k] == ' ' && digits <= 9) {
            c->pid = (int32_t)v;
            i = ss_skip_spaces(s, n, k);
        }
    }
    /* timestamp */
    size_t j = ss_skip_spaces(s, n, i);
    double fts;
    if (j + 16 <= n && ss_ts_fixed(s + j, &fts)) {
        /* -tt's HH:MM:SS.ffffff, the common case, without the general loops */
        c->has_ts = 1;
        c->ts = fts;
        i = ss_skip_spaces(s, n, j + 15);
    } else if (j < n && IS_DIGIT(s[j])) {
        uint64_t a;
        size_t k = ss_parse_uint(s, n, j, &a);
        if (k < n && s[k] == ':' && k - j <= 9) {
            uint64_t b, cc;
            size_t k2 = ss_parse_uint(s, n, k + 1, &b);
            if (k2 > k + 1 && k2 - (k + 1) <= 9 && k2 < n && s[k2] == ':') {
                size_t k3 = ss_parse_uint(s, n, k2 + 1, &cc);
                if (k3 > k2 + 1 && k3 - (k2 + 1) <= 9) {
                    double ts = (double)(a * 3600 + b * 60 + cc);
                    if (k3 < n && s[k3] == '.') {
                        double fr;
                        k3 = ss_parse_frac(s, n, k3 + 1, &fr);
                        ts += fr;
                    }
                    if (k3 < n && s[k3] == ' ') {
                        c->has_ts = 1;
                        c->ts = ts;
                        i = ss_skip_spaces(s, n, k3);
                    }
                }
            }
        } else if (k < n && s[k] == '.' && k - j <= 15) {
            double fr;
            size_t k2 = ss_parse_frac(s, n, k + 1, &fr);
            if (k2 > k + 1 && k2 < n && s[k2] == ' ') {
                c->has_ts = 1;
                c->ts = (double)a + fr;
                i = ss_skip_spaces(s, n, k2);
            }
        }
    }
    /* -i instruction pointer, -n syscall number */
    for (int rep = 0; rep < 2; rep++) {
        if (i < n && s[i] == '[') {
            size_t q = i + 1;
            while (q < n && (IS_HEX(s[q]) || s[q] == '?' || s[q] == ' '))
                q++;
            if (q > i + 1 && q < n && s[q] == ']' && q + 1 < n && s[q + 1] == ' ') {
                i = ss_skip_spaces(s, n, q + 1);
                continue;
            }
        }
        break;
    }
    line_body(t, s, n, i, c);
}

static void line_body(ss_tok *t, const char *s, size_t n, size_t i, ctx *c)
{
    if (i >= n) {
        t->counts.blank++;
        return;
    }
    char ch = s[i];
    if (ch == '-' && STARTS(s, n, i, "--- "))
        do_signal(t, s, n, i, c);
    else if (ch == '+' && STARTS(s, n, i, "+++ "))
        do_exit(t, s, n, i, c);
    else if (ch == '<' && STARTS(s, n, i, "<... "))
        do_resumed(t, s, n, i, c);
    else if (ch == '[' && STARTS(s, n, i, "[ Process PID="))
        do_personality(t, s, n, i, c);
    else if (ch == 's' && STARTS(s, n, i, "strace: ")) {
        if (STARTS(s, n, i + 8, "[ Process PID="))
            do_personality(t, s, n, i + 8, c);
        else
            t->counts.messages++;
    } else if (ch == 'P' && is_msg_process(s, n, i))
        t->counts.messages++;
    else if (ch == ' ' && STARTS(s, n, i, " [wait("))
        t->counts.messages++;
    else {
        size_t j = i;
        while (j < n && IS_NAME(s[j]))
            j++;
        if (j > i && j < n && s[j] == '(' && !IS_DIGIT(s[i]))
            do_call(t, s, n, i, j, c);
        else
            do_anon_resumed(t, s, n, i, c);
    }
}

/* one input line (without its newline) */
static void feed_line(ss_tok *t, const char *s, size_t n, uint16_t file_id, uint32_t line, int32_t dpid)
{
    if (n && s[n - 1] == '\r')
        n--;
    if (t->has_partial && !STARTS(s, n, 0, "[pid ") && !STARTS(s, n, 0, "strace: ")) {
        t->has_partial = 0;
        if (t->spec)
            t->spec->line_cont = 1;
        ctx c = {t->partial_file, t->partial_line, t->partial_pid, 0, 0.0};
        if ((size_t)t->partial_len + n > MAX_PARTIAL) {
            unparsed(t, &c, SS_R_TOOLONG, "", 0);
            return;
        }
        t->counts.continuation++;
        char *j = ss_arena_alloc(&t->arena, t->partial_len + n + 1);
        if (!j) {
            t->oom = 1;
            return;
        }
        memcpy(j, t->partial, t->partial_len);
        memcpy(j + t->partial_len, s, n);
        parse_line(t, j, t->partial_len + n, &c);
        return;
    }
    ctx c = {file_id, line, dpid, 0, 0.0};
    parse_line(t, s, n, &c);
}

static void begin_batch(ss_tok *t)
{
    t->nev = 0;
    t->nnotes = 0;
    ss_arena_reset(&t->arena);
}

void ss_tok__begin_batch(ss_tok *t) { begin_batch(t); }

void ss_tok__feed_line(ss_tok *t, const char *s, size_t n, uint16_t file_id, uint32_t line, int32_t dpid)
{
    feed_line(t, s, n, file_id, line, dpid);
}

/* the deps the line just fed made: where its output ends, the pid's state after it */
static void spec_line_done(ss_tok *t)
{
    ss_spec *sp = t->spec;
    for (uint32_t k = sp->line_dep0; k < sp->ndep; k++) {
        ss_spec_dep *d = &sp->dep[k];
        d->ev_hi = t->nev;
        d->note_hi = t->nnotes;
        d->after = t->counts;
        d->bad |= sp->adopted;
        ss_pidrec *r = ss_pids_get(&t->pids, d->pid, 0);
        if (!r)
            continue;
        d->abi = r->abi;
        d->has_pending = r->has_pending;
        if (!r->has_pending)
            continue;
        d->pabi = r->pabi;
        d->flags = r->flags;
        d->pline = r->line;
        d->pfile = r->file_id;
        d->owner = r->owner;
        d->ts = r->ts;
        d->name = ss_arena_alloc(&sp->snap, (size_t)r->name_len + r->args_len + 1);
        if (!d->name) {
            t->oom = 1;
            return;
        }
        memcpy(d->name, r->name, r->name_len);
        memcpy(d->name + r->name_len, r->args, r->args_len);
        d->name_len = r->name_len;
        d->args = d->name + r->name_len;
        d->args_len = r->args_len;
    }
}

int ss_tok__feed_lines(ss_tok *t, const char *buf, size_t len, uint16_t file_id, uint32_t line, int32_t dpid)
{
    size_t i = 0;
    ss_nl_scan nls;
    ss_nl_init(&nls, buf, len);
    ss_spec *sp = t->spec;
    if (sp) {
        while (i < len) {
            size_t e = ss_nl_next(&nls, i);
            sp->line_ev0 = t->nev;
            sp->line_note0 = t->nnotes;
            sp->line_dep0 = sp->ndep;
            sp->cur_line = line;
            sp->line_s = buf + i;
            sp->line_n = e - i;
            sp->line_dpid = dpid;
            sp->line_fid = file_id;
            sp->line_cont = 0;
            sp->adopted = 0;
            feed_line(t, buf + i, e - i, file_id, line, dpid);
            if (sp->ndep != sp->line_dep0)
                spec_line_done(t);
            t->counts.lines++;
            line++;
            i = e + 1;
            if (t->oom)
                return -1;
        }
    } else {
        while (i < len) {
            size_t e = ss_nl_next(&nls, i);
            feed_line(t, buf + i, e - i, file_id, line, dpid);
            t->counts.lines++;
            line++;
            i = e + 1;
            if (t->oom)
                return -1;
        }
    }
    t->next_line = line;
    return t->oom ? -1 : 0;
}

int64_t ss_tok_feed(ss_tok *t, const char *buf, size_t len, uint16_t file_id,
                    uint32_t first_line, int32_t default_pid)
{
    begin_batch(t);
    uint32_t line = first_line ? first_line : t->next_line;
    if (ss_tok__feed_lines(t, buf, len, file_id, line, default_pid) < 0)
        return -1;
    return (int64_t)t->nev;
}

static int cmp_pending(const void *a, const void *b)
{
    const ss_pidrec *x = *(const ss_pidrec *const *)a, *y = *(const ss_pidrec *const *)b;
    if (x->file_id != y->file_id)
        return x->file_id < y->file_id ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

int64_t ss_tok_finish(ss_tok *t)
{
    begin_batch(t);
    if (t->has_partial) {
        t->has_partial = 0;
        note(t, SS_NOTE_UNPARSED, SS_R_PARTIAL, t->partial_file, t->partial_line, "", 0);
    }
    uint32_t np = 0;
    for (uint32_t k = 0; k < t->pids.nslot; k++)
        np += t->pids.rec[k].used && t->pids.rec[k].has_pending;
    if (np) {
        ss_pidrec **v = malloc(np * sizeof *v);
        if (!v)
            return -1;
        uint32_t m = 0;
        for (uint32_t k = 0; k < t->pids.nslot; k++)
            if (t->pids.rec[k].used && t->pids.rec[k].has_pending)
                v[m++] = &t->pids.rec[k];
        qsort(v, np, sizeof *v, cmp_pending);
        for (uint32_t k = 0; k < np; k++)
            emit_unfinished(t, v[k]);
        free(v);
    }
    t->in_summary = 0;
    return t->oom ? -1 : (int64_t)t->nev;
}
