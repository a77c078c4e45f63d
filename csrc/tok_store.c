/* SPDX-License-Identifier: MIT */
/* Storage of the strace tokeniser; see tok_store.h. */
#include "tok_store.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (1u << 20)

char *ss_arena_alloc(ss_arena *a, size_t n)
{
    ss_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = malloc(sizeof(ss_arena_chunk) + cap);
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
void ss_arena_reset(ss_arena *a)
{
    ss_arena_chunk *c = a->head;
    if (!c)
        return;
    ss_arena_chunk *n = c->next;
    while (n) {
        ss_arena_chunk *x = n->next;
        free(n);
        n = x;
    }
    c->next = NULL;
    c->used = 0;
}

void ss_arena_free(ss_arena *a)
{
    ss_arena_chunk *c = a->head;
    while (c) {
        ss_arena_chunk *x = c->next;
        free(c);
        c = x;
    }
    a->head = NULL;
}

/* ------------------------------------------------------------ name tables */

/* A name's hash from its length and at most two 8-byte words read inside
 * it (the first and the last 8 bytes, overlapping for short names): no loop
 * over the bytes.  Syscall, errno and signal names differ within those
 * words; a collision only costs a probe, never a wrong answer. */
static inline uint64_t load_le(const char *s, uint32_t n)
{
    /* n <= 8 bytes of s as a little-endian number (byte order only spreads bits) */
    uint64_t v = 0;
    if (n >= 8) {
        memcpy(&v, s, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        v = (uint64_t)a | ((uint64_t)b << 32);
    } else if (n) {
        v = (uint64_t)(unsigned char)s[0] | ((uint64_t)(unsigned char)s[n / 2] << 8) |
            ((uint64_t)(unsigned char)s[n - 1] << 16);
    }
    return v;
}

static inline uint64_t hash_bytes(const char *s, uint32_t n)
{
    uint64_t a = load_le(s, n), b = 0;
    if (n > 8) {
        memcpy(&b, s + n - 8, 8);
        /* names longer than 16 bytes: fold the middle too */
        for (uint32_t i = 8; i + 8 < n; i += 8) {
            uint64_t m;
            memcpy(&m, s + i, 8);
            a = (a ^ m) * 0x9E3779B97F4A7C15ULL;
        }
    }
    uint64_t h = (a ^ (b * 0xC2B2AE3D27D4EB4FULL) ^ n) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 32);
}

/* a == b over n bytes; names are short, so two overlapping word compares
 * instead of a memcmp call up to 16 bytes */
static inline int names_equal(const char *a, const char *b, uint32_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t x0, y0, x1, y1;
        memcpy(&x0, a, 8);
        memcpy(&y0, b, 8);
        memcpy(&x1, a + n - 8, 8);
        memcpy(&y1, b + n - 8, 8);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t x0, y0, x1, y1;
        memcpy(&x0, a, 4);
        memcpy(&y0, b, 4);
        memcpy(&x1, a + n - 4, 4);
        memcpy(&y1, b + n - 4, 4);
        return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    return memcmp(a, b, n) == 0;
}

ss_name_entry *ss_names_find(const ss_name_table *t, const char *s, uint32_t n)
{
    if (!t->nslot)
        return NULL;
    uint32_t mask = t->nslot - 1;
    for (uint32_t i = (uint32_t)hash_bytes(s, n) & mask;; i = (i + 1) & mask) {
        uint32_t k = t->slot[i];
        if (!k)
            return NULL;
        ss_name_entry *e = &t->ent[k - 1];
        if (e->len == n && names_equal(e->name, s, n))
            return e;
    }
}

static int names_grow(ss_name_table *t)
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

ss_name_entry *ss_names_insert(ss_name_table *t, const char *s, uint32_t n)
{
    ss_name_entry *e = ss_names_find(t, s, n);
    if (e)
        return e;
    if ((t->n + 1) * 2 > t->nslot && names_grow(t) < 0)
        return NULL;
    if (t->n == t->cap) {
        uint32_t nc = t->cap ? t->cap * 2 : 512;
        ss_name_entry *ne = realloc(t->ent, nc * sizeof *ne);
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

void ss_names_free(ss_name_table *t)
{
    for (uint32_t k = 0; k < t->n; k++)
        free(t->ent[k].name);
    free(t->ent);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

/* --------------------------------------------------------------- per pid */

ss_pidrec *ss_pids_lookup(ss_pid_table *t, int32_t pid, int create)
{
    if (t->nslot) {
        uint32_t mask = t->nslot - 1;
        for (uint32_t i = ss_hash_pid(pid) & mask;; i = (i + 1) & mask) {
            ss_pidrec *r = &t->rec[i];
            if (!r->used)
                break;
            if (r->pid == pid)
                return t->last = r;
        }
    }
    if (!create)
        return NULL;
    if ((t->n + 1) * 2 > t->nslot) {
        uint32_t ns = t->nslot ? t->nslot * 2 : 256;
        ss_pidrec *nr = calloc(ns, sizeof *nr);
        if (!nr)
            return NULL;
        for (uint32_t k = 0; k < t->nslot; k++) {
            if (!t->rec[k].used)
                continue;
            uint32_t i = ss_hash_pid(t->rec[k].pid) & (ns - 1);
            while (nr[i].used)
                i = (i + 1) & (ns - 1);
            nr[i] = t->rec[k];
        }
        free(t->rec);
        t->rec = nr;
        t->nslot = ns;
    }
    uint32_t mask = t->nslot - 1;
    uint32_t i = ss_hash_pid(pid) & mask;
    while (t->rec[i].used)
        i = (i + 1) & mask;
    ss_pidrec *r = &t->rec[i];
    memset(r, 0, sizeof *r);
    r->used = 1;
    r->pid = pid;
    t->n++;
    return t->last = r;
}

int ss_buf_set(char **buf, uint32_t *len, uint32_t *cap, const char *s, size_t n)
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

int ss_buf_append(char **buf, uint32_t *len, uint32_t *cap, const char *s, size_t n)
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
