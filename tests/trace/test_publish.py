# SPDX-License-Identifier: MIT
"""Traces as people publish them (shimsim.trace.publish).

Real published excerpts (tests/fixtures/publish/, provenance in
tests/fixtures/SOURCES.csv) are read with the right format and every syscall
line; every other fixture of the suite, wrapped in the decorations people add
(indentation, Markdown fences, reST literal blocks, '>' quoting, a shell
prompt with the tracer's command line, elisions, CRLF, a BOM, a cut-off last
line), parses to the same events as the clean file, in both engines.
"""
from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shimsim import model, trace
from shimsim.errors import InputError
from shimsim.trace import formats, publish

FIX = Path(__file__).parents[1] / "fixtures"
PUB = FIX / "publish"
ENGINES = ["c", "python"]


def read(path: Path) -> str:
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return raw.decode("utf-8", "surrogateescape")


def parse(path: Path | str, engine: str = "python", **kw) -> tuple[list[model.Event], trace.Trace]:
    t = trace.open(str(path), engine=engine, **kw)
    return list(t.events()), t


def both(path: Path | str, **kw) -> tuple[list[model.Event], trace.Trace]:
    """Events of both engines, which must agree; the C engine's are returned."""
    evc, tc = parse(path, "c", **kw)
    evp, tp = parse(path, "python", **kw)
    assert [e.to_json() for e in evc] == [e.to_json() for e in evp]
    assert tc.stats.to_json() == tp.stats.to_json()
    return evc, tc


# -- the published excerpts ---------------------------------------------------------

def test_rst_block_with_prompt_and_nested_strace_command() -> None:
    """The issue's second excerpt: an 'strace -f -e execve' run (started by bazel's
    --run_under) pasted in a reST literal block, four spaces in, under its prompt."""
    p = PUB / "rst_mountat_strace_f_execve_prompt.rst"
    evs, t = both(p)
    assert t.format == "strace"
    assert [(e.line, e.kind, e.name, e.pid) for e in evs] == [
        (7, model.SYSCALL, "execve", 987247), (9, model.SIGNAL, "SIGCHLD", 988512)]
    info = t.stats.publication[str(p)]
    assert info["command"]["tracer"] == "strace" and "-f" in info["command"]["options"]
    assert "common indentation of 4 characters" in info["notes"]
    assert "5: shell prompt" in info["skipped"] and "6: elision marker" in info["skipped"]
    assert "8: elision marker" in info["skipped"] and "1: text outside the code block" in info["skipped"]
    # the program's own output line stays unparsed (lenient) and names its published line
    assert t.stats.unparsed_count == 1 and t.stats.unparsed_first[0][1] == 11


def test_rst_several_blocks_pid_column_unfinished_resumed() -> None:
    p = PUB / "rst_mountat_pid_unfinished_blocks.rst"
    evs, t = both(p)
    assert [(e.line, e.name, e.pid, e.rec) for e in evs] == [
        (11, "umount2", 755587, model.ERROR), (22, "umount2", 756273, model.SUCCESS),
        (40, "execve", 778943, model.SUCCESS)]
    assert evs[0].flags & model.F_MERGED and evs[0].errname == "EBUSY"
    # prose and hyperlink targets around the blocks are skipped, the console output in a block is not a trace
    assert t.stats.skipped["text outside the code block"] == 19
    assert [ln for _p, ln, _r in t.stats.unparsed_first] == [35, 36]


def test_rst_blocks_strict() -> None:
    p = PUB / "rst_mountat_write_blocks_comment.rst"
    evs, t = both(p, strict=True)
    assert [(e.line, e.name) for e in evs] == [(8, "write"), (9, "write"), (13, "execve"), (28, "write"),
                                              (29, "write"), (32, "fchdir")]
    assert evs[-1].errname == "EBADF" and t.stats.unparsed_count == 0


def test_markdown_fence_prompt_cut_off_last_line() -> None:
    p = PUB / "md_strace88_fence_prompt_cut.md"
    evs, t = both(p)
    assert t.format == "strace" and len(evs) == 18
    assert [e.line for e in evs] == list(range(4, 22))
    assert evs[0].name == "execve" and evs[0].errname == "EACCES"
    st_ = t.stats
    assert st_.unparsed_count == 0 and st_.lines == 22
    assert st_.skipped["Markdown fence"] == 1 and st_.skipped["shell prompt"] == 1
    assert st_.skipped[publish.CUT_OFF] == 1 and st_.skipped["text outside the code block"] == 1
    assert st_.publication[str(p)]["command"]["program"] == ["/"]
    # strict: the cut-off call is still an error, naming its published line
    with pytest.raises(InputError) as ei:
        list(trace.open(str(p), strict=True).events())
    assert ei.value.line == 22


def test_quoted_truss_reply_with_prompt() -> None:
    p = PUB / "md_pgloader551_quoted_truss_prompt_cut.md"
    evs, t = both(p)
    assert t.format == "truss-freebsd" and len(evs) == 20 and evs[0].line == 2
    assert [e.errname for e in evs if e.rec == model.ERROR] == ["ENOENT"]
    assert "'>' quoting" in t.stats.publication[str(p)]["notes"]
    assert t.stats.skipped["shell prompt"] == 1 and t.stats.skipped[publish.CUT_OFF] == 1


def test_fenced_truss_pid_column_is_not_indentation() -> None:
    p = PUB / "md_valgrind189_fenced_truss_cut.md"
    evs, t = both(p)
    assert t.format == "truss-freebsd" and {e.pid for e in evs} == {2021} and len(evs) == 8
    assert "notes" not in t.stats.publication[str(p)]   # ' 2021:' is truss' own right-aligned column


def test_lwp_only_illumos_truss_sniffed() -> None:
    """The issue's first excerpt: illumos truss of a threaded process prints
    '/LWP:' before every line.  The Solaris 8 fixture's lines with that prefix
    (truss -f of a multithreaded process) are recognised without --format."""
    src = (FIX / "truss_illumos" / "sol8_sparc_testsleep_full_signals_lwp.log").read_text().splitlines()
    assert formats.decide(formats.scores(["/1:\t" + ln for ln in src[:50]])) == "truss-illumos"
    spaced = [f"/{1 + i % 3}:     {ln}" for i, ln in enumerate(src[:50])]
    assert formats.decide(formats.scores(spaced)) == "truss-illumos"


def test_attached_pid_from_command_line() -> None:
    """'strace -p PID' prints no pid column: the events are that process's."""
    evs, _t = both(FIX / "strace" / "pub" / "gh_siege4_attach_erestartsys.log")
    assert evs and {e.pid for e in evs} == {27807}


# -- sniffing -------------------------------------------------------------------------

def test_tie_prefers_truss_over_strace() -> None:
    assert formats.decide({"strace": 1.0, "truss-freebsd": 1.0, "truss-illumos": 0.0}) == "truss-freebsd"
    assert formats.decide({"strace": 0.95, "truss-illumos": 1.0, "dtruss": 0.0}) == "truss-illumos"
    assert formats.decide({"strace": 1.0, "truss-freebsd": 0.5}) == "strace"
    # no rule decides between two other formats within the margin
    assert formats.decide({"dtruss": 0.9, "kdump": 0.85, "strace": 0.0}) is None
    # the tracer's command line decides
    assert formats.decide({"dtruss": 0.9, "kdump": 0.85}, hint="kdump") == "kdump"
    assert formats.decide({"strace": 1.0, "truss-freebsd": 0.3, "truss-illumos": 0.0}, hint="truss") == "truss-freebsd"


def test_ambiguous_format_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "t.log"
    p.write_text((FIX / "kdump" / "openbsd_ipfs_mount_stru_stat.log").read_text())
    monkeypatch.setattr(formats, "scores", lambda lines: {"dtruss": 0.9, "kdump": 0.88, "strace": 0.0})
    with pytest.raises(InputError, match="ambiguous.*give --format"):
        trace.open(str(p))


def test_fixture_tie_pylibacl_is_truss() -> None:
    """gh_pylibacl12: strace's grammar accepts most of its lines (0.93 vs 0.97)."""
    _evs, t = parse(FIX / "truss_freebsd" / "gh_pylibacl12_stat_struct.log")
    assert t.format == "truss-freebsd"


# -- the cleaner on its own ---------------------------------------------------------

def test_never_drops_a_trace_line() -> None:
    lines = ["Some prose.", "close(3)                                = 0", "# comment", "$ ls",
             "[...]", "    --- SIGCHLD {si_signo=SIGCHLD} ---", "% time     seconds  usecs/call     calls    errors syscall"]
    c = publish.clean(lines)
    kept = dict(zip(c.origin, c.lines))
    assert 2 in kept and 6 in kept and 7 in kept       # a call, a signal, a summary header
    assert dict(c.skipped) == {3: "shell prompt", 4: "shell prompt", 5: "elision marker"}
    # outside a fence, prose is skipped but a call without a result (truss' _exit) is not
    c = publish.clean(["Intro", "```", "_exit(69)", "```", "_exit(69)", "22229:\t_exit(0)", "Bye"])
    assert c.origin == [3, 5, 6] and dict(c.skipped)[7] == "text outside the code block"


def test_fences_and_rst_directives() -> None:
    md = ["Output:", "~~~~ strace", "close(3) = 0", "~~~~", "after"]
    c = publish.clean(md)
    assert c.fence_info == "strace" and c.format_hint == "strace"
    assert dict(c.skipped) == {1: "text outside the code block", 2: "Markdown fence", 4: "Markdown fence",
                               5: "text outside the code block"}
    # CommonMark: a fence closes only with the same character, at least as long; '```' inside '````' is text
    c = publish.clean(["````", "```", "close(3) = 0", "~~~", "````"])
    assert c.origin == [2, 3, 4] and dict(c.skipped) == {1: "Markdown fence", 5: "Markdown fence"}
    rst = ["Trace", "", ".. code-block:: none", "   :linenos:", "", "\tclose(3) = 0", "\topen(\"x\", O_RDONLY) = 4",
           "", "Done."]
    c = publish.clean(rst)
    assert c.lines[c.origin.index(6)] == "close(3) = 0"
    assert dict(c.skipped)[3] == "reStructuredText directive" and dict(c.skipped)[4].endswith("option")
    assert dict(c.skipped)[9] == "text outside the code block"


def test_quoted_stack_frames_keep_their_shape() -> None:
    c = publish.clean(["> write(1, \"x\", 1) = 1", ">  > /usr/lib/libc.so.6(write+0x14) [0x1140a4]"])
    assert c.lines == ['write(1, "x", 1) = 1', " > /usr/lib/libc.so.6(write+0x14) [0x1140a4]"]
    # not quoted: frames that lost their leading space get it back
    c = publish.clean(['write(1, "x", 1) = 1', "> /usr/lib/libc.so.6(write+0x14) [0x1140a4]"])
    assert c.lines[1] == " > /usr/lib/libc.so.6(write+0x14) [0x1140a4]" and c.skipped == []


def test_prompt_styles_and_commands() -> None:
    cases = {
        "user@host:~$ strace -f -o out ./a": ("strace", ["-f", "-o", "out"]),
        "root@freebsd:~ # ktrace /tmp/uul": ("ktrace", []),
        "[root@headnode (lon1) ~]# truss -f svccfg": ("truss", ["-f"]),
        "[Qweeg:~/tmp-local] chrisc% sudo dtruss ls": ("dtruss", []),
        "dfly# kdump": ("kdump", []),
        "LABS\\rdo20@lamprey:~$ strace -f ./shelxd": ("strace", ["-f"]),
        "$ sudo -E env A=1 strace -ff -p 12,13": ("strace", ["-ff", "-p", "12,13"]),
    }
    for line, (tracer, opts) in cases.items():
        c = publish.clean([line, "close(3) = 0"])
        assert c.skipped == [(1, "shell prompt")], line
        assert c.command is not None and c.command.tracer == tracer and c.command.options == opts, line
    c = publish.clean(["$ strace -f \\", ">   -e trace=execve ./a", "execve(\"./a\", [\"./a\"], 0x0 /* 1 var */) = 0"])
    assert [r for _l, r in c.skipped] == ["shell prompt", "shell prompt (continued command line)"]
    assert c.command is not None and "trace=execve" in c.command.options


def test_crlf_bom_notes_and_plain_files_untouched() -> None:
    c = publish.clean(["\ufeffclose(3) = 0\r", "exit_group(0) = ?\r"])
    assert c.lines == ["close(3) = 0", "exit_group(0) = ?"] and c.notes == ["UTF-8 byte order mark", "CRLF line ends"]
    plain = read(FIX / "strace" / "gen" / "ls_r.strace").splitlines()   # -r times are right-aligned
    assert not publish.clean(plain).changed
    kd = (FIX / "kdump" / "openbsd_ipfs_mount_stru_stat.log").read_text().splitlines()
    assert not publish.clean(kd).changed


def test_cut_off_only_when_it_looks_like_a_trace_line(tmp_path: Path) -> None:
    p = tmp_path / "t.strace"
    p.write_text("close(3) = 0\nthis is not a trace line\n")
    _evs, t = parse(p)
    assert t.stats.unparsed_count == 1 and publish.CUT_OFF not in t.stats.skipped


# -- every fixture, decorated --------------------------------------------------------

def _fixtures() -> list[Path]:
    out: list[Path] = []
    for sub in ("strace/gen", "strace/gen/pipeline_ff", "strace/pub", "truss_freebsd", "truss_illumos", "dtruss",
                "kdump", "replay", "report", "runsc", "qemu"):
        for p in sorted((FIX / sub).iterdir()):
            if p.is_file() and (p.suffix in (".strace", ".log", ".gz", ".txt") or p.name.startswith("pipe.")):
                out.append(p)
    return out


ALL = _fixtures()
# a quick default sample: the published excerpts of every format and a few generated traces
QUICK = [p for p in ALL if "/gen/" not in str(p) and "/replay/" not in str(p)] + [
    FIX / "strace" / "gen" / n for n in ("ls_k_stack.strace.gz", "pipeline_f.strace", "ls_r.strace",
                                        "pipeline_f_stderr.strace", "i386_mixed_personality.strace")]

Transform = Callable[[list[str], str], tuple[list[str], int]]   # (lines, format) -> decorated, lines added above
COMMANDS = {"strace": "sudo strace -tt -o /dev/stdout ./prog arg", "truss-freebsd": "truss -f ./prog",
            "truss-illumos": "truss -f ./prog", "dtruss": "sudo dtruss -f ./prog", "kdump": "kdump -f ktrace.out",
            "runsc-strace": "sudo runsc --debug --strace do ./prog", "qemu-strace": "qemu-aarch64 -strace ./prog"}


def _indent(lines: list[str], fmt: str) -> tuple[list[str], int]:
    return ["    " + ln if ln else "" for ln in lines], 0


def _tab_fence(lines: list[str], fmt: str) -> tuple[list[str], int]:
    return ["Here is the output:", "", "```" + fmt] + ["\t" + ln if ln else "" for ln in lines] + ["```", "thanks"], 3


def _tilde_fence(lines: list[str], fmt: str) -> tuple[list[str], int]:
    return ["~~~"] + lines + ["~~~"], 1


def _rst(lines: list[str], fmt: str) -> tuple[list[str], int]:
    return ["The trace shows::", ""] + ["   " + ln if ln else "" for ln in lines] + ["", "End of trace."], 2


def _quote(lines: list[str], fmt: str) -> tuple[list[str], int]:
    return ["> " + ln if ln else ">" for ln in lines], 0


def _prompt(lines: list[str], fmt: str) -> tuple[list[str], int]:
    return ["user@host:~/src$ " + COMMANDS.get(fmt, "strace ./prog"), "[...]"] + lines + ["$ "], 2


def _crlf_bom(lines: list[str], fmt: str) -> tuple[list[str], int]:
    out = [ln + "\r" for ln in lines]
    out[0] = "\ufeff" + out[0]
    return out, 0


TRANSFORMS: dict[str, Transform] = {"indent": _indent, "tab_fence": _tab_fence, "tilde_fence": _tilde_fence,
                                    "rst": _rst, "quote": _quote, "prompt": _prompt, "crlf_bom": _crlf_bom}


def _key(ev: model.Event) -> dict:
    d = ev.to_json()
    d.pop("file")
    d.pop("line")
    for k in [k for k in d.get("extra", {}) if k.endswith("_line")]:   # line numbers, compared apart
        del d["extra"][k]
    return d


def _check(path: Path, lines: list[str], tmp: Path, name: str, engines: list[str]) -> None:
    clean = tmp / ("clean" + ("".join(path.suffixes[:-1]) if path.suffix == ".gz" else path.suffix or ".log"))
    clean.write_text("".join(ln + "\n" for ln in lines), encoding="utf-8", errors="surrogateescape")
    base_t = trace.open(str(clean))
    fmt = base_t.format
    decorated, above = TRANSFORMS[name](lines, fmt)
    d = tmp / f"{name}.txt"
    d.write_text("".join(ln + "\n" for ln in decorated), encoding="utf-8", errors="surrogateescape")
    for eng in (engines if fmt.startswith("strace") else ["python"]):
        want, bt = parse(clean, eng, format=fmt, abi=base_t.abi)
        got, t = parse(d, eng, abi=base_t.abi)
        assert t.format == fmt, (path.name, name)
        assert [_key(e) for e in got] == [_key(e) for e in want], (path.name, name, eng)
        assert [e.line for e in got] == [e.line + above for e in want], (path.name, name, eng)
        assert t.stats.unparsed_count == bt.stats.unparsed_count, (path.name, name, eng)


def _cut(path: Path, lines: list[str], tmp: Path, engines: list[str]) -> None:
    """A syscall line cut in half at the end: skipped as such, the rest unchanged."""
    path = tmp / "head.log"
    path.write_text("".join(ln + "\n" for ln in lines), encoding="utf-8", errors="surrogateescape")
    base = trace.open(str(path))
    if base.format in ("strace-summary", "qemu-strace"):
        return      # (qemu prints a call before its result: a cut call line is an unfinished call to it)
    evs = list(base.events())
    if publish.CUT_OFF in base.stats.skipped or not evs:
        return
    first = next((e for e in evs if e.kind == model.SYSCALL and e.line <= len(lines)
                  and "(" in lines[e.line - 1]), None)
    if first is None:
        return
    src = lines[first.line - 1]
    cut = src[: src.index("(") + 1 + max(0, (len(src) - src.index("(")) // 3)]
    d = tmp / "cut.txt"
    d.write_text("".join(ln + "\n" for ln in lines) + cut, encoding="utf-8", errors="surrogateescape")
    for eng in (engines if base.format.startswith("strace") else ["python"]):
        want, bt = parse(path, eng, format=base.format, abi=base.abi)
        got, t = parse(d, eng, format=base.format, abi=base.abi)
        assert [_key(e) for e in got] == [_key(e) for e in want], (path.name, eng)
        assert t.stats.skipped[publish.CUT_OFF] == 1 and t.stats.unparsed_count == bt.stats.unparsed_count


HEAD_LINES = 400    # big traces are published as excerpts too: their first lines


def _lines(path: Path) -> list[str]:
    text = read(path)
    lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
    return lines[:HEAD_LINES]


@pytest.mark.parametrize("path", QUICK, ids=lambda p: p.name)
def test_decorated_fixture_same_events(path: Path, tmp_path: Path) -> None:
    lines = _lines(path)
    for name in TRANSFORMS:
        _check(path, lines, tmp_path, name, ["python"])
    _cut(path, lines, tmp_path, ["python"])


@pytest.mark.slow
@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_decorated_fixture_same_events_exhaustive(path: Path, tmp_path: Path) -> None:
    """Every fixture, every transformation, both engines."""
    lines = _lines(path)
    for name in TRANSFORMS:
        _check(path, lines, tmp_path, name, ENGINES)
    _cut(path, lines, tmp_path, ENGINES)


# -- property: any combination of decorations ----------------------------------------

SMALL = [p for p in QUICK if p.stat().st_size < 20000 and p.suffix != ".gz"]


# layers in the order people add them: the terminal's prompt, the code block, a reply's quoting, the file
BLOCKS = ["indent", "tab_fence", "tilde_fence", "rst"]


@st.composite
def decorations(draw: st.DrawFn) -> tuple[Path, list[str]]:
    layers = [x for x in (draw(st.sampled_from([None, "prompt"])), draw(st.sampled_from([None, *BLOCKS])),
                          draw(st.sampled_from([None, "quote"])), draw(st.sampled_from([None, "crlf_bom"]))) if x]
    return draw(st.sampled_from(SMALL)), layers


@settings(max_examples=40)
@given(decorations(), st.sampled_from(ENGINES))
def test_property_any_decoration_same_events(tmp_path_factory: pytest.TempPathFactory, case, engine: str) -> None:
    """A trace wrapped in any publication decoration parses to the same events,
    with the line numbers of the published text."""
    path, names = case
    lines = _lines(path)
    base = trace.open(str(path))
    want = list(trace.open(str(path), engine=engine, format=base.format, abi=base.abi).events())
    decorated, above = lines, 0
    for name in names:
        decorated, n = TRANSFORMS[name](decorated, base.format)
        above += n
    d = tmp_path_factory.mktemp("deco") / "t.txt"
    d.write_text("".join(ln + "\n" for ln in decorated), encoding="utf-8", errors="surrogateescape")
    t = trace.open(str(d), engine=engine, abi=base.abi)
    got = list(t.events())
    assert t.format == base.format
    assert [_key(e) for e in got] == [_key(e) for e in want]
    assert [e.line for e in got] == [e.line + above for e in want]


# -- gVisor's own log (runsc --strace, Unsupported syscall) -------------------------

def test_runsc_strace_pasted_in_an_issue() -> None:
    p = PUB / "md_gvisor10740_runsc_strace_errno_cut.md"
    evs, t = parse(p)
    assert t.format == "runsc-strace" and t.abi == "linux-x86_64"
    assert [(e.line, e.name, e.pid, e.rec) for e in evs] == [
        (3, "openat", 2, model.SUCCESS), (5, "fstat", 2, model.SUCCESS), (7, "ioctl", 2, model.ERROR),
        (8, "lseek", 2, model.UNFINISHED)]
    openat, _fstat, ioctl, _lseek = evs
    assert openat.ret == 10 and openat.nr == 257 and openat.dur == pytest.approx(0.112636318)
    assert ioctl.err == 25 and ioctl.errname == "ENOTTY" and ioctl.extra["errtext"] == "not a typewriter"
    # lseek's exit line was cut off by the excerpt: skipped as such, the call stays unfinished
    assert t.stats.skipped[publish.CUT_OFF] == 1 and t.stats.unparsed_count == 0


def test_runsc_numbered_syscall() -> None:
    evs, _t = parse(PUB / "md_gvisor10402_runsc_strace_sys439_cut.md")
    assert [(e.name, e.nr, e.errname) for e in evs] == [("close", 3, None), ("sys_439", 439, None),
                                                       ("sys_439", 439, "ENOENT"), ("sys_439", 439, "ENOENT")]


def test_runsc_unsupported_syscall_messages() -> None:
    evs, t = parse(PUB / "md_gvisor158_quoted_unsupported_syscall.md")
    assert t.format == "runsc-strace" and len(evs) == 1
    ev = evs[0]
    assert ev.name == "process_vm_readv" and ev.nr == 310 and ev.extra["unsupported"] and ev.rec == model.UNKNOWN
    assert ev.args.startswith("0xf,0x3ede59f9c830") and t.stats.skipped["text outside the code block"] == 1
    evs, t = parse(PUB / "md_gvisor7575_unsupported_unknown439.md")      # an inline code span
    assert [(e.name, e.nr, e.line) for e in evs] == [("sys_439", 439, 3)]
    assert evs[0].extra["printed_name"] == "UNKNOWN[439/0x1b7]"


def test_cli_text_report_names_the_publication(capsys: pytest.CaptureFixture[str]) -> None:
    from shimsim import cli

    p = PUB / "rst_mountat_strace_f_execve_prompt.rst"
    assert cli.main(["parse", str(p)]) == 0
    out = capsys.readouterr().out
    assert "format     strace" in out and f"published  {p}: command 'bazel run -c dbg --run_under" in out
    assert "shell prompt 1" in out and "elision marker 2" in out


def test_command_options_read_like_the_tracer() -> None:
    follow = {"strace -ftt ls": True, "strace -tf ls": True, "strace -ofoo ls": False, "strace -p 12": False,
              "strace --output-separately -o t ls": True, "truss -f ./a": True, "dtruss -p 4": False}
    for cmd, want in follow.items():
        c = publish.parse_command(cmd)
        assert c is not None and c.follow is want, cmd
    assert publish.parse_command("strace -p 12").attached_pid() == 12
    assert publish.parse_command("strace -p 12,13").attached_pid() is None      # two processes
    assert publish.parse_command("strace --attach=77 -T").attached_pid() == 77
    assert publish.parse_command("cat trace.txt") is None
    assert publish.parse_command("sh -c 'strace -f -o /tmp/t make'").program == ["make"]
    q = publish.parse_command("qemu-aarch64 -L /usr/aarch64-linux-gnu -strace ./prog a")
    assert q is not None and q.format == "qemu-strace" and q.program == ["./prog", "a"]
    assert publish.parse_command("qemu-aarch64 ./prog") is None          # not tracing


def test_plain_traces_skip_the_cleaner() -> None:
    """A trace file as the tracer wrote it is read straight from disk: the
    cheap pre-check on its head already rules out any decoration."""
    from shimsim.trace import io

    for name in ("ls_plain.strace", "tar_czf_f_tt_T.strace.gz", "pipeline_f.strace", "python_threads_f_tt.strace.gz"):
        assert not publish.maybe_decorated(io.head_lines(str(FIX / "strace" / "gen" / name))), name
    for p in ALL:      # every generated trace is read from disk (the published excerpts are cleaned)
        if p.parent.name in ("gen", "replay"):
            assert trace.open(str(p)).cleaned == {}, p.name
