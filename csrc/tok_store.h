/* SPDX-License-Identifier: MIT */
/* Storage of the strace tokeniser (internal to the C core): a chunked arena
 * whose pointers stay valid until reset, name tables (open addressing, one
 * value per ABI, per-syscall counters) and per-pid records (ABI, pending
 * <unfinished ...> call). */
#ifndef SHIMSIM_TOK_STORE_H
#define SHIMSIM_TOK_STORE_H
#include "tokenise.h"

/* CDEF BEGIN */
/* CDEF END */

typedef struct ss_arena_chunk {
    struct ss_arena_chunk *next;
    size_t cap, used;
    char data[];
} ss_arena_chunk;

typedef struct {
    ss_arena_chunk *head;   /* current chunk first */
} ss_arena;

typedef struct {
    char *name;
    uint32_t len;
    int32_t val[SS_TOK_MAX_ABI];
    uint64_t calls, errors;   /* syscall table only */
} ss_name_entry;

typedef struct {
    ss_name_entry *ent;     /* dense, in insertion order */
    uint32_t n, cap;
    uint32_t *slot;      /* open addressing: index+1, 0 = empty */
    uint32_t nslot;      /* power of two */
} ss_name_table;

typedef struct {
    int32_t pid;
    uint8_t used, seen, has_pending, abi;
    uint8_t sflags;       /* SS_SF_* (speculative tokenisers only) */
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
} ss_pidrec;

typedef struct {
    ss_pidrec *rec;
    uint32_t n, nslot;
    ss_pidrec *last;      /* the record found last (consecutive lines are mostly one pid); NULL after a rehash */
} ss_pid_table;

char *ss_arena_alloc(ss_arena *a, size_t n);
void ss_arena_reset(ss_arena *a);
void ss_arena_free(ss_arena *a);
ss_name_entry *ss_names_find(const ss_name_table *t, const char *s, uint32_t n);
ss_name_entry *ss_names_insert(ss_name_table *t, const char *s, uint32_t n);
void ss_names_free(ss_name_table *t);
ss_pidrec *ss_pids_lookup(ss_pid_table *t, int32_t pid, int create);
/* the record of pid (created when create is set; NULL if not found or out of
 * memory); the last record found is checked inline, without a call */
/* the pid table's slot hash (its probe here and in tok_store.c) */
static inline uint32_t ss_hash_pid(int32_t p)
{
    uint32_t x = (uint32_t)p * 2654435761u;
    return x ^ (x >> 16);
}

static inline ss_pidrec *ss_pids_get(ss_pid_table *t, int32_t pid, int create)
{
    if (t->last && t->last->pid == pid)
        return t->last;
    /* the probe inline (most lookups find a record, and -f traces switch
     * pids every few lines); a miss makes the record out of line */
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
    return create ? ss_pids_lookup(t, pid, create) : NULL;
}
int ss_buf_set(char **buf, uint32_t *len, uint32_t *cap, const char *s, size_t n);
int ss_buf_append(char **buf, uint32_t *len, uint32_t *cap, const char *s, size_t n);

#endif
