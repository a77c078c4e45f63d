# SPDX-License-Identifier: MIT
"""The per-call flag rule ``reject = { FLAG = "ERRNO" }``: a call carrying a flag the layer's handler
rejects fails with that errno under the layer (issue 12, item 7), on both engines alike.

The shipped rows: gVisor's Statx at release-20221219 fails with EINVAL for every flag outside
AT_EMPTY_PATH|AT_SYMLINK_NOFOLLOW|AT_STATX_SYNC_TYPE, AT_NO_AUTOMOUNT included
(google/gvisor@2342c658:pkg/sentry/syscalls/linux/sys_stat.go:156-157); the newer pinned tree
clears AT_NO_AUTOMOUNT as a no-op first (google/gvisor@3c5eee17: sys_stat.go:159-164)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shimsim import model, replay, shim, tables, trace
from shimsim.codes import EMULATED, FAILED
from shimsim.errors import InputError

FIX = Path(__file__).parents[1] / "fixtures"
# coreutils ls -la: every statx carries AT_NO_AUTOMOUNT; the trace names /usr/bin/ls (glibc) as the caller
LS = FIX / "strace" / "gen" / "ls_plain.strace"
LINUX = tables.load_abi("linux-x86_64")

HEAD = '''[shim]
name = "mine"
guest = "linux-x86_64"
host = "gvisor-sentry"
host_kind = "opaque"
provenance = ["me@0000000:x"]
default = "emulate"

[syscalls]
'''


def spec_of(rules: str, path: str = "mine.toml") -> shim.CompiledShim:
    """A spec with these rules, compiled with no fallback rows (they are tested on their own below)."""
    return shim.compile_shim(shim.parse_spec(HEAD + rules, path), fallbacks=[])


def ev(name: str, args: str, rec: int = model.SUCCESS, err: str | None = None, line: int = 1) -> model.Event:
    return model.Event(kind=model.SYSCALL, file="t", line=line, name=name, nr=LINUX.by_name[name].number,
                       args=args, rec=rec if err is None else model.ERROR, ret=0 if err is None else -1,
                       errname=err, err=LINUX.errno.value(err) if err else None, abi="linux-x86_64")


def statx(flags: str, **kw) -> model.Event:
    return ev("statx", f'AT_FDCWD, "/etc", {flags}, STATX_ALL, 0x7ffd0000', **kw)


def both(cs: shim.CompiledShim, events: list[model.Event]) -> list[model.Result]:
    """Per-event results, asserted equal on the C core and the Python reference."""
    cres = replay.run_batch(cs, events).results
    out = []
    for e, c in zip(events, cres):
        p = replay.replay_event(cs, e)
        for f in ("outcome", "div", "nflags", "dropped", "undecoded", "fallback", "host_nr", "err", "ret"):
            assert getattr(c, f) == getattr(p, f), (e.args, f, getattr(c, f), getattr(p, f))
        out.append(p)
    return out


# --------------------------------------------------------------------------- the rule

def test_a_rejected_flag_fails_the_call_with_its_errno_on_both_engines() -> None:
    cs = spec_of('statx = { do = "emulate", reject = { AT_NO_AUTOMOUNT = "EINVAL", AT_RECURSIVE = "EPERM" } }\n')
    evs = [statx("AT_STATX_SYNC_AS_STAT|AT_NO_AUTOMOUNT"), statx("AT_SYMLINK_NOFOLLOW"),
           statx("0x800"), statx("AT_RECURSIVE"), statx("AT_NO_AUTOMOUNT", err="EINVAL"),
           statx("AT_NO_AUTOMOUNT", err="ENOENT"), statx("AT_EMPTY_PATH|0x100800")]
    r = both(cs, evs)
    e = LINUX.errno.value
    assert [(x.outcome, x.div, x.err) for x in r] == [
        (FAILED, replay.DIV_FAILS, e("EINVAL")),       # fails where the recording succeeded
        (EMULATED, replay.DIV_NONE, 0),                # without the flag the handler runs
        (FAILED, replay.DIV_FAILS, e("EINVAL")),       # the flag printed as a number
        (FAILED, replay.DIV_FAILS, e("EPERM")),        # each flag its own errno
        (FAILED, replay.DIV_NONE, e("EINVAL")),        # the recording failed the same way
        (FAILED, replay.DIV_ERRNO, e("EINVAL")),       # ... or with another errno
        (FAILED, replay.DIV_FAILS, e("EINVAL")),       # a bit no name explains: still seen
    ]
    assert r[6].undecoded and not r[0].undecoded


def test_the_report_names_the_flag_and_the_errno_in_text_and_json() -> None:
    cs = spec_of('statx = { do = "emulate", reject = { AT_NO_AUTOMOUNT = "EINVAL" }, note = "sys_stat.go:1" }\n')
    for eng in ("c", "python"):
        rep = replay.replay_events(cs, [statx("AT_SYMLINK_NOFOLLOW"), statx("AT_NO_AUTOMOUNT", line=2)], eng)
        assert rep.first_fatal is not None and rep.first_fatal.line == 2
        reason = rep.first_fatal.reason
        assert "AT_NO_AUTOMOUNT" in reason and "rejected with EINVAL" in reason and "sys_stat.go:1" in reason
        assert "AT_NO_AUTOMOUNT" in json.dumps(rep.to_json())


def test_reject_on_a_translated_call_wins_over_the_flag_translation() -> None:
    spec = shim.load_spec("linuxulator")
    text = shim.resolve_spec_path("linuxulator").read_text()
    assert '\nstatx = { do = "emulate"' in text
    text = text.replace('\nstatx = { do = "emulate"', '\nstatx = { do = "translate", to = "fstatat", '
                        'reject = { AT_NO_AUTOMOUNT = "EOPNOTSUPP" }', 1)
    cs = shim.compile_shim(shim.parse_spec(text, "lu.toml"), fallbacks=[])
    assert spec.rules["statx"].do != "fail"
    r = both(cs, [statx("AT_NO_AUTOMOUNT"), statx("AT_SYMLINK_NOFOLLOW")])
    assert (r[0].outcome, r[0].err, r[0].nflags) == (FAILED, LINUX.errno.value("EOPNOTSUPP"), 0)
    assert r[1].outcome != FAILED and r[1].nflags > 0


# --------------------------------------------------------------------------- unhappy paths

@pytest.mark.parametrize("rule,msg", [
    ('statx = { do = "emulate", reject = { AT_NO_AUTOMOUNT = "EWHAT" } }', "EWHAT"),
    ('statx = { do = "emulate", reject = { O_CLOEXEC = "EINVAL" } }', "not a constant of its flag arguments"),
    ('statx = { do = "fail", reject = { AT_NO_AUTOMOUNT = "EINVAL" } }', "reject only fits"),
    ('statx = { do = "stub", reject = { AT_NO_AUTOMOUNT = "EINVAL" } }', "reject only fits"),
    ('statx = { do = "emulate", reject = ["AT_NO_AUTOMOUNT"] }', "reject = { FLAG"),
    ('statx = { do = "emulate", reject = { AT_NO_AUTOMOUNT = 22 } }', "reject = { FLAG"),
])
def test_bad_reject_rules_name_the_spec_file_and_line(rule: str, msg: str) -> None:
    line = HEAD.count("\n") + 2
    with pytest.raises(InputError) as exc:
        spec_of("# a comment\n" + rule + "\n")
    text = str(exc.value)
    assert text.startswith(f"mine.toml:{line}:") and msg in text, text


def test_unknown_errno_in_a_reject_rule_on_the_command_line(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(HEAD + 'statx = { do = "emulate", reject = { AT_NO_AUTOMOUNT = "EINVLA" } }\n')
    r = subprocess.run([sys.executable, "-m", "shimsim", "shims", "--check", str(p)], capture_output=True, text=True)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{p}:{HEAD.count(chr(10)) + 1}:" in lines[0] and "EINVLA" in lines[0], r.stderr
    assert "EINVAL" in lines[0]            # the suggestion
    assert "Traceback" not in r.stderr


# --------------------------------------------------------------------------- the shipped rows

def _replay(name: str, eng: str):
    return replay.replay_trace(trace.open([str(LS)], engine=eng), shim.load_spec(name))


@pytest.mark.parametrize("eng", ["c", "python"])
def test_ls_l_breaks_at_statx_under_gvisor_20221219_and_runs_under_the_newer_gvisor(eng: str) -> None:
    old = _replay("gvisor@20221219", eng)
    ff = old.first_fatal
    assert ff is not None and ff.syscall == "statx"
    assert "AT_NO_AUTOMOUNT" in ff.reason and "EINVAL" in ff.reason and "sys_stat.go:156" in ff.reason
    assert "glibc" in ff.reason and "Rust std" in ff.reason      # the caller, and who would have retried
    new = _replay("gvisor", eng)
    assert new.first_fatal is None or new.first_fatal.syscall != "statx"


@pytest.mark.parametrize("eng", ["c", "python"])
def test_a_rejected_call_of_a_caller_not_identified_is_survivable_only_if_it_falls_back(eng: str) -> None:
    # two bare statx calls: nothing in the events says who made them
    rep = replay.replay_events(shim.load("gvisor@20221219"), [statx("AT_NO_AUTOMOUNT"), statx("0x800", line=2)], eng)
    assert rep.first_fatal is None and rep.unconfirmed == 2
    d = rep.divergences[0]
    assert d.code == replay.DIV_FALLBACK and "AT_NO_AUTOMOUNT" in d.reason and "caller not identified" in d.reason


def test_a_fallback_row_keyed_on_the_reject_errno_rescues_the_call() -> None:
    import dataclasses
    fb = dataclasses.replace(next(f for f in shim.load_fallbacks() if f.syscall == "statx"), errnos=("EINVAL",),
                             implementer="kernel")
    spec = shim.parse_spec(HEAD + 'statx = { do = "emulate", reject = { AT_NO_AUTOMOUNT = "EINVAL" } }\n', "m.toml")
    cs = shim.compile_shim(spec, fallbacks=[fb])
    r = both(cs, [statx("AT_NO_AUTOMOUNT")])
    assert (r[0].outcome, r[0].div, r[0].fallback) == (FAILED, replay.DIV_FALLBACK, 0)
    cs = shim.compile_shim(spec, fallbacks=[dataclasses.replace(fb, errnos=("ENOSYS",))])
    assert both(cs, [statx("AT_NO_AUTOMOUNT")])[0].div == replay.DIV_FAILS


def test_the_shipped_gvisor_rows_cite_the_handler() -> None:
    old, new = shim.load_spec("gvisor@20221219"), shim.load_spec("gvisor")
    for arch in ("", "-arm64"):
        o, n = shim.load_spec(f"gvisor{arch}@20221219").rules["statx"], shim.load_spec(f"gvisor{arch}").rules["statx"]
        assert o.do == n.do == "emulate"
        assert set(o.reject) == {"AT_NO_AUTOMOUNT", "AT_SYMLINK_FOLLOW", "AT_REMOVEDIR", "AT_EACCESS", "AT_RECURSIVE"}
        assert set(n.reject) == set(o.reject) - {"AT_NO_AUTOMOUNT"}
        assert set(o.reject.values()) == set(n.reject.values()) == {"EINVAL"}
        assert "sys_stat.go:156-157" in o.note and "sys_stat.go:159-161" in n.note and ":163-164" in n.note
    assert any("sys_stat.go" in p and "2342c658" in p for p in old.provenance)
    assert any("sys_stat.go" in p and "3c5eee17" in p for p in new.provenance)


# --------------------------------------------------------------------------- C == Python

FLAGS = ["AT_STATX_SYNC_AS_STAT", "AT_SYMLINK_NOFOLLOW", "AT_NO_AUTOMOUNT", "AT_EMPTY_PATH", "AT_RECURSIVE",
         "AT_SYMLINK_FOLLOW", "AT_REMOVEDIR", "AT_STATX_FORCE_SYNC", "0x800", "0x100", "0x20000", "junk", ""]
REJECT_SHIMS = {n: shim.load(n) for n in ("gvisor", "gvisor@20221219")}


@settings(max_examples=200)
@given(st.lists(st.tuples(st.lists(st.sampled_from(FLAGS), min_size=0, max_size=4),
                          st.sampled_from([None, "EINVAL", "ENOENT"]),
                          st.sampled_from(["statx", "newfstatat"])), min_size=1, max_size=12),
       st.sampled_from(sorted(REJECT_SHIMS)))
def test_engines_agree_on_rejected_flags(calls, name: str) -> None:
    evs = []
    for i, (fl, err, sc) in enumerate(calls):
        f = "|".join(fl) or "0"
        args = (f'AT_FDCWD, "/x", {f}, STATX_ALL, 0x7ffd0000' if sc == "statx"
                else f'AT_FDCWD, "/x", 0x7ffd0000, {f}')
        evs.append(ev(sc, args, err=err, line=i + 1))
    both(REJECT_SHIMS[name], evs)
    jc = replay.replay_events(REJECT_SHIMS[name], evs, "c").to_json()
    jp = replay.replay_events(REJECT_SHIMS[name], evs, "python").to_json()
    jc.pop("engine")
    jp.pop("engine")
    assert jc == jp
