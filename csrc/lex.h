/* SPDX-License-Identifier: MIT */
/* The one scanner of strace argument text, used by the tokeniser
 * (tokenise.c, tok_scan.c) and the replay engine (replay.c).  Its Python twin
 * is src/shimsim/lex/strace.py; tests/lex/ holds the two to the same answers.
 *
 * The rules, in one place:
 *   "..."      a string: to the next '"' not escaped by a backslash; a
 *              string followed by "..." was truncated by strace (-s)
 *   / * ... * / a comment (strace -X verbose prints values as comments)
 *   ( [ {      open a level; ) ] } close one (never below zero)
 *   ,          at level zero: the end of one argument
 *   N<...>     an fd decoration (-y/-yy), after a digit or AT_FDCWD and not
 *              "<<" (a shift) nor "<unfinished ...>" / "<detached ...>":
 *                 a path: '>' ends it ('<' '>' in names are escaped as \74
 *                 \76 by strace), '<' nests (-yy devices: </dev/null<char 1:3>>)
 *                 a socket TYPE:[...]: brackets nest and quoted strings are
 *                 skipped, so '->' and "/run/a>b" inside do not end it
 */
#ifndef SHIMSIM_LEX_H
#define SHIMSIM_LEX_H
#include <stddef.h>
#include <stdint.h>

/* CDEF BEGIN */
int ss_lex_arg_span(const char *s, size_t len, unsigned idx, size_t *start, size_t *end);
size_t ss_lex_decoration(const char *s, size_t n, size_t i);
/* CDEF END */

/* ss_lex_call results */
enum { SS_LEX_CLOSE, SS_LEX_UNFINISHED, SS_LEX_DETACHED, SS_LEX_EOL };

/* 1 when s[i] == '<' starts an fd decoration */
int ss_lex_is_decoration(const char *s, size_t n, size_t i);
/* past the closing '>' of the decoration at s[i] == '<'; n + 1 (> n) if unclosed */
size_t ss_lex_decoration(const char *s, size_t n, size_t i);
/* index of the closing '"' of the string opened at s[i - 1]; n if unclosed */
size_t ss_lex_string_end(const char *s, size_t n, size_t i);
/* argument text of a call from s[i]: where it ends (*end) and how:
 * SS_LEX_CLOSE (s[*end] is the closing ')'), SS_LEX_UNFINISHED / SS_LEX_DETACHED
 * (s[*end] is the '<' of the marker) or SS_LEX_EOL (past the end of the line);
 * *trunc is set when a string was truncated ("..."). */
int ss_lex_call(const char *s, size_t n, size_t i, size_t *end, int *trunc);
/* spans of arguments 0..maxidx in one pass; returns how many were found */
unsigned ss_lex_arg_spans(const char *s, size_t len, unsigned maxidx, size_t *starts, size_t *ends);
/* past the ')' matching s[i] == '(' (strings respected); 0 if none */
size_t ss_lex_balanced_paren(const char *s, size_t n, size_t i);

#endif
