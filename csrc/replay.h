/* SPDX-License-Identifier: MIT */
/* Replay core: run batches of ss_event through a compiled shim.
 *
 * The shim arrives as flat arrays built by src/shimsim/shim.py (one entry
 * per guest syscall number) and packed by src/shimsim/engine/c.py; the Python
 * reference engine (engine/python.py) implements the same rules on the same arrays,
 * and tests/replay/test_replay_diff.py holds the two to agreement event by event.
 * One call per batch; nothing here allocates. */
#ifndef SHIMSIM_REPLAY_H
#define SHIMSIM_REPLAY_H
#include "shimsim.h"

/* CDEF BEGIN */
/* Outcomes SS_OUT_*, divergences SS_DIV_*, SS_RP_MAXF: csrc/codes.h. */

/* One member of a guest constant family as the shim maps it. */
typedef struct {
    uint64_t gval;        /* guest value */
    uint64_t hval;        /* host value (when supported) */
    uint32_t name_off;    /* offset of the name in ss_fmap.names */
    uint16_t name_len;
    uint8_t  supported;   /* 0: no host equivalent (dropped) */
    uint8_t  pad;
} ss_fmember;

/* Numeric decomposition step: applies when (consumed & mask) == 0 and
 * (value & mask) == val; then consumed |= mask and the member applies. */
typedef struct {
    uint64_t mask;
    uint64_t val;
    uint32_t member;
    uint32_t pad;
} ss_fstep;

typedef struct {
    const ss_fmember *members;
    uint32_t nmembers;
    uint32_t nsteps;
    const ss_fstep *steps;
    const int32_t *hash;  /* open addressing on FNV-1a of the name; -1 = empty */
    uint32_t hash_mask;
    uint32_t is_enum;
    const char *names;
} ss_fmap;

typedef struct {
    uint8_t  arg;         /* argument index */
    uint8_t  pad;
    uint16_t fmap;        /* index into ss_shim.fmaps */
} ss_fprog;

/* A flag check of the layer's handler (shim rule 'reject'): when the argument carries a
 * member the fmap marks unsupported (the rejected ones), the call fails with err. */
typedef struct {
    uint8_t  arg;         /* argument index */
    uint8_t  pad;
    uint16_t fmap;        /* index into ss_shim.fmaps: a reject map */
    int32_t  err;         /* guest errno the handler fails the call with */
} ss_frej;

/* Memo of flag decodings: the result is a pure function of (family, text),
 * and flag texts repeat (O_RDONLY|O_CLOEXEC ...), so decoded results are kept
 * in a small direct-mapped table owned by the packed shim. */
#define SS_FCACHE_TEXT 46
typedef struct {
    uint64_t hval;
    uint64_t unsup;
    uint32_t key;
    uint16_t fmap;
    uint8_t  len;
    uint8_t  state;       /* 0 empty; bit 1 valid, 2 decoded, 4 dropped */
    char     text[SS_FCACHE_TEXT];
} ss_fcache;

typedef struct {
    int32_t nsys;                 /* guest numbers 0 .. nsys-1 */
    int32_t nerr;                 /* errno_rt entries */
    int32_t nsig;                 /* sig_rt entries */
    uint32_t nfmaps;
    uint32_t abi;                 /* ss_event.abi of the guest; syscalls of other ABIs are unknown */
    uint32_t pad;
    const uint8_t  *outcome;      /* SS_OUT_* per guest number */
    const int32_t  *host_nr;      /* -1: no host call */
    const int32_t  *fail_err;     /* guest errno when the shim fails */
    const int16_t  *fallback;     /* fallback chain id rescuing a failure, -1 none */
    const uint32_t *prog_off;     /* flag program of each guest number */
    const uint8_t  *prog_len;
    const ss_fprog *progs;
    const ss_fmap  *fmaps;
    const int32_t  *errno_rt;     /* guest errno after the host round trip */
    const int32_t  *sig_rt;       /* guest signal after the host round trip, -1 lost */
    ss_fcache      *cache;        /* NULL: no memo */
    uint32_t        cache_mask;   /* entries - 1 (a power of two) */
    uint32_t        pad2;
    const int16_t  *ev_fallback;  /* per event of the batch: the fallback id for its caller
                                     (replaces fallback[nr]); NULL: use fallback[nr] */
    const uint32_t *rej_off;      /* flag checks (ss_frej) of each guest number, sorted by argument */
    const uint8_t  *rej_len;      /* NULL: the shim rejects no flag */
    const ss_frej  *rejs;
} ss_shim;

/* Per-event result (optional output, for reports and differential tests). */
typedef struct {
    uint8_t  outcome;
    uint8_t  div;
    uint8_t  nflags;      /* flag programs run */
    uint8_t  dropped;     /* some flag had no host equivalent */
    uint8_t  undecoded;   /* some flag argument could not be read */
    uint8_t  pad;
    int16_t  fallback;
    int32_t  host_nr;
    int32_t  err;         /* guest-visible errno (0 = success) */
    int64_t  ret;         /* guest-visible return value */
    uint64_t hflags[SS_RP_MAXF];
    uint64_t unsup[SS_RP_MAXF];
} ss_rp_result;

/* A divergence, recorded (up to divs_cap per batch) for the report. */
typedef struct {
    uint32_t index;       /* event index in the batch */
    uint8_t  code;        /* SS_DIV_* */
    uint8_t  arg;         /* SS_DIV_FLAG: argument index */
    int16_t  fallback;
    int32_t  nr;
    int32_t  err;         /* SS_DIV_FAILS/ERRNO: guest errno the shim returns; SIGNAL: signal */
    uint16_t fmap;        /* SS_DIV_FLAG: family */
    uint16_t pad;
    uint64_t unsup;       /* SS_DIV_FLAG: guest bits without host equivalent */
} ss_rp_div;

typedef struct {
    uint64_t events;
    uint64_t syscalls;
    uint64_t undecoded;
    uint64_t outcome[SS_NOUT];
    uint64_t div[SS_NDIV];
    uint64_t *per_nr;     /* nsys * SS_NOUT counters, caller allocated, zeroed */
    /* per batch, reset by every call */
    int64_t  first_fatal; /* index of the first SS_DIV_FAILS in the batch, -1 none */
    uint32_t ndivs;
    uint32_t divs_cap;
    ss_rp_div *divs;
    uint32_t nunk;        /* unknown-syscall events seen in the batch */
    uint32_t unk_cap;
    uint32_t *unk;        /* their indices (up to unk_cap) */
} ss_rp_stats;

/* Replay n events; counts into st; fills out[n] when out is not NULL.
 * Returns the number of divergences in the batch. */
uint32_t ss_replay_batch(const ss_shim *sh, const ss_event *ev, size_t n,
                         ss_rp_stats *st, ss_rp_result *out);
/* Translate one flag argument text through a family map (exposed for tests). */
int ss_flag_decode(const ss_fmap *fm, const char *s, size_t len,
                   uint64_t *hval, uint64_t *unsup, int *dropped);
/* Indices (into out, up to cap) of the events whose guest number nr has
 * want[nr] != 0 (nr < nwant); want[nr] == 2 selects only successful calls
 * whose argument text names a shared object (".so") or loader hints
 * (".hints"): the opens that tell who the caller is.  Returns how many
 * matched (may exceed cap).  The replay follows execve/fork/open calls
 * through it without a Python loop over every event. */
size_t ss_select_nr(const ss_event *ev, size_t n, const uint8_t *want, size_t nwant,
                    uint32_t *out, size_t cap);
/* Byte span of argument idx in an strace argument list; 0 if absent. */
int ss_arg_span(const char *s, size_t len, unsigned idx, size_t *start, size_t *end);
/* CDEF END */

#endif
