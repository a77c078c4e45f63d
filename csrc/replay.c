/* SPDX-License-Identifier: MIT */
/* Replay core: classify, translate flags and errno, count.  The rules are
 * the ones of src/shimsim/engine/python.py (the reference), line for line. */
#include <string.h>
#include "lex.h"
#include "replay.h"

/* ------------------------------------------------------------ arguments */

/* argument spans come from the one scanner, lex.c */
int ss_arg_span(const char *s, size_t len, unsigned idx, size_t *start, size_t *end)
{
    return ss_lex_arg_span(s, len, idx, start, end);
}

/* ------------------------------------------------------------ flags */

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 16777619u;
    }
    return h;
}

static int32_t lookup(const ss_fmap *fm, const char *s, size_t n)
{
    uint32_t h = fnv1a(s, n) & fm->hash_mask;
    for (;;) {
        int32_t m = fm->hash[h];
        if (m < 0)
            return -1;
        const ss_fmember *mb = &fm->members[m];
        if (mb->name_len == n && memcmp(fm->names + mb->name_off, s, n) == 0)
            return m;
        h = (h + 1) & fm->hash_mask;
    }
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Whole token as an unsigned number: 0x.. hex, 0.. octal, decimal. */
static int parse_num(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    unsigned base = 10;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
        if (n == 2)
            return 0;
    } else if (n >= 2 && s[0] == '0') {
        base = 8;
        i = 1;
    }
    for (; i < n; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return 0;
        if (d >= base)
            return 0;
        if (v > (UINT64_MAX - d) / base)
            return 0;
        v = v * base + d;
    }
    *out = v;
    return 1;
}

static void apply(const ss_fmap *fm, uint32_t m, uint64_t *hval, uint64_t *unsup, int *dropped)
{
    const ss_fmember *mb = &fm->members[m];
    if (mb->supported) {
        *hval |= mb->hval;
    } else {
        *unsup |= mb->gval;
        *dropped = 1;
    }
}

static int decode_token(const ss_fmap *fm, const char *t, size_t n,
                        uint64_t *hval, uint64_t *unsup, int *dropped)
{
    while (n > 0 && is_space(t[0])) { t++; n--; }
    while (n > 0 && is_space(t[n - 1])) n--;
    if (n == 0)
        return 0;
    if (t[0] >= '0' && t[0] <= '9') {
        uint64_t v;
        if (!parse_num(t, n, &v))
            return 0;
        if (fm->is_enum) {
            for (uint32_t k = 0; k < fm->nsteps; k++) {
                if (fm->steps[k].val == v) {
                    apply(fm, fm->steps[k].member, hval, unsup, dropped);
                    return 1;
                }
            }
            return 0;
        }
        uint64_t consumed = 0;
        for (uint32_t k = 0; k < fm->nsteps; k++) {
            const ss_fstep *sp = &fm->steps[k];
            if ((consumed & sp->mask) == 0 && (v & sp->mask) == sp->val) {
                consumed |= sp->mask;
                apply(fm, sp->member, hval, unsup, dropped);
            }
        }
        return (v & ~consumed) == 0;
    }
    int32_t m = lookup(fm, t, n);
    if (m < 0)
        return 0;
    apply(fm, (uint32_t)m, hval, unsup, dropped);
    return 1;
}

int ss_flag_decode(const ss_fmap *fm, const char *s, size_t len,
                   uint64_t *hval, uint64_t *unsup, int *dropped)
{
    char tok[128];
    size_t tn = 0, i = 0;
    int ok = 1;
    *hval = 0;
    *unsup = 0;
    *dropped = 0;
    while (len > 0 && is_space(s[0])) { s++; len--; }
    if (len == 0 || s[0] == '[' || s[0] == '"' || s[0] == '{' || s[0] == '\'')
        return 0;
    if (!memchr(s, '/', len)) {
        /* no comment: tokens are decoded in place */
        size_t st = 0;
        for (i = 0; i <= len; i++) {
            if (i == len || s[i] == '|') {
                if (i - st >= sizeof tok || !decode_token(fm, s + st, i - st, hval, unsup, dropped))
                    ok = 0;
                st = i + 1;
            }
        }
        return ok;
    }
    for (;;) {
        if (i >= len || s[i] == '|') {
            if (tn >= sizeof tok || !decode_token(fm, tok, tn, hval, unsup, dropped))
                ok = 0;
            tn = 0;
            if (i >= len)
                break;
            i++;
            continue;
        }
        if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
            i += 2;
            while (i + 1 < len && !(s[i] == '*' && s[i + 1] == '/'))
                i++;
            i += 2;
            continue;
        }
        if (tn < sizeof tok)
            tok[tn] = s[i];
        tn++;
        i++;
    }
    return ok;
}

/* ss_flag_decode through the shim's memo (same results, fewer lookups). */
static int flag_decode_cached(const ss_shim *sh, uint16_t fmap, const char *s, size_t len,
                              uint64_t *hval, uint64_t *unsup, int *dropped)
{
    if (sh->cache == NULL || len > SS_FCACHE_TEXT)
        return ss_flag_decode(&sh->fmaps[fmap], s, len, hval, unsup, dropped);
    uint64_t head = 0, tail = 0;
    memcpy(&head, s, len < 8 ? len : 8);
    if (len > 8)
        memcpy(&tail, s + len - 8, 8);
    uint64_t x = (head * 0x9E3779B97F4A7C15ull) ^ (tail * 0xC2B2AE3D27D4EB4Full) ^
                 ((uint64_t)len << 48) ^ ((uint64_t)fmap << 32);
    uint32_t key = (uint32_t)(x ^ (x >> 29));
    ss_fcache *c = &sh->cache[key & sh->cache_mask];
    if ((c->state & 1) && c->key == key && c->fmap == fmap && c->len == len &&
        memcmp(c->text, s, len) == 0) {
        *hval = c->hval;
        *unsup = c->unsup;
        *dropped = (c->state & 4) != 0;
        return (c->state & 2) != 0;
    }
    int ok = ss_flag_decode(&sh->fmaps[fmap], s, len, hval, unsup, dropped);
    c->hval = *hval;
    c->unsup = *unsup;
    c->key = key;
    c->fmap = fmap;
    c->len = (uint8_t)len;
    c->state = (uint8_t)(1 | (ok ? 2 : 0) | (*dropped ? 4 : 0));
    memcpy(c->text, s, len);
    return ok;
}

/* strace prints some calls with named arguments in its own order
 * (clone(child_stack=NULL, flags=CLONE_VM|SIGCHLD, ...)): when the positional
 * argument is such a "name=value" form, the flag argument is the one named
 * "flags=" (wherever it is), without its name.  Returns 0 when there is none. */
static int named_flags_span(const char *s, size_t len, size_t *a, size_t *b)
{
    size_t i = *a;
    while (i < *b && (s[i] == ' ' || s[i] == '\t'))
        i++;
    size_t j = i;
    while (j < *b && ((s[j] >= 'a' && s[j] <= 'z') || s[j] == '_'))
        j++;
    if (j == i || j >= *b || s[j] != '=')
        return 1;                                   /* positional: as it is */
    if (j - i == 5 && memcmp(s + i, "flags", 5) == 0) {
        *a = j + 1;
        return 1;
    }
    size_t sa[8], sb[8];
    unsigned n = ss_lex_arg_spans(s, len, 7, sa, sb);
    for (unsigned k = 0; k < n; k++) {
        size_t x = sa[k];
        while (x < sb[k] && (s[x] == ' ' || s[x] == '\t'))
            x++;
        if (sb[k] - x > 6 && memcmp(s + x, "flags=", 6) == 0) {
            *a = x + 6;
            *b = sb[k];
            return 1;
        }
    }
    return 0;
}

static int names_library(const char *s, size_t len)
{
    if (s == NULL)
        return 0;
    for (size_t i = 0; i + 3 <= len; i++) {
        if (s[i] != '.')
            continue;
        if (s[i + 1] == 's' && s[i + 2] == 'o')
            return 1;
        if (i + 6 <= len && memcmp(s + i, ".hints", 6) == 0)
            return 1;
    }
    return 0;
}

size_t ss_select_nr(const ss_event *ev, size_t n, const uint8_t *want, size_t nwant,
                    uint32_t *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t nr = ev[i].nr;
        if (nr >= 0 && (size_t)nr < nwant && want[nr]) {
            if (want[nr] == 2 && !(ev[i].kind == SS_EV_SYSCALL && ev[i].rec == SS_REC_SUCCESS && ev[i].ret >= 0 &&
                                   names_library(ev[i].args, ev[i].args_len)))
                continue;
            if (k < cap)
                out[k] = (uint32_t)i;
            k++;
        }
    }
    return k;
}

/* ------------------------------------------------------------ replay */

static void record_div(ss_rp_stats *st, uint32_t idx, uint8_t code, int32_t nr, int32_t err,
                       int16_t fb, uint8_t arg, uint16_t fmap, uint64_t unsup)
{
    st->div[code]++;
    if (st->ndivs < st->divs_cap) {
        ss_rp_div *d = &st->divs[st->ndivs];
        d->index = idx;
        d->code = code;
        d->arg = arg;
        d->fallback = fb;
        d->nr = nr;
        d->err = err;
        d->fmap = fmap;
        d->pad = 0;
        d->unsup = unsup;
    }
    st->ndivs++;
    if (code == SS_DIV_FAILS && st->first_fatal < 0)
        st->first_fatal = idx;
}

uint32_t ss_replay_batch(const ss_shim *sh, const ss_event *ev, size_t n,
                         ss_rp_stats *st, ss_rp_result *out)
{
    st->first_fatal = -1;
    st->ndivs = 0;
    st->nunk = 0;
    for (size_t i = 0; i < n; i++) {
        const ss_event *e = &ev[i];
        uint8_t outc = SS_OUT_NONE, div = SS_DIV_NONE, dropped = 0, undecoded = 0, nflags = 0;
        uint8_t div_arg = 0;
        uint16_t div_fmap = 0;
        uint64_t div_unsup = 0;
        int16_t fb = -1;
        int32_t hnr = -1, err = e->err;
        int64_t ret = e->ret;
        uint64_t hflags[SS_RP_MAXF] = {0}, unsup[SS_RP_MAXF] = {0};
        st->events++;
        if (e->kind == SS_EV_SYSCALL) {
            int32_t nr = e->nr;
            st->syscalls++;
            if (nr < 0 || nr >= sh->nsys || e->abi != sh->abi || sh->outcome[nr] == SS_OUT_UNKNOWN) {
                outc = SS_OUT_UNKNOWN;
                if (st->nunk < st->unk_cap)
                    st->unk[st->nunk] = (uint32_t)i;
                st->nunk++;
            } else {
                uint8_t cls = sh->outcome[nr];
                int32_t rec_err = 0;
                if (e->rec == SS_REC_ERROR || (e->rec == SS_REC_INJECTED && e->err > 0))
                    rec_err = e->err > 0 ? e->err : -1;
                int rec_ok = rec_err == 0;
                outc = cls;
                int32_t rej_err = 0;
                uint32_t nrej = sh->rej_len ? sh->rej_len[nr] : 0;
                if (nrej > 0) {
                    /* flags the layer's handler rejects: the call fails with the check's errno */
                    uint32_t off = sh->rej_off[nr];
                    size_t sa[8], sb[8];
                    unsigned nspans = ss_lex_arg_spans(e->args, e->args_len, sh->rejs[off + nrej - 1].arg, sa, sb);
                    for (uint32_t k = 0; k < nrej; k++) {
                        const ss_frej *rj = &sh->rejs[off + k];
                        uint64_t hv = 0, bits = 0;
                        int d = 0;
                        size_t fa = 0, fb2 = 0;
                        if (rj->arg < nspans) {
                            fa = sa[rj->arg];
                            fb2 = sb[rj->arg];
                        }
                        if (rj->arg >= nspans || !named_flags_span(e->args, e->args_len, &fa, &fb2)) {
                            undecoded = 1;
                            continue;
                        }
                        if (!flag_decode_cached(sh, rj->fmap, e->args + fa, fb2 - fa, &hv, &bits, &d))
                            undecoded = 1;
                        if (bits && !rej_err) {
                            rej_err = rj->err;
                            div_arg = rj->arg;
                            div_fmap = rj->fmap;
                            div_unsup = bits;
                        }
                    }
                }
                if (rej_err) {
                    outc = SS_OUT_FAILED;
                    err = rej_err;
                    ret = -1;
                    if (rec_ok) {
                        fb = sh->ev_fallback ? sh->ev_fallback[i] : sh->fallback[nr];
                        div = fb >= 0 ? SS_DIV_FALLBACK : SS_DIV_FAILS;
                    } else if (rec_err != err)
                        div = SS_DIV_ERRNO;
                } else if (cls == SS_OUT_TRANSLATED || cls == SS_OUT_PARTIAL || cls == SS_OUT_EMULATED) {
                    hnr = sh->host_nr[nr];
                    if (hnr >= 0) {
                        uint32_t off = sh->prog_off[nr], np = sh->prog_len[nr];
                        size_t sa[8], sb[8];
                        unsigned nspans = 0;
                        if (np > 0)   /* programs are sorted by argument: one scan finds all */
                            nspans = ss_lex_arg_spans(e->args, e->args_len, sh->progs[off + np - 1].arg, sa, sb);
                        for (uint32_t k = 0; k < np; k++) {
                            const ss_fprog *p = &sh->progs[off + k];
                            int d = 0;
                            nflags++;
                            size_t fa = 0, fb2 = 0;
                            if (p->arg < nspans) {
                                fa = sa[p->arg];
                                fb2 = sb[p->arg];
                            }
                            if (p->arg >= nspans || !named_flags_span(e->args, e->args_len, &fa, &fb2) ||
                                !flag_decode_cached(sh, p->fmap, e->args + fa, fb2 - fa,
                                                    &hflags[k], &unsup[k], &d))
                                undecoded = 1;
                            if (d && !dropped) {
                                div_arg = p->arg;
                                div_fmap = p->fmap;
                                div_unsup = unsup[k];
                            }
                            if (d)
                                dropped = 1;
                        }
                    }
                    if (rec_err > 0 && hnr >= 0) {
                        err = rec_err < sh->nerr ? sh->errno_rt[rec_err] : rec_err;
                        if (err != rec_err)
                            div = SS_DIV_ERRNO;
                    } else {
                        err = rec_err;
                    }
                    if (dropped) {
                        if (outc == SS_OUT_TRANSLATED)
                            outc = SS_OUT_PARTIAL;
                        if (rec_ok)
                            div = SS_DIV_FLAG;
                    }
                } else if (cls == SS_OUT_FAILED) {
                    err = sh->fail_err[nr];
                    ret = -1;
                    if (rec_ok) {
                        fb = sh->ev_fallback ? sh->ev_fallback[i] : sh->fallback[nr];
                        div = fb >= 0 ? SS_DIV_FALLBACK : SS_DIV_FAILS;
                    } else if (rec_err != err) {
                        div = SS_DIV_ERRNO;
                    }
                } else if (cls == SS_OUT_STUBBED) {
                    err = 0;
                    ret = 0;
                    if (!rec_ok || (e->rec == SS_REC_SUCCESS && e->ret != 0))
                        div = SS_DIV_RESULT;
                } else { /* SS_OUT_FAKED */
                    err = 0;
                    ret = rec_ok ? e->ret : 0;
                    if (!rec_ok)
                        div = SS_DIV_RESULT;
                }
                st->per_nr[(size_t)nr * SS_NOUT + outc]++;
            }
            st->outcome[outc]++;
            if (undecoded)
                st->undecoded++;
        } else if (e->kind == SS_EV_SIGNAL || e->kind == SS_EV_KILLED || e->kind == SS_EV_STOPPED) {
            int32_t s = e->err;
            if (s > 0 && s < sh->nsig && sh->sig_rt[s] != s)
                div = SS_DIV_SIGNAL;
        }
        if (div != SS_DIV_NONE)
            record_div(st, (uint32_t)i, div, e->nr, div == SS_DIV_SIGNAL ? e->err : err, fb,
                       div_arg, div_fmap, div_unsup);
        if (out) {
            ss_rp_result *r = &out[i];
            r->outcome = outc;
            r->div = div;
            r->nflags = nflags;
            r->dropped = dropped;
            r->undecoded = undecoded;
            r->pad = 0;
            r->fallback = fb;
            r->host_nr = hnr;
            r->err = err;
            r->ret = ret;
            memcpy(r->hflags, hflags, sizeof hflags);
            memcpy(r->unsup, unsup, sizeof unsup);
        }
    }
    return st->ndivs;
}
