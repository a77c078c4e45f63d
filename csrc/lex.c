/* SPDX-License-Identifier: MIT */
/* The one scanner of strace argument text; the rules are in lex.h. */
#include <string.h>
#include "lex.h"
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define LEX_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* i advanced 16 bytes at a time to the first of a, b or c, stopping where
 * fewer than 16 bytes are left (the caller's byte loop does the rest); i
 * unchanged without SSE2 */
static inline size_t skip_to_any3(const char *s, size_t n, size_t i, char a, char b, char c)
{
#if defined(__SSE2__)
    const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b), vc = _mm_set1_epi8(c);
    while (i + 16 <= n) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        int bits = _mm_movemask_epi8(_mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)), _mm_cmpeq_epi8(v, vc)));
        if (bits)
            return i + (size_t)__builtin_ctz((unsigned)bits);
        i += 16;
    }
#else
    (void)s; (void)n; (void)a; (void)b; (void)c;
#endif
    return i;
}

/* the characters the argument scanners must look at */
static const uint8_t SPECIAL[256] = {
    ['"'] = 1, ['/'] = 1, ['('] = 1, ['['] = 1, ['{'] = 1, [')'] = 1, [']'] = 1, ['}'] = 1,
    ['<'] = 1, [','] = 1,
};
/* [0-9A-Za-z_-]: the characters of a socket decoration's TYPE (GNU range
 * initialisers, gcc and clang) */
static const uint8_t SOCK_TYPE[256] = {
    ['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1, ['-'] = 1, ['_'] = 1,
};
/* the same without ',' */
static const uint8_t SPECIAL_NC[256] = {
    ['"'] = 1, ['/'] = 1, ['('] = 1, ['['] = 1, ['{'] = 1, [')'] = 1, [']'] = 1, ['}'] = 1,
    ['<'] = 1,
};

/* first index >= i holding a special character (len if none); 16 bytes at a
 * time where SSE2 is available, the same answer either way.  with_comma 0
 * skips ',' too (ss_lex_call does not split arguments, and commas are the
 * most frequent special character of argument text); it is a constant at
 * every call site, so each copy is a branch-free loop. */
static inline __attribute__((always_inline)) size_t skip_plain(const char *s, size_t i, size_t len,
                                                               const int with_comma)
{
#if defined(__SSE2__)
    const __m128i q = _mm_set1_epi8('"'), sl = _mm_set1_epi8('/'), lp = _mm_set1_epi8('('),
                  lb = _mm_set1_epi8('['), lc = _mm_set1_epi8('{'), rp = _mm_set1_epi8(')'),
                  rb = _mm_set1_epi8(']'), rc = _mm_set1_epi8('}'), lt = _mm_set1_epi8('<'),
                  cm = _mm_set1_epi8(',');
    if (!with_comma) {
        /* fewer compares, a superset of the special bytes: v | 0x20 folds '['
         * ']' onto '{' '}', v | 0x21 folds '(' ')' (and \b \t) onto ')'.
         * A byte stopped at that is not special is plain text to every
         * caller of this variant (ss_lex_call's switch passes it by). */
        const __m128i b20 = _mm_set1_epi8(0x20), b21 = _mm_set1_epi8(0x21);
        while (i + 16 <= len) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            __m128i w = _mm_or_si128(v, b20), w2 = _mm_or_si128(v, b21);
            __m128i m = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(w, lc), _mm_cmpeq_epi8(w, rc)),
                _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(w2, rp), _mm_cmpeq_epi8(v, q)),
                             _mm_or_si128(_mm_cmpeq_epi8(v, sl), _mm_cmpeq_epi8(v, lt))));
            int bits = _mm_movemask_epi8(m);
            if (bits)
                return i + (size_t)__builtin_ctz((unsigned)bits);
            i += 16;
        }
    }
    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i m = _mm_or_si128(
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, sl)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, lp), _mm_cmpeq_epi8(v, lb))),
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lc), _mm_cmpeq_epi8(v, rp)),
                         _mm_or_si128(_mm_cmpeq_epi8(v, rb), _mm_cmpeq_epi8(v, rc))));
        m = _mm_or_si128(m, _mm_cmpeq_epi8(v, lt));
        if (with_comma)
            m = _mm_or_si128(m, _mm_cmpeq_epi8(v, cm));
        int bits = _mm_movemask_epi8(m);
        if (bits)
            return i + (size_t)__builtin_ctz((unsigned)bits);
        i += 16;
    }
#endif
    const uint8_t *tab = with_comma ? SPECIAL : SPECIAL_NC;
    while (i < len && !tab[(uint8_t)s[i]])
        i++;
    return i;
}

static inline int starts(const char *s, size_t n, size_t i, const char *lit, size_t ln)
{
    return i + ln <= n && memcmp(s + i, lit, ln) == 0;
}
#define STARTS(s, n, i, lit) starts((s), (n), (i), (lit), sizeof(lit) - 1)

size_t ss_lex_string_end(const char *s, size_t n, size_t i)
{
    /* the next '"' not escaped by an odd run of backslashes (the same as
     * skipping each escaped character) */
    size_t open = i;
    for (;;) {
        const char *q = i < n ? memchr(s + i, '"', n - i) : NULL;
        if (!q)
            return n;
        size_t j = (size_t)(q - s), k = j;
        while (k > open && s[k - 1] == '\\')
            k--;
        if (((j - k) & 1) == 0)
            return j;
        i = j + 1;
    }
}

/* past the "* /" closing the comment opened at s[i - 2]; n + 1 if unclosed */
static inline size_t comment_end(const char *s, size_t n, size_t i)
{
    while (i + 1 < n) {
        const char *p = memchr(s + i, '*', n - i - 1);
        if (!p)
            return n + 1;
        if (p[1] == '/')
            return (size_t)(p - s) + 2;
        i = (size_t)(p - s) + 1;
    }
    return n + 1;
}

int ss_lex_is_decoration(const char *s, size_t n, size_t i)
{
    if (i + 1 >= n || s[i + 1] == '<')
        return 0;
    if (!(i > 0 && LEX_DIGIT(s[i - 1])) && !(i >= 8 && memcmp(s + i - 8, "AT_FDCWD", 8) == 0))
        return 0;
    return !STARTS(s, n, i, "<unfinished ...>") && !STARTS(s, n, i, "<detached ...>");
}

size_t ss_lex_decoration(const char *s, size_t n, size_t i)
{
    size_t j = i + 1, k = j;
    /* a socket: TYPE:[...] (UNIX-STREAM, TCP, TCPv6, NETLINK, pipe, ...) */
    while (k < n && SOCK_TYPE[(uint8_t)s[k]])
        k++;
    if (k > j && k + 1 < n && s[k] == ':' && s[k + 1] == '[') {
        int bd = 0;
        for (j = k + 1; j < n; j++) {
            char c = s[j];
            if (c == '\\')
                j++;
            else if (c == '"') {
                j = ss_lex_string_end(s, n, j + 1);
            } else if (c == '[')
                bd++;
            else if (c == ']') {
                if (bd > 0)
                    bd--;
            } else if (c == '>' && bd == 0)
                return j + 1;
        }
        return n + 1;
    }
    /* a path, with -yy device details nested */
    int ad = 1;
    for (; j < n; j++) {
        /* path bytes 16 at a time up to the next '\\', '<' or '>' */
        j = skip_to_any3(s, n, j, '\\', '<', '>');
        if (j >= n)
            break;
        char c = s[j];
        if (c == '\\')
            j++;
        else if (c == '<')
            ad++;
        else if (c == '>' && --ad == 0)
            return j + 1;
    }
    return n + 1;
}

int ss_lex_call(const char *s, size_t n, size_t i, size_t *end, int *trunc)
{
    int depth = 0;
    *trunc = 0;
    while (i < n) {
        i = skip_plain(s, i, n, 0);
        if (i >= n)
            break;
        char c = s[i];
        switch (c) {
        case '"':
            i = ss_lex_string_end(s, n, i + 1);
            if (i >= n) {
                *end = n;
                return SS_LEX_EOL;
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
                    return SS_LEX_CLOSE;
                }
            } else
                depth--;
            break;
        case '<':
            /* the second byte first: the markers are rare, fd decorations common */
            if (i + 1 < n && s[i + 1] == 'u' && STARTS(s, n, i, "<unfinished ...>")) {
                *end = i;
                return SS_LEX_UNFINISHED;
            }
            if (i + 1 < n && s[i + 1] == 'd' && STARTS(s, n, i, "<detached ...>")) {
                *end = i;
                return SS_LEX_DETACHED;
            }
            if (ss_lex_is_decoration(s, n, i)) {
                size_t j = ss_lex_decoration(s, n, i);
                if (j > n) {
                    *end = n;
                    return SS_LEX_EOL;
                }
                i = j;
                continue;
            }
            break;
        case '/':
            if (i + 1 < n && s[i + 1] == '*') {
                size_t j = comment_end(s, n, i + 2);
                if (j > n) {
                    *end = n;
                    return SS_LEX_EOL;
                }
                i = j;
                continue;
            }
            break;
        default: /* ',' (or a byte the fast scan stops at that is not special) */
            break;
        }
        i++;
    }
    *end = n;
    return SS_LEX_EOL;
}

unsigned ss_lex_arg_spans(const char *s, size_t len, unsigned maxidx, size_t *starts_, size_t *ends)
{
    size_t i = 0, st = 0;
    unsigned cur = 0;
    int depth = 0;
    while (i < len) {
        i = skip_plain(s, i, len, 1);
        if (i >= len)
            break;
        char c = s[i];
        if (c == '"') {
            i = ss_lex_string_end(s, len, i + 1);
        } else if (c == '/') {
            if (i + 1 < len && s[i + 1] == '*') {
                i = comment_end(s, len, i + 2);
                if (i > len)
                    i = len;
                continue;
            }
        } else if (c == '(' || c == '[' || c == '{') {
            depth++;
        } else if (c == ')' || c == ']' || c == '}') {
            if (depth > 0)
                depth--;
        } else if (c == '<') {
            if (ss_lex_is_decoration(s, len, i)) {
                i = ss_lex_decoration(s, len, i);
                if (i > len)
                    i = len;
                continue;
            }
        } else if (depth == 0) { /* ',' */
            starts_[cur] = st;
            ends[cur] = i;
            if (cur == maxidx)
                return cur + 1;
            cur++;
            st = i + 1;
        }
        i++;
    }
    starts_[cur] = st;
    ends[cur] = len;
    return cur + 1;
}

int ss_lex_arg_span(const char *s, size_t len, unsigned idx, size_t *start, size_t *end)
{
    size_t a[8], b[8];
    if (idx > 7)
        return 0;
    unsigned n = ss_lex_arg_spans(s, len, idx, a, b);
    if (idx >= n)
        return 0;
    *start = a[idx];
    *end = b[idx];
    return 1;
}

size_t ss_lex_balanced_paren(const char *s, size_t n, size_t i)
{
    int depth = 0;
    while (i < n) {
        /* to the next '"', '(' or ')' 16 bytes at a time (errno texts such
         * as "(No such file or directory)" are mostly plain) */
        if (depth > 0) {
            i = skip_to_any3(s, n, i, '"', '(', ')');
            if (i >= n)
                break;
        }
        char c = s[i];
        if (c == '"') {
            i = ss_lex_string_end(s, n, i + 1);
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
