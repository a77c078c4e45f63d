# SPDX-License-Identifier: MIT
"""The one scanner of strace argument text, in C (csrc/lex.c) and Python
(shimsim.lex.strace): fixed answers on real strace 6.1 -yy output, and the
two held to the same answers on generated text."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shimsim.engine import core
from shimsim.lex import strace as lex

MOD = core()
FFI, LIB = MOD.ffi, MOD.lib

# (argument text, the arguments it holds); the first is the line, the
# others are copied from tests/fixtures/strace/gen/sockets_yy_decorations.strace
CASES = [
    ('4<UNIX-STREAM:[5678->1234,"/run/foo.sock"]>, {msg_name=NULL, ...}, MSG_NOSIGNAL|MSG_DONTWAIT',
     ['4<UNIX-STREAM:[5678->1234,"/run/foo.sock"]>', "{msg_name=NULL, ...}", "MSG_NOSIGNAL|MSG_DONTWAIT"]),
    ('4<UNIX-STREAM:[36003->36001,"/tmp/seamx/s>o\\"ck]x-"]>, {msg_name=NULL}, MSG_DONTWAIT|MSG_NOSIGNAL',
     ['4<UNIX-STREAM:[36003->36001,"/tmp/seamx/s>o\\"ck]x-"]>', "{msg_name=NULL}", "MSG_DONTWAIT|MSG_NOSIGNAL"]),
    ('3<UNIX-STREAM:[36009->36006,@"abstract"]>, {msg_name=NULL}, MSG_DONTWAIT',
     ['3<UNIX-STREAM:[36009->36006,@"abstract"]>', "{msg_name=NULL}", "MSG_DONTWAIT"]),
    ("8<TCP:[127.0.0.1:45612->127.0.0.1:52115]>, {msg_iov=[{iov_base=\"x\"}]}, MSG_NOSIGNAL",
     ["8<TCP:[127.0.0.1:45612->127.0.0.1:52115]>", '{msg_iov=[{iov_base="x"}]}', "MSG_NOSIGNAL"]),
    ("5<TCPv6:[[::1]:80->[::1]:5000]>, 0, MSG_NOSIGNAL",
     ["5<TCPv6:[[::1]:80->[::1]:5000]>", "0", "MSG_NOSIGNAL"]),
    ("4<NETLINK:[36011]>, {msg_name=NULL}, MSG_DONTWAIT", ["4<NETLINK:[36011]>", "{msg_name=NULL}", "MSG_DONTWAIT"]),
    ('4</tmp/seamx/d[x->, "x", 1', ["4</tmp/seamx/d[x->", '"x"', "1"]),
    ('3</tmp/seamx/f\\76x\\"y\\74z]>, "x", 1', ['3</tmp/seamx/f\\76x\\"y\\74z]>', '"x"', "1"]),
    ("2</dev/null<char 1:3>>, \"a,b\", 237", ["2</dev/null<char 1:3>>", '"a,b"', "237"]),
    ('AT_FDCWD</tmp/a(b>, "/x", O_RDONLY', ["AT_FDCWD</tmp/a(b>", '"/x"', "O_RDONLY"]),
    ("0x80000 /* O_RDONLY, O_CLOEXEC */, 1<<20, 3", ["0x80000 /* O_RDONLY, O_CLOEXEC */", "1<<20", "3"]),
    ("", []),
]


def c_spans(text: str, maxidx: int = 7) -> list[str]:
    b = text.encode()
    a, e = FFI.new("size_t[8]"), FFI.new("size_t[8]")
    out = []
    for k in range(maxidx + 1):
        if not LIB.ss_lex_arg_span(b, len(b), k, a, e):
            break
        out.append(b[a[0]:e[0]].decode().strip())
    return [] if out == [""] else out


@pytest.mark.parametrize("text,want", CASES, ids=range(len(CASES)))
def test_arguments_of_real_decorations(text: str, want: list[str]) -> None:
    assert lex.split_args(text) == want
    assert c_spans(text) == want


@pytest.mark.parametrize("deco,end", [
    ('<UNIX-STREAM:[5678->1234,"/run/a>b.sock"]>, 1', len('4<UNIX-STREAM:[5678->1234,"/run/a>b.sock"]>')),
    ("</dev/pts/0<char 136:0>>, 1", len("4</dev/pts/0<char 136:0>>")),
    ("</tmp/unclosed", -1),
    ('<UNIX-STREAM:[1->2,"/run/x', -1),
])
def test_decoration_end(deco: str, end: int) -> None:
    text = "4" + deco
    assert lex.decoration_end(text, 1) == end
    b = text.encode()
    got = LIB.ss_lex_decoration(b, len(b), 1)
    assert (got if got <= len(b) else -1) == end


def test_markers_are_not_decorations() -> None:
    assert lex.scan_call("3<unfinished ...>", 0) == (1, lex.UNFINISHED, False)
    assert lex.scan_call("3, 1<<4) = 0", 0) == (7, lex.CLOSE, False)
    line = '4<UNIX-STREAM:[1->2,"/a)b"]>, "x"...) = 1'
    assert lex.scan_call(line, 0) == (line.index(") ="), lex.CLOSE, True)


pieces = st.sampled_from([
    "3", "AT_FDCWD", "<", ">", "->", "[", "]", "(", ")", "{", "}", ",", ", ", '"', '\\"', "\\", "/*", "*/",
    "UNIX-STREAM:[", "TCP:[", "1.2.3.4:5", "/run/a.sock", "<char 1:3>", "...", "|", "O_RDONLY", " ", "x",
])
args_text = st.lists(pieces, max_size=24).map("".join)


@settings(max_examples=400)
@given(args_text)
def test_c_and_python_agree(text: str) -> None:
    py = [text[a:b].strip() for a, b in lex.arg_spans(text)][:8]
    assert c_spans(text) == ([] if py == [""] else py)


@settings(max_examples=200)
@given(st.lists(st.sampled_from(["3", "O_RDONLY", "0x10", '"a,b"', "[1, 2]", "{a=1, b=2}", "f(1, 2)",
                                 "4</a,b>", '5<UNIX-STREAM:[1->2,"/r,>"]>', "6<TCP:[1:2->3:4]>"]), max_size=6))
def test_split_round_trip(parts: list[str]) -> None:
    assert lex.split_args(", ".join(parts)) == parts


@pytest.mark.parametrize("engine", ["c", "python"])
def test_socket_decorations_decode_flags_under_linuxulator(fixtures, engine: str) -> None:
    """The -yy sendmsg lines of issue 11: every flag argument decodes on both engines."""
    from shimsim import replay, shim, trace

    t = trace.open(str(fixtures / "strace/gen/sockets_yy_decorations.strace"), engine=engine)
    cs = shim.load("linuxulator", t.abi)
    rep = replay.replay_events(cs, list(t.events()), engine)
    assert t.stats.unparsed_count == 0
    assert rep.undecoded == 0
    rp = replay.Replayer(cs, engine, keep_events=100)
    if engine == "c":
        for b in t.batches():
            rp.feed_batch(b.events, b.count, b.files, b.abis)
    else:
        rp.feed_events(t.events())
    rows = [r for r in rp.finish().event_rows if r["name"] == "sendmsg"]
    assert len(rows) == 6
    hosts = [r["flags"][0]["host"] for r in rows]
    assert hosts.count("MSG_DONTWAIT|MSG_NOSIGNAL") == 4 and "MSG_NOSIGNAL" in hosts and "MSG_DONTWAIT" in hosts
    assert not any(r.get("flags_undecoded") for r in rows)
