# SPDX-License-Identifier: MIT
"""Traces as people publish them: pasted into an issue, a mail or a blog.

A published trace is rarely the file the tracer wrote.  It sits inside a
Markdown fence (```` ``` ````, ```` ```strace ````, ``~~~``) or a
reStructuredText literal block, is indented by the code block or quoted with
``>``, has the shell prompt and the tracer's command line above it, ``[...]``
where the author cut the middle, a last line cut in half, CRLF line ends or a
UTF-8 byte order mark.  :func:`clean` undoes that decoration line by line:

* every line it drops is reported with its reason (``shell prompt``,
  ``Markdown fence``, ``elision marker``, ...), never as a parse error;
* a line that looks like a trace line (a call with a result, a strace
  ``---``/``+++`` record, a kdump record, a truss signal) is never dropped,
  whatever surrounds it;
* the lines it keeps carry their original line numbers (``origin``), so
  events and messages still name the line of the published text;
* the tracer's command line (``$ strace -f -e trace=execve ./x``, a bare
  ``sudo dtruss -a prog`` first line) tells the format and the options.

The cleaner only changes text that is decoration: a file the tracer wrote
comes out unchanged (``Cleaned.changed`` is False) and is then parsed
straight from disk, so clean traces pay nothing for it.
"""
from __future__ import annotations

import os
import re

from shimsim._lazyre import lazy_re
from shimsim._record import Record

BOM = "\ufeff"

# A Markdown fence: ``` or ~~~ (three or more), an optional info string ("strace", "console").
_FENCE = lazy_re(r"^(?P<fence>`{3,}|~{3,})\s*(?P<info>[\w+#.-]*)[^`]*$")
# reStructuredText: a directive introducing a literal block, its options, a "::" paragraph end
_RST_DIRECTIVE = lazy_re(r"^\.\.\s+(?:code-block|code|sourcecode|highlight|parsed-literal)::.*$")
_RST_OPTION = lazy_re(r"^:[\w-]+:.*$")
# a whole line that is one Markdown code span: `text`
_INLINE_CODE = lazy_re(r"^`(?P<code>[^`]+)`$")
# Markdown/mail quoting: '>' at column 0, possibly repeated ('> > ', '>>')
_QUOTE = lazy_re(r"^(?:>[ \t]?)+")
# a strace -k stack frame whose leading space was lost (it starts with '> ')
_FRAME = lazy_re(r"^ ?> (?:\S.*\(.*\) \[0x[0-9a-f]+\]|unexpected_backtracing_error.*|\S+\(\) \[0x[0-9a-f]+\])\s*$")
# elision markers people put where they cut a trace
_ELISION = lazy_re(
    r"^(?:\.{3,}|\u2026|\[\s*(?:\.{2,}|\u2026)\s*\]|\(\s*(?:\.{3,}|\u2026)\s*\)|<\s*(?:\.{3,}|\u2026)\s*>"
    r"|[<\[(]\s*(?:snip|snipped|cut|trimmed|truncated|elided|more)\s*[>\])]|-{2,}\s*(?:snip|cut)\s*-{2,}"
    r"|\[?\s*(?:\.\.\.|\u2026)\s*(?:\(?\s*)?\d+\s+(?:more\s+)?lines?(?:\s+\w+)*\s*\)?\s*(?:\.\.\.|\u2026)?\s*\]?"
    r"|\[\s*\d+\s+(?:more\s+)?lines?(?:\s+\w+)*\s*\])$",
    re.IGNORECASE)
# shell prompts: '$ ', '# ', '% ', 'host# ', 'bash-5.1$ ', 'user@host:~$ ', 'root@host:/path # ',
# '[root@host ~]# ', '[host:~/dir] user% ', 'DOMAIN\\user@host:~$'
_PROMPT = lazy_re(
    r"^(?:"
    r"[$#%]"
    r"|[\w.-]+[$#%]"
    r"|[\w.\\-]+@[\w.-]+(?::\S*)?\s?[$#%]"
    r"|[\w.\\-]+@[\w.-]+\s+\S+\s?[$#%]"
    r"|\[[^\]\n]{1,80}\]\s?[\w.-]*[$#%]"
    r")(?:\s+(?P<cmd>.*))?$")
# shell continuation of a prompt's command line ('> ' secondary prompt)
_PS2 = lazy_re(r"^>\s+(?P<cmd>.*)$")
# what a trace line looks like in any supported format (guards every drop)
# what a trace line looks like in any supported format (guards every drop); split so that no
# pattern backtracks over a long line: a call's name, then a result after a ')'
_NAME_PAREN = lazy_re(r"[A-Za-z_]\w*\(")
_RESULT = lazy_re(r"\)\s*(?:=|Err#|ERR#|argc = |\(sleeping\.\.\.\))")
_MARKERS = ("<unfinished ...>", " resumed>", "<detached ...>", "Received signal #", "Incurred fault #",
            "Unsupported syscall ")
_TRACE_START_LINE = lazy_re(
    r"(?:\[pid +\d+\] +|\d+ +)?(?:[\d:.]+ +)?(?:---|\+\+\+) "
    r"|\s*\d+(?:[/:]\d+)?\s+(?:\d+\s+)?\S+\s+(?:CALL|RET|NAMI|GIO|PSIG|STRU|SCTL|EMUL|ARGS|ENV|CSW|USER|SIG)\b"
    r"|(?:\d+(?:/\d+)?:\s+|/\d+:\s+)?_?exit\(\w*\)\s*$|(?:\d+: +)?SIGNAL \d+|(?:\d+: +)?process exit, rval ="
    r"|\s*\[ Process PID=\d+ runs in "
    r"|(?:[IWEDF]\d{4} [\d:.]+\s+\d+\s+\S+:\d+\]\s+)?\[\s*\d+(?::\s*\d+)?\]\s+\S+(?: \S+)*? [EX] [\w\[\]/]+\("
    r"|%\s+time\s+seconds|\s*syscall\s+seconds\s+calls|\s*(?:calls|errors|syscall)(?:\s+(?:calls|errors|syscall"
    r"|time|seconds|usecs/call|shortest|longest|%))+\s*$")
# lines whose leading spaces are the tracer's own right-aligned column (strace -r, kdump's pid)
_NATURAL_INDENT = lazy_re(r"^\d+\.\d+\s|^\d+(?:/(?:\d+|0x[0-9a-fA-F]+))?:\s|^\d+(?:[/:]\d+)?\s+(?:\d+\s+)?\S+\s+[A-Z]{3,4}\b")
# the start of a trace line (a cut-off last line must look like one)
_TRACE_START = lazy_re(
    r"^(?:\[pid +\d+\] +|\d+(?:/\d+|/0x[0-9a-f]+)?:?\s+|/\d+:\s+)?(?:[\d:.]+\s+)*(?:\[[0-9a-f? ]+\]\s+)*"
    r"(?:[A-Za-z_][\w]*\(|<\.\.\. |--- |\+\+\+ |\S+\s+(?:CALL|RET|NAMI|GIO|PSIG)\b)"
    r"|^[IWEDF]\d{4} \d")                                   # a runsc (glog) record

# tracer program -> the format it writes ("truss" is decided between FreeBSD and illumos by content)
TRACERS = {"strace": "strace", "truss": "truss", "dtruss": "dtruss", "ktrace": "kdump", "kdump": "kdump",
           "ltrace": "ltrace", "perf": "perf", "sysdig": "sysdig", "bpftrace": "bpftrace", "runsc": "runsc",
           "tusc": "tusc"}
# qemu-user's options that take a value (single dash, several letters)
_QEMU_VALUED = {"-L", "-E", "-U", "-0", "-B", "-R", "-g", "-s", "-cpu", "-d", "-D", "-p", "-r", "-dfilter",
                "-seed", "-trace", "-plugin"}
_WRAPPERS = {"sudo", "doas", "pfexec", "time", "env", "nice", "exec", "command", "nohup", "stdbuf", "ionice"}
# options of the tracers that take a value (so the traced program can be found after them)
_VALUED = {
    "strace": set("abeEIoOpPsSuUX"),
    "truss": set("eoprstTuUvwx"),
    "dtruss": set("bnpt"),
    "ktrace": set("fgpt"),
    "kdump": set("fmpt"),
    "ltrace": set("aeEfFlnopSsuxX"),
}
# strace long options that take a value when written without '='
_STRACE_LONG_VALUED = {"--output", "--attach", "--trace", "--signal", "--status", "--string-limit", "--user",
                       "--summary-sort-by", "--summary-columns", "--const-print-style", "--decode-fds",
                       "--absolute-timestamps", "--relative-timestamps", "--syscall-times", "--env",
                       "--inject", "--fault", "--abbrev", "--verbose", "--raw", "--read", "--write",
                       "--quiet", "--tips", "--kvm", "--seccomp-bpf", "--trace-path", "--successful-only"}


class Command(Record):
    """A tracer's command line found above a published trace."""
    _FIELDS = ("text", "tracer", "format", "options", "program")
    text: str                  # as published, without the prompt
    tracer: str                # strace, truss, dtruss, ktrace, kdump, ...
    format: str | None         # the format it writes ("truss": FreeBSD or illumos)
    options: list[str]         # the tracer's own options, as given
    program: list[str]         # the traced command

    def __init__(self, text: str, tracer: str, format: str | None,  # noqa: A002
                 options: list[str] | None = None, program: list[str] | None = None) -> None:
        self.text, self.tracer, self.format = text, tracer, format
        self.options = [] if options is None else options
        self.program = [] if program is None else program

    @property
    def follow(self) -> bool:
        """-f/-ff (strace, truss, dtruss; also inside a cluster such as -ftt): children are traced too."""
        valued = _VALUED.get(self.tracer, set())
        for o in self.options:
            if o in ("--follow-forks", "--output-separately"):
                return True
            if o.startswith("-") and not o.startswith("--"):
                for ch in o[1:]:
                    if ch == "f":
                        return True
                    if ch in valued:
                        break
        return False

    def attached_pid(self) -> int | None:
        """The one pid given with -p (strace/truss/dtruss attached to a running process)."""
        pids: list[int] = []
        it = iter(range(len(self.options)))
        for i in it:
            o = self.options[i]
            val = None
            if o in ("-p", "--attach") and i + 1 < len(self.options):
                val = self.options[i + 1]
            elif o.startswith("-p") and len(o) > 2 and not o.startswith("--"):
                val = o[2:]
            elif o.startswith("--attach="):
                val = o.split("=", 1)[1]
            if val is not None:
                pids.extend(int(x) for x in re.split(r"[,\s]+", val) if x.isdigit())
        return pids[0] if len(pids) == 1 else None

    def to_json(self) -> dict:
        return {"text": self.text, "tracer": self.tracer, "format": self.format, "options": self.options,
                "program": self.program}


def parse_command(cmd: str) -> Command | None:
    """The tracer command in a shell command line, or None if it runs no tracer."""
    import shlex   # here: a plain trace file has no command line to split

    try:
        words = shlex.split(cmd, comments=False)
    except ValueError:
        words = cmd.split()
    i = 0
    while i < len(words):
        w = words[i]
        base = os.path.basename(w)
        if base in _WRAPPERS or re.match(r"^[A-Za-z_]\w*=", w) or (i > 0 and w.startswith("-")
                                                                       and os.path.basename(words[i - 1]) in _WRAPPERS):
            i += 1
            continue
        if base.startswith("qemu-") and "-strace" in words[i + 1:]:
            # qemu-user's -strace: qemu-aarch64 [opts] -strace PROG
            opts, prog = _split_options("qemu", words[i + 1:])
            return Command(cmd.strip(), base, "qemu-strace", opts, prog)
        if base in TRACERS:
            tracer = base
            rest = words[i + 1:]
            if tracer == "perf":
                if not rest or rest[0] != "trace":
                    return None
                rest = rest[1:]
            opts, prog = _split_options(tracer, rest)
            return Command(cmd.strip(), tracer, TRACERS[tracer], opts, prog)
        break
    # a tracer run by another program: bazel's --run_under "sudo strace -f", sh -c 'strace ...'
    for w in words[i + 1:]:
        inner = w.split("=", 1)[1] if w.startswith("-") and "=" in w else w
        if " " in inner.strip():
            c = parse_command(inner)
            if c is not None:
                c.text = cmd.strip()
                return c
    return None


def _split_options(tracer: str, words: list[str]) -> tuple[list[str], list[str]]:
    valued = _VALUED.get(tracer, set())
    opts: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w == "--":
            return opts, words[i + 1:]
        if not w.startswith("-") or w == "-":
            break
        opts.append(w)
        if tracer == "qemu":
            if w in _QEMU_VALUED and i + 1 < len(words):
                opts.append(words[i + 1])
                i += 1
        elif w.startswith("--"):
            if "=" not in w and w in _STRACE_LONG_VALUED and tracer == "strace" and i + 1 < len(words):
                opts.append(words[i + 1])
                i += 1
        elif w[-1] in valued and len(w) == 2 and i + 1 < len(words):
            opts.append(words[i + 1])
            i += 1
        i += 1
    return opts, words[i:]


def looks_like_trace(text: str) -> bool:
    """True if a line looks like a trace line of some supported format."""
    if _TRACE_START_LINE.match(text) is not None or any(m in text for m in _MARKERS):
        return True
    return "(" in text and _NAME_PAREN.search(text) is not None and _RESULT.search(text) is not None


def looks_cut(text: str) -> bool:
    """True if an unparsed last line looks like the start of a trace line cut off."""
    return _TRACE_START.match(text.strip()) is not None


class Cleaned(Record):
    """The trace lines of a published text and where each came from."""
    _FIELDS = ("lines", "origin", "skipped", "total", "notes", "command", "fence_info", "changed")
    lines: list[str]                  # kept lines, decoration removed
    origin: list[int]                 # original 1-based line number of each kept line
    skipped: list[tuple[int, str]]    # (line, reason) of every dropped line
    total: int                        # lines of the input
    notes: list[str]                  # decoration that is not a line: BOM, CRLF, indentation
    command: Command | None           # the tracer's command line, if published
    fence_info: str | None            # info string of the Markdown fence ("strace")
    changed: bool                     # False: the input was a plain trace

    def __init__(self, lines: list[str], origin: list[int], skipped: list[tuple[int, str]] | None = None,
                 total: int = 0, notes: list[str] | None = None, command: Command | None = None,
                 fence_info: str | None = None, changed: bool = False) -> None:
        self.lines, self.origin = lines, origin
        self.skipped = [] if skipped is None else skipped
        self.total = total
        self.notes = [] if notes is None else notes
        self.command, self.fence_info, self.changed = command, fence_info, changed

    @property
    def format_hint(self) -> str | None:
        """The format named by the command line (or the fence's info string)."""
        if self.command is not None and self.command.format:
            return self.command.format
        if self.fence_info:
            return _INFO_FORMATS.get(self.fence_info.lower())
        return None

    def line_of(self, kept_line: int) -> int:
        """Original line number of the kept line numbered kept_line (1-based)."""
        if 1 <= kept_line <= len(self.origin):
            return self.origin[kept_line - 1]
        if kept_line > len(self.origin) and self.origin:    # "after the last line" (end-of-trace events)
            return self.origin[-1] + kept_line - len(self.origin)
        return kept_line

    def text(self) -> str:
        return "".join(ln + "\n" for ln in self.lines)


_INFO_FORMATS = {"strace": "strace", "truss": "truss", "dtruss": "dtruss", "kdump": "kdump", "ktrace": "kdump"}


def _lead(s: str) -> str:
    return s[: len(s) - len(s.lstrip())]


def _common_prefix(a: str, b: str) -> str:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return a[:n]


def clean(raw: list[str]) -> Cleaned:
    """Separate a published trace from its decoration (see the module docstring).

    ``raw`` are the lines of the text without their newlines."""
    out = Cleaned(lines=[], origin=[], total=len(raw))
    notes: list[str] = []
    lines = list(raw)
    if lines and lines[0].startswith(BOM):
        lines[0] = lines[0][1:]
        notes.append("UTF-8 byte order mark")
    crlf = 0
    for i, ln in enumerate(lines):
        if ln.endswith("\r"):
            lines[i] = ln.rstrip("\r")
            crlf += 1
    if crlf:
        notes.append("CRLF line ends")

    # pass 1: quoting, fences, reST blocks -> per line: (text, block id or None for outside, reason)
    quoted = 0
    texts: list[str] = []
    block: list[int | None] = []      # code block id; 0 = the whole text when it has no code block
    reason: list[str | None] = []
    fence: tuple[str, int] | None = None
    # (a fence or a code span starts with ` or ~: lines without either are not matched at all)
    fenced = any(("`" in ln or "~" in ln)
                 and (_FENCE.match(_QUOTE.sub("", ln).strip()) or _INLINE_CODE.match(_QUOTE.sub("", ln).strip()))
                 for ln in lines)
    rst = False
    bid = 0
    rst_intro = -1            # line of a '::' paragraph end or directive, waiting for its indented block
    rst_blocks: set[int] = set()
    rst_indent: str | None = None
    # '>' at column 0 quotes a reply, unless every such line is a strace -k frame that lost its
    # leading space (then it keeps its ' > ' shape)
    quoting = any(ln.startswith(">") and not _FRAME.match(ln) for ln in lines)
    for i, ln in enumerate(lines):
        s = ln
        if s.startswith(">") and quoting:
            m = _QUOTE.match(s)
            s = s[m.end():] if m else s
            quoted += 1
        elif s.startswith(">"):
            s = " " + s
        t = s.strip()
        if fence is None and t.startswith("`") and (ic := _INLINE_CODE.match(t)) is not None:
            s = t = ic.group("code").strip()     # a log line quoted as inline code
            texts.append(s)
            bid += 1
            block.append(bid)
            reason.append(None)
            notes.append(f"line {i + 1} is inline code")
            continue
        texts.append(s)
        fm = _FENCE.match(t) if t[:1] in ("`", "~") else None
        if fm and (fence is None or (fm.group("fence")[0] == fence[0] and len(fm.group("fence")) >= fence[1]
                                      and not fm.group("info"))):
            if fence is None:
                fence = (fm.group("fence")[0], len(fm.group("fence")))
                bid += 1
                if fm.group("info") and out.fence_info is None:
                    out.fence_info = fm.group("info")
            else:
                fence = None
            block.append(None)
            reason.append("Markdown fence")
            continue
        if fence is not None:
            block.append(bid)
            reason.append(None)
            continue
        # outside any fence
        if rst_indent is not None:
            # a literal block: every line indented more than the paragraph that introduced it
            if not t or len(_lead(s)) > len(rst_indent):
                block.append(bid)
                reason.append(None)
                continue
            rst_indent = None
        if rst_intro >= 0 and t:
            lead = _lead(s)
            if _RST_OPTION.match(t) and lead and texts[rst_intro].startswith(".."):
                block.append(None)
                reason.append("reStructuredText directive option")
                continue
            intro_lead = _lead(texts[rst_intro])
            if len(lead) > len(intro_lead):
                rst_indent = intro_lead
                bid += 1
                rst_blocks.add(bid)
                rst = True
                rst_intro = -1
                block.append(bid)
                reason.append(None)
                continue
            rst_intro = -1
        if t.startswith("..") and _RST_DIRECTIVE.match(t) and not looks_like_trace(t):
            rst_intro = i
            block.append(None)
            reason.append("reStructuredText directive")
            continue
        if t.endswith("::") and not looks_like_trace(t) and not t.startswith("::") or t == "::":
            rst_intro = i
            block.append(None)
            reason.append("reStructuredText literal-block marker" if t == "::" else "text outside the code block")
            continue
        block.append(None if fenced else 0)
        reason.append(None)
    has_blocks = fenced or rst
    if rst and not fenced:
        # text that is neither in a literal block nor blank is prose around the blocks
        for i in range(len(lines)):
            if block[i] == 0:
                block[i] = None
    if quoted:
        notes.append("'>' quoting")
        if not has_blocks and any(ln.strip() and not ln.startswith(">") for ln in lines):
            # in a reply, the quoted lines are the trace and the unquoted ones the reply's prose
            for i, ln in enumerate(lines):
                if block[i] == 0 and not ln.startswith(">") and ln.strip():
                    block[i] = None
            has_blocks = True

    # pass 2: prompts, command lines, elisions; prose outside code blocks
    tracey = [False] * len(texts)       # the line looks like a trace line
    continued = False
    first_body = True
    for i, s in enumerate(texts):
        if reason[i] is not None:
            continue
        t = s.strip()
        if not t:
            continue
        if looks_like_trace(t):
            tracey[i] = True
            if block[i] is None:
                block[i] = -1          # a trace line outside any code block still counts
            first_body = False
            continued = False
            continue
        if continued:
            reason[i] = "shell prompt (continued command line)"
            if out.command is not None:
                more = _PS2.match(t)
                out.command = parse_command(out.command.text.rstrip("\\ ") + " " + (more.group("cmd") if more else t)) \
                    or out.command
            continued = t.endswith("\\")
            continue
        pm = _PROMPT.match(t)
        if pm is not None:
            cmd = (pm.group("cmd") or "").strip()
            reason[i] = "shell prompt"
            c = parse_command(cmd) if cmd else None
            if c is not None and (out.command is None or first_body):
                out.command = c         # the last tracer run before the trace is the one that wrote it
            continued = cmd.endswith("\\")
            continue
        if first_body and block[i] is not None:
            c = parse_command(t)
            if c is not None and (c.options or c.program):
                reason[i] = "tracer command line"
                out.command = c
                continued = t.endswith("\\")
                continue
        if _ELISION.match(t):
            reason[i] = "elision marker"
            continue
        if block[i] is None and has_blocks:
            reason[i] = "text outside the code block"
            continue
        first_body = False

    # pass 3: common indentation per code block, over its trace-like lines.  Columns the
    # tracer itself right-aligns (strace -r times, kdump pids) are not decoration.
    prefix: dict[int, str | None] = {}
    fallback: dict[int, str | None] = {}
    natural: dict[int, bool] = {}
    for i, s in enumerate(texts):
        b = block[i]
        if reason[i] is not None or b is None or not s.strip():
            continue
        lead = _lead(s)
        trace_like = tracey[i]
        table = prefix if trace_like else fallback
        table[b] = lead if table.get(b) is None else _common_prefix(table[b], lead)  # type: ignore[arg-type]
        if b in rst_blocks:
            # docutils removes a literal block's common indentation, whatever the lines are
            prefix[b] = lead if prefix.get(b) is None else _common_prefix(prefix[b], lead)  # type: ignore[arg-type]
            natural[b] = False
        elif trace_like:
            natural[b] = (natural.get(b, True) and s.lstrip()[:1].isdigit()     # each alternative starts with \d
                          and _NATURAL_INDENT.match(s.lstrip()) is not None)
    indented: set[int] = set()
    for i, s in enumerate(texts):
        if reason[i] is not None:
            out.skipped.append((i + 1, reason[i]))  # type: ignore[arg-type]
            continue
        b = block[i]
        p = None
        if b is not None and natural.get(b, False) and (prefix.get(b) or "").strip(" "):
            natural[b] = False      # tabs or other blanks before a right-aligned column are decoration
        if b is not None and not natural.get(b, False):
            p = prefix.get(b) if b in prefix else fallback.get(b)
        if p:
            if s.startswith(p):
                s = s[len(p):]
            elif not s.strip():
                s = ""
            else:
                s = s[len(_common_prefix(_lead(s), p)):]
            indented.add(len(p))
        out.lines.append(s)
        out.origin.append(i + 1)
    for n in sorted(indented):
        notes.append(f"common indentation of {n} character{'s' if n != 1 else ''}")
    out.notes = notes
    out.changed = bool(notes or out.skipped or out.lines != list(raw))
    # trailing blank lines carry nothing; keep them (parsers count them as blank)
    return out


CUT_OFF = "cut-off last line"
FIRST_SKIPPED = 20   # decoration lines listed by line number in the parse report
MAX_CLEANED = 64 << 20   # a published text is read whole to be cleaned; bigger files are not publications


def read_lines(path: str, on_long_line=None) -> list[str]:  # noqa: ANN001
    """Every line of a file as text, keeping a CR before the newline (CRLF is
    reported by clean())."""
    from shimsim.trace import io

    out: list[str] = []
    for block, _ in io.blocks(path, on_long_line):
        parts = io.decode(block).split("\n")
        if parts and parts[-1] == "":
            parts.pop()
        out.extend(parts)
    return out


# a line that may be decoration (cheap test first: most trace files have none of these)
_CANDIDATE = lazy_re(r"[\s`~>$#%.<(\-:\ufeff\u3000]|\[(?!pid\s|[0-9a-f? ]+\])|\S*\s?[$#%](?:\s|$)")


def maybe_decorated(head: list[str]) -> bool:
    """False when no line of the head can be decoration (then clean() would change nothing)."""
    for ln in head:
        if _CANDIDATE.match(ln) or ln.endswith("\r") or ln.rstrip().endswith("::"):
            return True
    first = next((ln for ln in head if ln.strip()), "")
    return _may_name_tracer(first) and not looks_like_trace(first) and parse_command(first.strip()) is not None


_UNQUOTE = str.maketrans("", "", "'\"\\")


def _may_name_tracer(text: str) -> bool:
    """False when parse_command(text) is None for certain, decided without shlex or patterns
    (start-up: the first line of a plain trace): a command it finds has a word naming a tracer
    (or qemu-), and shlex only drops quotes and backslashes from the words it splits."""
    t = text.translate(_UNQUOTE)
    return "qemu-" in t or any(name in t for name in TRACERS)


def inspect(path: str, head: list[str], on_long_line=None) -> Cleaned | None:  # noqa: ANN001
    """The cleaned text of a published trace, or None for a plain trace file
    (decided on its first lines, so that big traces are read straight from disk)."""
    if not maybe_decorated(head) or not clean(head).changed:
        return None
    if path != "-" and os.path.getsize(path) > MAX_CLEANED:
        return None      # not a pasted excerpt: read straight from disk, decoration lines are unparsed
    from shimsim.errors import InputError

    try:
        c = clean(read_lines(path, on_long_line))
    except InputError:
        return None      # a line too long for a published text: the plain parse reports it
    return c if c.changed else None


class Tail:
    """Passes lines through and remembers the last non-blank one (for the
    cut-off last line check)."""

    def __init__(self, lines) -> None:  # noqa: ANN001
        self.it = iter(lines)
        self.n = 0
        self.last: tuple[int, str] | None = None

    def __iter__(self):  # noqa: ANN204
        for line in self.it:
            self.n += 1
            if line.strip():
                self.last = (self.n, line)
            yield line


def last_line_of_block(block: bytes, lines_in_file: int) -> tuple[int, str] | None:
    """(line number, text) of the last non-blank line of a file whose last
    block is ``block`` and which has ``lines_in_file`` lines."""
    from shimsim.trace import io

    body = block.rstrip(b"\r\n\t ")
    if not body:
        return None
    after = block[len(body):].count(b"\n")
    if not block.endswith(b"\n"):
        after += 1        # the count of lines includes an unterminated last one
    start = body.rfind(b"\n") + 1
    return lines_in_file - after + 1, io.decode(body[start:]).rstrip("\r")


def check_cut_off(stats, path: str, last: tuple[int, str] | None, strict: bool) -> None:  # noqa: ANN001
    """A trace's last line that did not parse and looks like the start of a
    trace line was cut off (excerpts are cut at a size limit; a tracer killed
    mid-write leaves one too): lenient parsing skips it for that reason."""
    if strict or last is None or stats.last_unparsed is None:
        return
    p, line, _reason = stats.last_unparsed
    if p == path and line == last[0] and looks_cut(last[1]):
        stats.reclassify_last(CUT_OFF)
