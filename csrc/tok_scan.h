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
        __builtin_prefetch(p + 1024);  /* a hint: never faults, even past the end */
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

/* The number 8 digit values (0-9, one a byte, the first in the lowest byte)
 * spell, in three multiply-add steps over pairs, quads and halves; leading
 * zero bytes make it a shorter number's value. */
static inline uint64_t ss_swar8(uint64_t x)
{
    x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
    x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
    return (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
}

/* -T's "S.ffffff" (8 bytes from s, all inside the line) with one word test
 * as in ss_ts_fixed: 1 and *whole, *frac set; 0 for any other shape */
static inline int ss_dur_fixed(const char *s, uint64_t *whole, uint64_t *frac)
{
    uint64_t w;
    memcpy(&w, s, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    const uint64_t hi = 0xF0F0F0F0F0F0F0F0ULL, three = 0x3030303030303030ULL, six = 0x0606060606060606ULL;
    const uint64_t d = 0xFFFFFFFFFFFF00FFULL, sep = 0x0000000000002E00ULL;   /* byte 1 '.' */
    if ((((w & hi) ^ three) & d) | ((((w + six) & hi) ^ three) & d) | ((w & ~d) ^ sep))
        return 0;
    *whole = w & 0xFu;
    *frac = ss_swar8(w & 0x0F0F0F0F0F0F0000ULL);   /* the 6 digits after "S." */
    return 1;
}

size_t ss_parse_frac(const char *s, size_t n, size_t i, double *out);

/* the value of a digit byte; above 9 for any other byte */
#define SS_D(c) ((unsigned)((unsigned char)(c) - '0'))

/* The fixed shape strace -tt prints, "HH:MM:SS.ffffff " (16 bytes from s,
 * all inside the line): 1 and *ts set, with the same double as the general
 * path (whole seconds, then the 6 fraction digits times INV10[6]); 0 for
 * any other shape (the caller takes the general path). */
static inline int ss_ts_fixed(const char *s, double *ts)
{
    /* two 8-byte words, "HH:MM:SS" and ".ffffff ", checked at once: a digit
     * byte has high nibble 3 and stays so after adding 6 (0x30..0x39 ->
     * 0x36..0x3f); a carry out of a non-digit byte only happens where that
     * byte already fails, so the answer is exact */
    uint64_t w0, w1;
    memcpy(&w0, s, 8);
    memcpy(&w1, s + 8, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w0 = __builtin_bswap64(w0);
    w1 = __builtin_bswap64(w1);
#endif
    const uint64_t hi = 0xF0F0F0F0F0F0F0F0ULL, three = 0x3030303030303030ULL, six = 0x0606060606060606ULL;
    const uint64_t d0 = 0xFFFF00FFFF00FFFFULL, sep0 = 0x00003A00003A0000ULL;   /* bytes 2, 5 ':' */
    const uint64_t d1 = 0x00FFFFFFFFFFFF00ULL, sep1 = 0x200000000000002EULL;   /* '.', ' ' */
    uint64_t bad = (((w0 & hi) ^ three) & d0) | ((((w0 + six) & hi) ^ three) & d0) | ((w0 & ~d0) ^ sep0) |
                   (((w1 & hi) ^ three) & d1) | ((((w1 + six) & hi) ^ three) & d1) | ((w1 & ~d1) ^ sep1);
    if (bad)
        return 0;
    /* byte k of p is 10 * digit k + digit k + 1: HH at byte 0, MM at 3, SS at 6 */
    uint64_t x0 = w0 & 0x0F0F0F0F0F0F0F0FULL, p = x0 * 10 + (x0 >> 8);
    uint64_t whole = (p & 0xFF) * 3600 + ((p >> 24) & 0xFF) * 60 + ((p >> 48) & 0xFF);
    /* ".ffffff " as "00ffffff": the 6 digits moved to bytes 2..7 */
    uint64_t frac = ss_swar8((w1 & 0x000F0F0F0F0F0F00ULL) << 8);
    *ts = (double)whole + (double)frac * 1e-6;
    return 1;
}
int ss_parse_result(const char *s, size_t n, size_t i, ss_result *r);
uint8_t ss_rec_of(const ss_result *r);

#endif
