/* SPDX-License-Identifier: MIT */
/* Scanning primitives of the strace tokeniser; see tok_scan.h. */
#include "lex.h"
#include "tok_scan.h"
#include "tokenise.h"

/* GNU range initialisers (gcc and clang) */
const uint8_t ss_name_char[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['_'] = 1, ['a' ... 'z'] = 1,
};

/* 10^-k as the nearest doubles (the same literals as strace.py's _INV10):
 * a multiply instead of a divide per fraction, and the same result in both */
static const double INV10[16] = {1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8,
                                 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15};

/* digits after a dot: at most 15 count (exact in a double) */
size_t ss_parse_frac(const char *s, size_t n, size_t i, double *out)
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
    *out = k ? (double)x * INV10[k] : 0.0;
    return j;
}

static const char *ss_find2(const char *s, size_t n, size_t i, char a, char b)
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

/* ' = RESULT ...' at s[i]; 0 ok or an SS_R_* code */
int ss_parse_result(const char *s, size_t n, size_t i, ss_result *r)
{
    memset(r, 0, sizeof *r);
    i = ss_skip_spaces(s, n, i);
    if (i >= n || s[i] != '=')
        return SS_R_EQ;
    i = ss_skip_spaces(s, n, i + 1);
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
            j = ss_parse_uint(s, n, i, &v);
            if (j == i)
                return SS_R_RETVAL;
        }
        if (neg)
            v = (uint64_t)0 - v;
        r->has_ret = 1;
        r->ret = (int64_t)v;
        i = j;
        if (i < n && s[i] == '<') {
            size_t k = ss_lex_decoration(s, n, i);
            if (k > n)
                return SS_R_TRAIL;
            i = k;
        }
    }
    uint64_t dw, df;
    for (;;) {
        i = ss_skip_spaces(s, n, i);
        if (i >= n)
            return 0;
        char c = s[i];
        /* errno names: E + capitals, digits, underscores (E2BIG has a digit first) */
        if (c == 'E' && !r->errname && i + 1 < n &&
            ((s[i + 1] >= 'A' && s[i + 1] <= 'Z') || IS_DIGIT(s[i + 1]))) {
            size_t j = i + 1;
            while (j < n && IS_NAME(s[j]))
                j++;
            r->errname = s + i;
            r->errname_len = (uint32_t)(j - i);
            i = j;
        } else if (c == '(') {
            size_t j = ss_lex_balanced_paren(s, n, i);
            if (!j)
                return SS_R_TRAIL;
            if (j - i == 10 && memcmp(s + i + 1, "INJECTED", 8) == 0)
                r->injected = 1;
            i = j;
        } else if (c == '<' && i + 10 <= n && s[i + 9] == '>' && ss_dur_fixed(s + i + 1, &dw, &df)) {
            /* -T's "<S.ffffff>", the common case: the same double as below */
            r->has_dur = 1;
            r->dur = (double)dw + (double)df * INV10[6];
            i += 10;
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
                ss_parse_uint(s, j, a, &ip);
                double fr;
                size_t e = ss_parse_frac(s, j, k + 1, &fr);
                if (e != j)
                    return SS_R_TRAIL;
                r->has_dur = 1;
                r->dur = (double)ip + fr;
            } else if (!(j - a == 11 && memcmp(s + a, "unavailable", 11) == 0))
                return SS_R_TRAIL;
            i = j + 1;
        } else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
            const char *p = ss_find2(s, n, i + 2, '*', '/');
            if (!p)
                return SS_R_TRAIL;
            i = (size_t)(p - s) + 2;
        } else
            return SS_R_TRAIL;
    }
}

uint8_t ss_rec_of(const ss_result *r)
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
