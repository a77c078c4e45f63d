/* SPDX-License-Identifier: MIT */
/* Scanning primitives of the strace tokeniser (internal to the C core):
 * numbers, fractions and results (argument text is lex.h's).
 * Mirrors the helpers of src/shimsim/trace/strace.py. */
#ifndef SHIMSIM_TOK_SCAN_H
#define SHIMSIM_TOK_SCAN_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* CDEF BEGIN */
/* CDEF END */

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
/* [A-Za-z0-9_]: one table load instead of seven compares */
extern const uint8_t ss_name_char[256];
#define IS_NAME(c) (ss_name_char[(unsigned char)(c)])
#define IS_HEX(c) (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))

/* A parsed " = RESULT ..." tail. */
typedef struct {
    int has_ret;
    int64_t ret;
    const char *errname;
    uint32_t errname_len;
    int injected;
    int has_dur;
    double dur;
} ss_result;

static inline int ss_starts(const char *s, size_t n, size_t i, const char *lit, size_t ln)
{
    return i + ln <= n && memcmp(s + i, lit, ln) == 0;
}
#define STARTS(s, n, i, lit) ss_starts((s), (n), (i), (lit), sizeof(lit) - 1)

static inline size_t ss_skip_spaces(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] == ' ')
        i++;
    return i;
}

/* decimal digits: returns end, value in *v (wrapping) */
static inline size_t ss_parse_uint(const char *s, size_t n, size_t i, uint64_t *v)
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

/* Newlines of one buffer, 64 bytes per step as a bit mask (SSE2), so a run
 * of short lines costs one vector pass instead of a memchr call per line;
 * memchr for the tail and where SSE2 is missing.  Positions asked for
 * must not decrease. */
typedef struct {
    const char *buf;
    size_t len, base;
    uint64_t mask;      /* newlines at base + bit; valid when base != (size_t)-1 */
} ss_nl_scan;

static inline void ss_nl_init(ss_nl_scan *z, const char *buf, size_t len)
{
    z->buf = buf;
    z->len = len;
    z->base = (size_t)-1;
    z->mask = 0;
}

/* index of the first '\n' at or after i, len if none */
static inline size_t ss_nl_next(ss_nl_scan *z, size_t i)
{
#if defined(__SSE2__)
    for (;;) {
        if (z->base != (size_t)-1 && i >= z->base && i - z->base < 64) {
            uint64_t m = z->mask & (~(uint64_t)0 << (i - z->base));
            if (m)
                return z->base + (size_t)__builtin_ctzll(m);
            i = z->base + 64;
        }
        if (i + 64 > z->len)
            break;
        const __m128i nl = _mm_set1_epi8('\n');
        const char *p = z->buf + i;
        uint64_t m0 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), nl));
        uint64_t m1 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), nl));
        uint64_t m2 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 32)), nl));
        uint64_t m3 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 48)), nl));
        z->base = i;
        z->mask = m0 | (m1 << 16) | (m2 << 32) | (m3 << 48);
    }
#endif
    if (i >= z->len)
        return z->len;
    const char *q = memchr(z->buf + i, '\n', z->len - i);
    return q ? (size_t)(q - z->buf) : z->len;
}

size_t ss_parse_frac(const char *s, size_t n, size_t i, double *out);

/* 1 when c is a decimal digit, for a byte already loaded as unsigned */
#define SS_D(c) ((unsigned)((unsigned char)(c) - '0'))

/* The fixed shape strace -tt prints, "HH:MM:SS.ffffff " (16 bytes from s,
 * all inside the line): 1 and *ts set, with the same double as the general
 * path (whole seconds, then the 6 fraction digits times INV10[6]); 0 for
 * any other shape (the caller takes the general path). */
static inline int ss_ts_fixed(const char *s, double *ts)
{
    unsigned h1 = SS_D(s[0]), h2 = SS_D(s[1]), m1 = SS_D(s[3]), m2 = SS_D(s[4]), s1 = SS_D(s[6]),
             s2 = SS_D(s[7]);
    unsigned f0 = SS_D(s[9]), f1 = SS_D(s[10]), f2 = SS_D(s[11]), f3 = SS_D(s[12]), f4 = SS_D(s[13]),
             f5 = SS_D(s[14]);
    /* one test for all twelve digits: any byte outside '0'..'9' gives a value > 9 */
    unsigned bad = (h1 > 9) | (h2 > 9) | (m1 > 9) | (m2 > 9) | (s1 > 9) | (s2 > 9) | (f0 > 9) |
                   (f1 > 9) | (f2 > 9) | (f3 > 9) | (f4 > 9) | (f5 > 9);
    if (bad | (s[2] != ':') | (s[5] != ':') | (s[8] != '.') | (s[15] != ' '))
        return 0;
    uint64_t whole = (uint64_t)(h1 * 10 + h2) * 3600 + (m1 * 10 + m2) * 60 + (s1 * 10 + s2);
    uint64_t frac = ((((f0 * 10 + f1) * 10 + f2) * 10 + f3) * 10 + f4) * 10 + f5;
    *ts = (double)whole + (double)frac * 1e-6;
    return 1;
}
int ss_parse_result(const char *s, size_t n, size_t i, ss_result *r);
uint8_t ss_rec_of(const ss_result *r);

#endif
