/* SPDX-License-Identifier: MIT */
/* strace tokeniser.  The grammar and every decision mirror the Python
 * reference src/shimsim/trace/strace.py; keep the two in step (the
 * differential test compares them event by event). */
#include "tokenise.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ memory */

#define ARENA_CHUNK (1u << 20)
#define MAX_PARTIAL (1u << 20)

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t cap, used;
    char data[];
} arena_chunk;

typedef struct {
    arena_chunk *head;   /* current chunk first */
} arena;

static char *arena_alloc(arena *a, size_t n)
{
    arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof(arena_chunk) + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

/* Keep one chunk for reuse, free the rest. */
static void arena_reset(arena *a)
{
    arena_chunk *c = a->head;
    if (!c)
        return;
    arena_chunk *n = c->next;
    while (n) {
        arena_chunk *x = n->next;
        free(n);
        n = x;
    }
    c->next = NULL;
    c->used = 0;
}

static void arena_free(arena *a)
{
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *x = c->next;
        free(c);
        c = x;
    }
    a->head = NULL;
}

/* ------------------------------------------------------------ name tables */

typedef struct {
    char *name;
    uint32_t len;
    int32_t val[SS_TOK_MAX_ABI];
    uint64_t calls, errors;   /* syscall table only */
} name_entry;

typedef struct {
    name_entry *ent;     /* dense, in insertion order */
    uint32_t n, cap;
    uint32_t *slot;      /* open addressing: index+1, 0 = empty */
    uint32_t nslot;      /* power of two */
} name_table;

static uint64_t hash_bytes(const char *s, uint32_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (uint32_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static name_entry *nt_find(const name_table *t, const char *s, uint32_t n)
{
    if (!t->nslot)
        return NULL;
    uint32_t mask = t->nslot - 1;
    for (uint32_t i = (uint32_t)hash_bytes(s, n) & mask;; i = (i + 1) & mask) {
        uint32_t k = t->slot[i];
        if (!k)
            return NULL;
        name_entry *e = &t->ent[k - 1];
        if (e->len == n && memcmp(e->name, s, n) == 0)
            return e;
    }
}

static int nt_grow(name_table *t)
{
    uint32_t ns = t->nslot ? t->nslot * 2 : 1024;
    uint32_t *slot = calloc(ns, sizeof *slot);
    if (!slot)
        return -1;
    for (uint32_t k = 0; k < t->n; k++) {
        uint32_t i = (uint32_t)hash_bytes(t->ent[k].name, t->ent[k].len) & (ns - 1);
        while (slot[i])
            i = (i + 1) & (ns - 1);
        slot[i] = k + 1;
    }
    free(t->slot);
    t->slot = slot;
    t->nslot = ns;
    return 0;
}

static name_entry *nt_insert(name_table *t, const char *s, uint32_t n)
{
    name_entry *e = nt_find(t, s, n);
    if (e)
        return e;
    if ((t->n + 1) * 2 > t->nslot && nt_grow(t) < 0)
        return NULL;
    if (t->n == t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 512;
        name_entry *ne = realloc(t->ent, nc * sizeof *ne);
        if (!ne)
            return NULL;
        t->ent = ne;
        t->cap = nc;
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = 0;
    e = &t->ent[t->n];
    e->name = copy;
    e->len = n;
    for (int a = 0; a < SS_TOK_MAX_ABI; a++)
        e->val[a] = -1;
    e->calls = e->errors = 0;
    uint32_t mask = t->nslot - 1;
    uint32_t i = (uint32_t)hash_bytes(s, n) & mask;
    while (t->slot[i])
        i = (i + 1) & mask;
    t->slot[i] = ++t->n;
    return e;
}

static void nt_free(name_table *t)
{
    for (uint32_t k = 0; k < t->n; k++)
        free(t->ent[k].name);
    free(t->ent);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

/* --------------------------------------------------------------- per pid */

typedef struct {
    int32_t pid;
    uint8_t used, seen, has_pending, abi;
    /* pending <unfinished ...> call */
    char *name;
    uint32_t name_len, name_cap;
    char *args;
    uint32_t args_len, args_cap;
    uint32_t line;
    uint16_t file_id;
    uint32_t flags;
    uint8_t pabi;
    int32_t owner;        /* pid of the pending call (differs from pid after adoption) */
    double ts;
} pidrec;

typedef struct {
    pidrec *rec;
    uint32_t n, nslot;
} pid_table;

static uint32_t hash_pid(int32_t p)
{
    uint32_t x = (uint32_t)p * 2654435761u;
    return x ^ (x >> 16);
}

static pidrec *pt_get(pid_table *t, int32_t pid, int create)
{
    if (t->nslot) {
        uint32_t mask = t->nslot - 1;
        for (uint32_t i = hash_pid(pid) & mask;; i = (i + 1) & mask) {
            pidrec *r = &t->rec[i];
            if (!r->used)
                break;
            if (r->pid == pid)
                return r;
        }
    }
    if (!create)
        return NULL;
    if ((t->n + 1) * 2 > t->nslot) {
        uint32_t ns = t->nslot ? t->nslot * 2 : 256;
        pidrec *nr = calloc(ns, sizeof *nr);
        if (!nr)
            return NULL;
        for (uint32_t k = 0; k < t->nslot; k++) {
            if (!t->rec[k].used)
                continue;
            uint32_t i = hash_pid(t->rec[k].pid) & (ns - 1);
            while (nr[i].used)
                i = (i + 1) & (ns - 1);
            nr[i] = t->rec[k];
        }
        free(t->rec);
        t->rec = nr;
        t->nslot = ns;
    }
    uint32_t mask = t->nslot - 1;
    uint32_t i = hash_pid(pid) & mask;
    while (t->rec[i].used)
        i = (i + 1) & mask;
    pidrec *r = &t->rec[i];
    memset(r, 0, sizeof *r);
    r->used = 1;
    r->pid = pid;
    t->n++;
    return r;
}

static int buf_set(char **buf, uint32_t *len, uint32_t *cap, const char *s, size_t n)
{
    if (n + 1 > *cap) {
        uint32_t nc = *cap ? *cap : 64;
        while (nc < n + 1)
            nc *= 2;
        char *nb = realloc(*buf, nc);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf, s, n);
    *len = (uint32_t)n;
    return 0;
}

static int buf_append(char **buf, uint32_t *len, uint32_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        uint32_t nc = *cap ? *cap : 64;
        while (nc < *len + n + 1)
            nc *= 2;
        char *nb = realloc(*buf, nc);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, s, n);
    *len += (uint32_t)n;
    return 0;
}

/* ------------------------------------------------------------- tokeniser */

struct ss_tok {
    name_table tab[3];
    int modes[3];
    pid_table pids;
    arena arena;
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
};

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
        nt_free(&t->tab[i]);
    for (uint32_t k = 0; k < t->pids.nslot; k++) {
        free(t->pids.rec[k].name);
        free(t->pids.rec[k].args);
    }
    free(t->pids.rec);
    arena_free(&t->arena);
    free(t->ev);
    free(t->notes);
    free(t->partial);
    free(t);
}

int ss_tok_add_name(ss_tok *t, int table, int abi, const char *name, uint32_t len, int32_t value)
{
    if (table < 0 || table > 2 || abi < 0 || abi >= SS_TOK_MAX_ABI)
        return -1;
    name_entry *e = nt_insert(&t->tab[table], name, len);
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
    const name_entry *e = &t->tab[SS_TOK_SYSCALLS].ent[i];
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
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->file_id = file_id;
    e->line = line;
    e->pid = pid;
    e->tid = -1;
    e->nr = -1;
    e->name = "";
    e->args = "";
    e->errname = "";
    return e;
}

/* Stats for an event that is complete (mirrors ParseStats.add_event). */
static void count_event(ss_tok *t, ss_event *e, name_entry *ne)
{
    t->counts.by_kind[e->kind]++;
    if (e->pid >= 0) {
        pidrec *r = pt_get(&t->pids, e->pid, 1);
        if (!r)
            t->oom = 1;
        else
            r->seen = 1;
    }
    if (e->kind == SS_EV_SYSCALL) {
        if ((e->rec == SS_REC_UNKNOWN || e->rec == SS_REC_UNFINISHED) && !e->errname_len)
            return;
        if (!ne)
            ne = nt_insert(&t->tab[SS_TOK_SYSCALLS], e->name, e->name_len);
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
    name_entry *e = nt_find(&t->tab[table], s, n);
    return e ? e->val[abi] : -1;
}

/* --------------------------------------------------------------- scanning */

typedef struct {
    const char *s;
    size_t n;
} str;

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_NAME(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || IS_DIGIT(c) || (c) == '_')
#define IS_HEX(c) (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))

static int starts(const char *s, size_t n, size_t i, const char *lit, size_t ln)
{
    return i + ln <= n && memcmp(s + i, lit, ln) == 0;
}
#define STARTS(s, n, i, lit) starts((s), (n), (i), (lit), sizeof(lit) - 1)

static size_t skip_spaces(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] == ' ')
        i++;
    return i;
}

/* decimal digits: returns end, value in *v (wrapping) */
static size_t parse_uint(const char *s, size_t n, size_t i, uint64_t *v)
{
    uint64_t x = 0;
    size_t j = i;
    while (j < n && IS_DIGIT(s[j])) {
        x = x * 10 + (uint64_t)(s[j] - '0');
        j++;
    }
    *v = x;
    return j;
}

static const double POW10[16] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
                                 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

/* digits after a dot: at most 15 count (exact in a double) */
static size_t parse_frac(const char *s, size_t n, size_t i, double *out)
{
    uint64_t x = 0;
    size_t j = i, k = 0;
    while (j < n && IS_DIGIT(s[j])) {
        if (k < 15) {
            x = x * 10 + (uint64_t)(s[j] - '0');
            k++;
        }
        j++;
    }
    *out = k ? (double)x / POW10[k] : 0.0;
    return j;
}

enum { SC_CLOSE, SC_UNFINISHED, SC_DETACHED, SC_EOL };

/* past an fd decoration '<...>' at s[i]; n+1 (> n) if unclosed */
static size_t skip_decoration(const char *s, size_t n, size_t i)
{
    size_t j = i + 1;
    int bd = 0, ad = 1; /* -yy nests: </dev/null<char 1:3>> */
    while (j < n) {
        char ch = s[j];
        if (ch == '\\') {
            j += 2;
            continue;
        }
        if (ch == '[')
            bd++;
        else if (ch == ']') {
            if (bd > 0)
                bd--;
        } else if (bd == 0 && ch == '<')
            ad++;
        else if (bd == 0 && ch == '>') {
            if (--ad == 0)
                return j + 1;
        }
        j++;
    }
    return n + 1;
}

static const char *find2(const char *s, size_t n, size_t i, char a, char b)
{
    /* first "ab" at or after i */
    while (i + 1 < n) {
        const char *p = memchr(s + i, a, n - i - 1);
        if (!p)
            return NULL;
        if (p[1] == b)
            return p;
        i = (size_t)(p - s) + 1;
    }
    return NULL;
}

/* characters scan_args must look at; everything else is skipped in a tight loop */
static const unsigned char SCAN_SPECIAL[256] = {
    ['"'] = 1, ['('] = 1, ['['] = 1, ['{'] = 1, [')'] = 1, [']'] = 1, ['}'] = 1, ['<'] = 1, ['/'] = 1,
};
static const unsigned char STR_SPECIAL[256] = {['"'] = 1, ['\\'] = 1};

static int scan_args(const char *s, size_t n, size_t i, size_t *end, int *trunc)
{
    int depth = 0;
    *trunc = 0;
    const unsigned char *u = (const unsigned char *)s;
    while (i < n) {
        while (i < n && !SCAN_SPECIAL[u[i]])
            i++;
        if (i >= n)
            break;
        char c = s[i];
        switch (c) {
        case '"':
            i++;
            for (;;) {
                while (i < n && !STR_SPECIAL[u[i]])
                    i++;
                if (i >= n || s[i] == '"')
                    break;
                i += 2; /* backslash escape */
            }
            if (i >= n) {
                *end = n;
                return SC_EOL;
            }
            i++;
            if (STARTS(s, n, i, "...")) {
                *trunc = 1;
                i += 3;
            }
            continue;
        case '(': case '[': case '{':
            depth++;
            break;
        case ')': case ']': case '}':
            if (depth == 0) {
                if (c == ')') {
                    *end = i;
                    return SC_CLOSE;
                }
            } else
                depth--;
            break;
        case '<':
            if (STARTS(s, n, i, "<unfinished ...>")) {
                *end = i;
                return SC_UNFINISHED;
            }
            if (STARTS(s, n, i, "<detached ...>")) {
                *end = i;
                return SC_DETACHED;
            }
            if (i > 0 && IS_DIGIT(s[i - 1]) && i + 1 < n && s[i + 1] != '<') {
                size_t j = skip_decoration(s, n, i);
                if (j > n) {
                    *end = n;
                    return SC_EOL;
                }
                i = j;
                continue;
            }
            break;
        case '/':
            if (i + 1 < n && s[i + 1] == '*') {
                const char *p = find2(s, n, i + 2, '*', '/');
                if (!p) {
                    *end = n;
                    return SC_EOL;
                }
                i = (size_t)(p - s) + 2;
                continue;
            }
            break;
        default:
            break;
        }
        i++;
    }
    *end = n;
    return SC_EOL;
}

/* past the ')' matching s[i] == '(' (quotes respected); 0 if none */
static size_t balanced_paren(const char *s, size_t n, size_t i)
{
    int depth = 0;
    while (i < n) {
        char c = s[i];
        if (c == '"') {
            i++;
            while (i < n && s[i] != '"')
                i += s[i] == '\\' ? 2 : 1;
        } else if (c == '(')
            depth++;
        else if (c == ')') {
            depth--;
            if (depth == 0)
                return i + 1;
        }
        i++;
    }
    return 0;
}

typedef struct {
    int has_ret;
    int64_t ret;
    const char *errname;
    uint32_t errname_len;
    int injected;
    int has_dur;
    double dur;
} result;

/* ' = RESULT ...' at s[i]; 0 ok or an SS_R_* code */
static int parse_result(const char *s, size_t n, size_t i, result *r)
{
    memset(r, 0, sizeof *r);
    i = skip_spaces(s, n, i);
    if (i >= n || s[i] != '=')
        return SS_R_EQ;
    i = skip_spaces(s, n, i + 1);
    if (i < n && s[i] == '?') {
        i++;
    } else {
        int neg = 0;
        uint64_t v = 0;
        size_t j;
        if (i < n && s[i] == '-') {
            neg = 1;
            i++;
        }
        if (i + 1 < n && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
            j = i + 2;
            while (j < n && IS_HEX(s[j])) {
                char c = s[j];
                unsigned d = IS_DIGIT(c) ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
                v = v * 16 + d;
                j++;
            }
            if (j == i + 2)
                return SS_R_RETVAL;
        } else if (i + 1 < n && s[i] == '0' && IS_DIGIT(s[i + 1])) {
            j = i + 1;
            while (j < n && s[j] >= '0' && s[j] <= '7') {
                v = v * 8 + (uint64_t)(s[j] - '0');
                j++;
            }
        } else {
            j = parse_uint(s, n, i, &v);
            if (j == i)
                return SS_R_RETVAL;
        }
        if (neg)
            v = (uint64_t)0 - v;
        r->has_ret = 1;
        r->ret = (int64_t)v;
        i = j;
        if (i < n && s[i] == '<') {
            size_t k = skip_decoration(s, n, i);
            if (k > n)
                return SS_R_TRAIL;
            i = k;
        }
    }
    for (;;) {
        i = skip_spaces(s, n, i);
        if (i >= n)
            return 0;
        char c = s[i];
        if (c == 'E' && !r->errname && i + 1 < n && s[i + 1] >= 'A' && s[i + 1] <= 'Z') {
            size_t j = i + 1;
            while (j < n && IS_NAME(s[j]))
                j++;
            r->errname = s + i;
            r->errname_len = (uint32_t)(j - i);
            i = j;
        } else if (c == '(') {
            size_t j = balanced_paren(s, n, i);
            if (!j)
                return SS_R_TRAIL;
            if (j - i == 10 && memcmp(s + i + 1, "INJECTED", 8) == 0)
                r->injected = 1;
            i = j;
        } else if (c == '<') {
            const char *gt = memchr(s + i, '>', n - i);
            if (!gt)
                return SS_R_TRAIL;
            size_t j = (size_t)(gt - s);
            size_t a = i + 1, k = a;
            while (k < j && IS_DIGIT(s[k]))
                k++;
            if (k > a && k - a <= 15 && k < j && s[k] == '.') {
                uint64_t ip;
                parse_uint(s, j, a, &ip);
                double fr;
                size_t e = parse_frac(s, j, k + 1, &fr);
                if (e != j)
                    return SS_R_TRAIL;
                r->has_dur = 1;
                r->dur = (double)ip + fr;
            } else if (!(j - a == 11 && memcmp(s + a, "unavailable", 11) == 0))
                return SS_R_TRAIL;
            i = j + 1;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *p = find2(s, n, i + 2, '*', '/');
            if (!p)
                return SS_R_TRAIL;
            i = (size_t)(p - s) + 2;
        } else
            return SS_R_TRAIL;
    }
}

static uint8_t rec_of(const result *r)
{
    if (r->injected)
        return SS_REC_INJECTED;
    if (r->errname)
        return (r->errname_len >= 8 && memcmp(r->errname, "ERESTART", 8) == 0) ? SS_REC_RESTARTED
                                                                                : SS_REC_ERROR;
    if (!r->has_ret)
        return SS_REC_UNKNOWN;
    return SS_REC_SUCCESS;
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

static uint8_t pid_abi(ss_tok *t, int32_t pid)
{
    pidrec *r = pt_get(&t->pids, pid, 0);
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

static void emit_unfinished(ss_tok *t, pidrec *p)
{
    /* the pending text must outlive the pid record's buffers */
    char *name = arena_alloc(&t->arena, p->name_len + p->args_len + 1);
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
    name_entry *ne = nt_find(&t->tab[SS_TOK_SYSCALLS], e->name, e->name_len);
    e->nr = ne ? ne->val[e->abi] : -1;
    count_event(t, e, ne);
}

static void flush_pid(ss_tok *t, int32_t pid)
{
    pidrec *p = pt_get(&t->pids, pid, 0);
    if (p && p->has_pending)
        emit_unfinished(t, p);
}

static void finish_syscall(ss_tok *t, ss_event *e, const result *r)
{
    if (r->has_dur) {
        e->flags |= SS_EVF_HAS_DUR;
        e->dur = r->dur;
    }
    if (!r->has_ret)
        e->flags |= SS_EVF_NO_RET;
    e->ret = r->has_ret ? r->ret : 0;
    e->rec = rec_of(r);
    if (r->errname) {
        e->errname = r->errname;
        e->errname_len = r->errname_len;
        e->err = lookup(t, SS_TOK_ERRNOS, (int)e->abi, r->errname, r->errname_len);
    }
    name_entry *ne = nt_find(&t->tab[SS_TOK_SYSCALLS], e->name, e->name_len);
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
            pidrec *p = pt_get(&t->pids, c->pid, 0);
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
    if (buf_set(&t->partial, &t->partial_len, &t->partial_cap, s, n) < 0) {
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
    int kind = scan_args(s, n, start, &end, &trunc);
    uint32_t flags = trunc ? SS_EVF_TRUNCATED : 0;
    if (kind == SC_EOL) {
        incomplete(t, s, n, c, s + i, j - i, start);
        return;
    }
    if (kind == SC_UNFINISHED || kind == SC_DETACHED) {
        size_t alen = end - start;
        if (alen && s[start + alen - 1] == ' ')
            alen--;
        if (kind == SC_DETACHED) {
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
        pidrec *p = pt_get(&t->pids, c->pid, 1);
        if (!p || buf_set(&p->name, &p->name_len, &p->name_cap, s + i, j - i) < 0 ||
            buf_set(&p->args, &p->args_len, &p->args_cap, s + start, alen) < 0) {
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
    result r;
    int rc = parse_result(s, n, end + 1, &r);
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

/* joined pending + part, right-stripped of spaces, in the arena */
static const char *join_args(ss_tok *t, const pidrec *p, const char *part, size_t plen, uint32_t *outlen)
{
    size_t n = p->args_len + plen;
    char *buf = arena_alloc(&t->arena, n + p->name_len + 1);
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
static int pending_is(const pidrec *q, const char *name, size_t name_len)
{
    return q && q->has_pending && q->name_len == name_len && memcmp(q->name, name, name_len) == 0;
}

static void move_pending(pidrec *p, pidrec *q);

static void adopt(ss_tok *t, int32_t pid, const char *name, size_t name_len)
{
    pidrec *p = pt_get(&t->pids, pid, 0);
    if (p && p->has_pending)
        return;
    if (pid >= 0) {
        if (!pending_is(pt_get(&t->pids, -1, 0), name, name_len))
            return;
        p = pt_get(&t->pids, pid, 1);   /* may move the records: look q up again */
        if (!p) {
            t->oom = 1;
            return;
        }
        pidrec *q = pt_get(&t->pids, -1, 0);
        move_pending(p, q);
        p->owner = pid;
        return;
    }
    int32_t from = 0;
    uint32_t count = 0;
    for (uint32_t k = 0; k < t->pids.nslot; k++) {
        pidrec *q = &t->pids.rec[k];
        if (q->used && pending_is(q, name, name_len)) {
            count++;
            from = q->pid;
        }
    }
    if (count != 1)
        return;
    p = pt_get(&t->pids, -1, 1);
    if (!p) {
        t->oom = 1;
        return;
    }
    move_pending(p, pt_get(&t->pids, from, 0));
}

/* the pending call of q becomes p's (buffers swapped, owner kept) */
static void move_pending(pidrec *p, pidrec *q)
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
    p->has_pending = 1;
    q->has_pending = 0;
}

/* strace -z/-Z print the rest of an unfinished call without the
 * "<... NAME resumed>" header ("ARGS) = RESULT", often just ") = R"): such a
 * line, when nothing else fits, resumes the latest unfinished call. */
static void do_anon_resumed(ss_tok *t, const char *s, size_t n, size_t i, ctx *c)
{
    pidrec *p = t->has_last ? pt_get(&t->pids, t->last_pid, 0) : NULL;
    if (!p || !p->has_pending) {
        unparsed(t, c, SS_R_SYNTAX, s, n);
        return;
    }
    size_t end;
    int trunc;
    if (scan_args(s, n, i, &end, &trunc) != SC_CLOSE) {
        unparsed(t, c, SS_R_SYNTAX, s, n);
        return;
    }
    result r;
    int rc = parse_result(s, n, end + 1, &r);
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
    char *nm = arena_alloc(&t->arena, p->name_len + 1);
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
    size_t j = i + 5, k = j;
    const char *m = NULL;
    for (size_t q = j; q + 9 <= n; q++) {
        if (s[q] == ' ' && memcmp(s + q, " resumed>", 9) == 0) {
            m = s + q;
            break;
        }
    }
    if (m)
        k = (size_t)(m - s);
    int ok = m && k > j;
    for (size_t q = j; ok && q < k; q++)
        if (!IS_NAME(s[q]))
            ok = 0;
    if (!ok) {
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
    int kind = scan_args(s, n, r0, &end, &trunc);
    if (kind == SC_EOL) {
        incomplete(t, s, n, c, name, name_len, r0);
        return;
    }
    adopt(t, c->pid, name, name_len);
    pidrec *p = pt_get(&t->pids, c->pid, 0);
    int have = p && p->has_pending;
    if (kind == SC_UNFINISHED) {
        size_t plen = end - r0;
        if (plen && s[r0 + plen - 1] == ' ')
            plen--;
        if (have && p->name_len == name_len && memcmp(p->name, name, name_len) == 0) {
            if (buf_append(&p->args, &p->args_len, &p->args_cap, s + r0, plen) < 0)
                t->oom = 1;
            if (trunc)
                p->flags |= SS_EVF_TRUNCATED;
        } else {
            if (have)
                emit_unfinished(t, p);
            p = pt_get(&t->pids, c->pid, 1);
            if (!p || buf_set(&p->name, &p->name_len, &p->name_cap, name, name_len) < 0 ||
                buf_set(&p->args, &p->args_len, &p->args_cap, s + r0, plen) < 0) {
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
    if (kind == SC_DETACHED) {
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
    result r;
    int rc = parse_result(s, n, end + 1, &r);
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
        size_t x = skip_spaces(s, b, a + 11), y = rstrip_spaces(s, x, b);
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
        size_t x = skip_spaces(s, b, ne + 1), y = rstrip_spaces(s, x, b);
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
        size_t k = parse_uint(s, b, a + 12, &v);
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
        size_t k = parse_uint(s, b, a + 28, &v);
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
    size_t k = parse_uint(s, n, j, &v);
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
    pidrec *p = pt_get(&t->pids, c->pid, 1);
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
    size_t a = skip_spaces(s, n, 0), b = rstrip_spaces(s, a, n);
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
    size_t i = skip_spaces(s, n, 0);
    if (i == n) {
        t->counts.blank++;
        return;
    }
    if (STARTS(s, n, 0, " > ")) {
        t->counts.stack++;
        return;
    }
    if (STARTS(s, n, 0, "System call usage summary for")) {
        t->counts.summary++;
        return;
    }
    i = 0;
    uint64_t v;
    if (STARTS(s, n, 0, "[pid")) {
        size_t j = skip_spaces(s, n, 4);
        size_t k = parse_uint(s, n, j, &v);
        size_t digits = k - j;
        if (k < n && s[k] == '<')  /* -Y: [pid 123<comm>] */
            k = skip_comm(s, n, k);
        if (digits == 0 || digits > 9 || k >= n || s[k] != ']') {
            unparsed(t, c, SS_R_PREFIX, s, n);
            return;
        }
        c->pid = (int32_t)v;
        i = skip_spaces(s, n, k + 1);
    } else if (IS_DIGIT(s[0])) {
        size_t k = parse_uint(s, n, 0, &v);
        size_t digits = k;
        if (k < n && s[k] == '<')  /* -Y: 123<comm> */
            k = skip_comm(s, n, k);
        if (k < n && s[k] == ' ' && digits <= 9) {
            c->pid = (int32_t)v;
            i = skip_spaces(s, n, k);
        }
    }
    /* timestamp */
    size_t j = skip_spaces(s, n, i);
    if (j < n && IS_DIGIT(s[j])) {
        uint64_t a;
        size_t k = parse_uint(s, n, j, &a);
        if (k < n && s[k] == ':' && k - j <= 9) {
            uint64_t b, cc;
            size_t k2 = parse_uint(s, n, k + 1, &b);
            if (k2 > k + 1 && k2 - (k + 1) <= 9 && k2 < n && s[k2] == ':') {
                size_t k3 = parse_uint(s, n, k2 + 1, &cc);
                if (k3 > k2 + 1 && k3 - (k2 + 1) <= 9) {
                    double ts = (double)(a * 3600 + b * 60 + cc);
                    if (k3 < n && s[k3] == '.') {
                        double fr;
                        k3 = parse_frac(s, n, k3 + 1, &fr);
                        ts += fr;
                    }
                    if (k3 < n && s[k3] == ' ') {
                        c->has_ts = 1;
                        c->ts = ts;
                        i = skip_spaces(s, n, k3);
                    }
                }
            }
        } else if (k < n && s[k] == '.' && k - j <= 15) {
            double fr;
            size_t k2 = parse_frac(s, n, k + 1, &fr);
            if (k2 > k + 1 && k2 < n && s[k2] == ' ') {
                c->has_ts = 1;
                c->ts = (double)a + fr;
                i = skip_spaces(s, n, k2);
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
                i = skip_spaces(s, n, q + 1);
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
        ctx c = {t->partial_file, t->partial_line, t->partial_pid, 0, 0.0};
        if ((size_t)t->partial_len + n > MAX_PARTIAL) {
            unparsed(t, &c, SS_R_TOOLONG, "", 0);
            return;
        }
        t->counts.continuation++;
        char *j = arena_alloc(&t->arena, t->partial_len + n + 1);
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
    arena_reset(&t->arena);
}

int64_t ss_tok_feed(ss_tok *t, const char *buf, size_t len, uint16_t file_id,
                    uint32_t first_line, int32_t default_pid)
{
    begin_batch(t);
    uint32_t line = first_line ? first_line : t->next_line;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - buf) : len;
        feed_line(t, buf + i, e - i, file_id, line, default_pid);
        t->counts.lines++;
        line++;
        i = e + 1;
        if (t->oom)
            return -1;
    }
    t->next_line = line;
    return t->oom ? -1 : (int64_t)t->nev;
}

static int cmp_pending(const void *a, const void *b)
{
    const pidrec *x = *(const pidrec *const *)a, *y = *(const pidrec *const *)b;
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
        pidrec **v = malloc(np * sizeof *v);
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
