/* SPDX-License-Identifier: MIT */
/* Scanning primitives of the strace tokeniser (internal to the C core):
 * numbers, fractions and results (argument text is lex.h's).
 * Mirrors the helpers of src/shimsim/trace/strace.py. */
#ifndef SHIMSIM_TOK_SCAN_H
#define SHIMSIM_TOK_SCAN_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* CDEF BEGIN */
/* CDEF END */

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_NAME(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z') || IS_DIGIT(c) || (c) == '_')
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

size_t ss_parse_frac(const char *s, size_t n, size_t i, double *out);
int ss_parse_result(const char *s, size_t n, size_t i, ss_result *r);
uint8_t ss_rec_of(const ss_result *r);

#endif
