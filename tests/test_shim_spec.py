# SPDX-License-Identifier: MIT
"""Shim specs: every shipped spec compiles, counts match the upstream tables
they came from, and bad specs are rejected with file:line."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from shimsim import derive, shim, tables
from shimsim.errors import InputError, ShimsimError, UnknownName

COMPAT = Path(__file__).parent / "fixtures" / "replay" / "compat"
PROV_RE = re.compile(r"^[^@]+@[^:]+:.+$")

# shipped shim -> (upstream compat table copied from abi-facts, upstream status -> shim outcome class)
UPSTREAM = {
    "linuxulator": ("freebsd-linuxulator-amd64.csv", {"native": "handled", "compat": "handled", "unimplemented": "failed"}),
    "linuxulator-arm64": ("freebsd-linuxulator-arm64.csv", {"native": "handled", "compat": "handled", "unimplemented": "failed"}),
    "netbsd-compat-linux": ("netbsd-compat_linux-amd64.csv", {"native": "handled", "compat": "handled", "unimplemented": "failed"}),
    "illumos-lx": ("illumos-lx-amd64.csv", {"compat": "handled", "other": "emulated", "unimplemented": "failed"}),
    "gvisor": ("gvisor-amd64.csv", {"compat": "emulated", "partial": "partial", "unimplemented": "failed"}),
    "gvisor-arm64": ("gvisor-arm64.csv", {"compat": "emulated", "partial": "partial", "unimplemented": "failed"}),
    "wsl1": ("wsl1-15014.csv", {"implemented": "emulated", "stubbed": "stubbed", "unimplemented": "failed"}),
}


# Rows re-read in the upstream source after the abi-facts tables were made, where that source
# contradicts the table (issue 16): shim -> {call: (outcome class, errno or None, cited file)}.
# The spec's rule must say so and cite the file; upstream_counts applies them.
_FB_ROWS = {
    "rseq": ("failed", "ENOSYS", "sys/compat/linux/linux_rseq.c:81"),
    "seccomp": ("failed", "EINVAL", "sys/compat/linux/linux_misc.c"),
    "splice": ("failed", "EINVAL", "sys/compat/linux/linux_file.c"),
    "inotify_add_watch": ("handled", None, "sys/compat/linux/linux_dummy.c"),
    "inotify_rm_watch": ("handled", None, "sys/compat/linux/linux_dummy.c"),
}
_GV_ROWS = {
    "io_uring_setup": ("failed", "ENOSYS", "pkg/sentry/syscalls/linux/sys_iouring.go:28"),
    "io_uring_enter": ("failed", "ENOSYS", "pkg/sentry/syscalls/linux/sys_iouring.go:84"),
}
CORRECTIONS = {"linuxulator": _FB_ROWS, "linuxulator-arm64": _FB_ROWS, "gvisor": _GV_ROWS, "gvisor-arm64": _GV_ROWS}


def assumed(shim_name: str) -> set[str]:
    """Rules the spec declares as an assumption over an ambiguous upstream row
    (WSL1 calls listed only under their i386 large-file name)."""
    spec = shim.load_spec(shim_name)
    return {n for n, r in spec.rules.items() if r.note.startswith("assumed served by")}


def upstream_counts(shim_name: str) -> Counter:
    """Per outcome class, the upstream rows whose name the guest ABI has (one per name),
    leaving out the declared assumptions."""
    fname, classes = UPSTREAM[shim_name]
    spec = shim.load_spec(shim_name)
    guest = tables.load_abi(spec.guest)
    skip = assumed(shim_name)
    seen: dict[str, str] = {}
    with (COMPAT / fname).open(newline="") as f:
        for r in csv.DictReader(f):
            name = r["guest_name"]
            if not name or not r["guest_number"] or name not in guest.by_name or name in skip:
                continue
            cls = classes[r["status"]]
            # WSL1 lists a few names twice; the best-supported status wins (as in the importer)
            order = ["emulated", "handled", "partial", "stubbed", "failed"]
            if name not in seen or order.index(cls) < order.index(seen[name]):
                seen[name] = cls
    for name, (cls, _errno, _src) in CORRECTIONS.get(shim_name, {}).items():
        assert name in seen, f"{shim_name}: correction {name} is not an upstream row"
        seen[name] = cls
    return Counter(seen.values())


@pytest.mark.parametrize("name", sorted(CORRECTIONS))
def test_corrections_cite_upstream(name: str) -> None:
    """Each corrected row has the corrected outcome and errno and cites the file it was read from."""
    spec = shim.load_spec(name)
    for call, (cls, errno, src) in CORRECTIONS[name].items():
        rule = spec.rules[call]
        if cls == "failed":
            assert rule.do == "fail" and rule.errno == errno, (call, rule)
        else:
            assert rule.do in ("translate", "emulate"), (call, rule)
        assert src in rule.note and re.search(r"(freebsd/freebsd-src|google/gvisor)@[0-9a-f]{40}:", rule.note), rule.note


@pytest.mark.parametrize("name", shim.list_shims())
def test_shipped_shims_compile(name: str) -> None:
    spec = shim.load_spec(name)
    cs = shim.compile_shim(spec, "linux-x86_64" if spec.guest == "*" else None)
    assert cs.nsys > 0 and len(cs.outcome) == cs.nsys
    assert spec.provenance
    if spec.guest != "*":
        for p in spec.provenance:
            assert PROV_RE.match(p), p


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_counts_match_upstream_table(name: str) -> None:
    cs = shim.load(name)
    want = upstream_counts(name)
    got = dict(cs.listed)
    got["emulated"] -= len(assumed(name))
    assert got["failed"] == want["failed"]
    assert got["partial"] == want["partial"]
    assert got["stubbed"] == want["stubbed"]
    # the upstream tables do not say translate or emulate for a handled call: together they match
    assert got["translated"] + got["emulated"] == want["handled"] + want["emulated"]
    if want["handled"] == 0:
        assert got["translated"] == 0 and got["emulated"] == want["emulated"]


def test_wsl1_assumptions_are_declared() -> None:
    """Only ambiguous rows are overridden, each with its i386 list name."""
    got = assumed("wsl1")
    assert got == {"stat", "fstat", "lstat", "newfstatat", "fcntl", "statfs", "fstatfs"}
    spec = shim.load_spec("wsl1")
    for n in got:
        assert spec.rules[n].do == "emulate" and "64" in spec.rules[n].note
    for name in UPSTREAM:
        if name != "wsl1":
            assert assumed(name) == set()


def test_linuxulator_reading() -> None:
    cs = shim.load("linuxulator")
    g = cs.guest

    def out(n: str) -> str:
        return shim.OUTCOME_NAMES[cs.outcome[g.by_name[n].number]]

    assert out("read") == "translated"              # NOPROTO: FreeBSD's own handler
    assert out("epoll_wait") == "emulated"          # built on kevent
    assert out("futex") == "emulated"
    assert out("clone") == "emulated"
    assert out("inotify_init") == "failed"          # DUMMY in linux_dummy_x86.c
    assert out("inotify_add_watch") == "emulated"   # FreeBSD 15: no longer a DUMMY (issue 16)
    assert out("rseq") == "failed"                  # linux_rseq returns ENOSYS
    assert out("io_uring_setup") == "failed"
    assert cs.fail_err[g.by_name["io_uring_setup"].number] == g.errno.value("ENOSYS")
    assert cs.host_nr[g.by_name["read"].number] == cs.host.by_name["read"].number
    assert cs.host_nr[g.by_name["newfstatat"].number] == cs.host.by_name["fstatat"].number


def test_illumos_lx_fails_with_enotsup_not_enosys() -> None:
    cs = shim.load("illumos-lx")
    g = cs.guest
    nr = g.by_name["uselib"].number
    assert cs.outcome[nr] == shim.FAILED
    assert cs.fail_err[nr] == g.errno.value("EOPNOTSUPP")


def test_gvisor_error_rows_keep_their_errno() -> None:
    cs = shim.load("gvisor")
    g = cs.guest
    assert cs.fail_err[g.by_name["perf_event_open"].number] == g.errno.value("ENODEV")
    assert cs.fail_err[g.by_name["add_key"].number] == g.errno.value("EACCES")
    assert cs.fail_err[g.by_name["iopl"].number] == g.errno.value("EPERM")     # CapError


def test_linuxulator_errno_and_signal_maps() -> None:
    cs = shim.load("linuxulator")
    e = cs.guest.errno
    assert cs.errno_rt[e.value("ENOENT")] == e.value("ENOENT")
    assert cs.errno_rt[e.value("EAGAIN")] == e.value("EAGAIN")          # 11 -> 35 -> 11
    assert cs.errno_rt[e.value("ECHRNG")] == e.value("EINVAL")          # lossy upstream
    s = cs.guest.signals
    assert cs.sig_rt[s.value("SIGSTKFLT")] == s.value("SIGBUS")         # renamed upstream
    assert cs.sig_rt[s.value("SIGPWR")] == s.value("SIGPWR")            # emulated
    assert cs.sig_rt[s.value("SIGINT")] == s.value("SIGINT")


def test_identity_shims_bind_to_the_trace_abi() -> None:
    for abi in ("linux-x86_64", "freebsd-amd64", "linux-aarch64"):
        cs = shim.load("native", abi)
        assert cs.guest.name == abi and cs.host is cs.guest
        assert all(o in (shim.TRANSLATED, shim.UNKNOWN) for o in cs.outcome)
        nonzero = [i for i, v in enumerate(cs.errno_rt) if i != v]
        assert nonzero == []
        cs = shim.load("disabled", abi)
        assert all(o in (shim.FAILED, shim.UNKNOWN) for o in cs.outcome)
        cs = shim.load("none", abi)             # no layer on a Linux x86-64 host
        assert cs.host.name == "linux-x86_64" and cs.bare is not None
        if abi == "linux-x86_64":
            assert cs.bare.loader == "same" and all(o in (shim.TRANSLATED, shim.UNKNOWN) for o in cs.outcome)
        elif abi == "freebsd-amd64":
            assert cs.bare.loader == "starts"
            assert cs.bare.landing[4] == "stat" and cs.bare.landing[477] is None   # write, mmap
            assert cs.outcome[59] == shim.TRANSLATED                             # execve: same number and args
        else:
            assert cs.bare.loader == "refuses"     # another machine: exec format error
    with pytest.raises(ShimsimError, match="any ABI"):
        shim.load("vm")


def test_unknown_shim_name_suggests() -> None:
    with pytest.raises(UnknownName, match="linuxulator"):
        shim.load_spec("linuxulatr")


# --------------------------------------------------------------------------- rejections

GOOD_HEAD = '''[shim]
name = "t"
guest = "linux-x86_64"
host = "freebsd-amd64"
provenance = ["me@0:here"]
default = "fail"
'''


def _compile(tmp_path: Path, body: str, head: str = GOOD_HEAD):
    p = tmp_path / "t.toml"
    p.write_text(head + body)
    return shim.load(str(p))


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize("body, needle, message", [
    ('[syscalls]\nread = { do = "translate" }\nnosuchcall = { do = "fail" }\n', "nosuchcall", "unknown syscall 'nosuchcall'"),
    ('[syscalls]\nread = { do = "translate", to = "reed" }\n', "reed", "unknown syscall 'reed'"),
    ('[syscalls]\nread = { do = "fail", errno = "ENOPE" }\n', "ENOPE", "unknown errno 'ENOPE'"),
    ('[syscalls]\nread = { do = "explode" }\n', "explode", "not one of"),
    ('[syscalls]\nread = { do = "partial" }\n', "partial", "needs a note"),
    ('[syscalls]\nread = { do = "emulate", errno = "EPERM" }\n', "EPERM", "only fits"),
    ('[syscalls]\nread = { do = "emulate", by = ["kqueue", "nope"] }\n', "nope", "unknown syscall 'nope'"),
    ('[syscalls]\nread = { do = "translate", colour = 1 }\n', "colour", "unknown key"),
    ('[flags.open_flags]\nO_CLOEXEC = { to = "O_NOPE" }\n', "O_NOPE", "O_NOPE"),
    ('[flags.open_flags]\nO_CLOEXC = { drop = "x" }\n', "O_CLOEXC", "O_CLOEXEC"),
    ('[flags.open_flags]\nO_PATH = { drop = "" }\n', "O_PATH", "needs the reason"),
    ('[flags.nofamily]\nX = { drop = "x" }\n', "nofamily", "no constant family"),
    ('[errno.to_host]\nENOENT = { to = "ENOTHING" }\n', "ENOTHING", "ENOTHING"),
    ('[signals.to_guest]\nSIGINFO = { to = "SIGNOPE" }\n', "SIGNOPE", "SIGNOPE"),
    ('[errno.to_host]\nENOENT = { to = "EIO", drop = "x" }\n', "EIO", "exactly one"),
    ('[colours]\nred = 1\n', "colours", "unknown section"),
    ('[syscalls]\nread = { do = "translate" \n', "read", "bad TOML"),
])
def test_rejections_name_file_and_line(tmp_path: Path, body: str, needle: str, message: str) -> None:
    with pytest.raises(InputError) as ei:
        _compile(tmp_path, body)
    text = GOOD_HEAD + body
    assert ei.value.path.endswith("t.toml")
    assert message in str(ei.value)
    if "bad TOML" not in message:
        assert ei.value.line == _line_of(text, needle)
    else:
        assert ei.value.line is not None


@pytest.mark.parametrize("head, message", [
    (GOOD_HEAD.replace('guest = "linux-x86_64"', 'guest = "linux-pdp11"'), "unknown ABI"),
    (GOOD_HEAD.replace('provenance = ["me@0:here"]\n', ""), "provenance"),
    (GOOD_HEAD.replace('default = "fail"', 'default = "maybe"'), "default"),
    (GOOD_HEAD.replace('host = "freebsd-amd64"', 'host = "*"'), "both"),
    (GOOD_HEAD + 'host_kind = "opaque"\n', ""),
])
def test_header_rejections(tmp_path: Path, head: str, message: str) -> None:
    if not message:   # opaque host with a translate rule
        with pytest.raises(InputError, match="opaque host cannot translate"):
            _compile(tmp_path, '[syscalls]\nread = { do = "translate" }\n', head)
        return
    with pytest.raises(InputError, match=message) as ei:
        _compile(tmp_path, "", head)
    assert ei.value.path.endswith("t.toml")


def test_good_spec_with_maps(tmp_path: Path) -> None:
    cs = _compile(tmp_path, '''[syscalls]
read = { do = "translate" }
openat = { do = "translate", note = "with flags" , flags = { 2 = "open_flags" } }
getpid = { do = "stub", note = "pretend" }
uname = { do = "fake", note = "made up" }
io_uring_setup = { do = "fail", errno = "EPERM" }

[flags.open_flags]
O_PATH = { drop = "not in this version" }
O_NOATIME = { ignore = "harmless" }

[errno.to_host]
ENODATA = { to = "ENOATTR", lossy = "closest" }
''')
    g = cs.guest
    assert cs.outcome[g.by_name["getpid"].number] == shim.STUBBED
    assert cs.outcome[g.by_name["uname"].number] == shim.FAKED
    assert cs.fail_err[g.by_name["io_uring_setup"].number] == g.errno.value("EPERM")
    assert cs.outcome[g.by_name["write"].number] == shim.FAILED          # default
    fm = cs.fmaps[cs.progs[g.by_name["openat"].number][0][1]]
    by = {m[0]: m for m in fm.members}
    assert by["O_PATH"][3] is False and by["O_NOATIME"][3] is True
    assert by["O_CLOEXEC"][2] == cs.host.family("open_flags").value("O_CLOEXEC")


def test_derived_spec_is_valid_and_declares_equivalences(tmp_path: Path) -> None:
    out = tmp_path / "d.toml"
    derive.write("freebsd-amd64", "linux-x86_64", out)
    spec = shim.load_spec(str(out))
    assert spec.rules["kqueue"].do == "emulate" and "epoll" in spec.rules["kqueue"].note
    assert spec.rules["rfork"].do == "emulate" and spec.rules["rfork"].by == ["clone"]
    assert spec.rules["read"].do == "translate"
    assert spec.rules["cap_enter"].do == "emulate"
    assert spec.rules["jail"].do == "fail"
    cs = shim.compile_shim(spec)
    assert cs.listed["failed"] > 0 and cs.listed["translated"] > 0
    back = derive.derive_rules("linux-x86_64", "freebsd-amd64")
    d = dict(back)
    assert d["epoll_wait"]["do"] == "emulate" and d["clone"]["do"] == "emulate"


def test_equivalence_table_names_real_syscalls() -> None:
    """Every declared equivalence names syscalls of the two OSes (no typos)."""
    abi_of = {"linux": "linux-x86_64", "freebsd": "freebsd-amd64", "netbsd": "netbsd-amd64",
              "illumos": "illumos-amd64", "darwin": "darwin-x86_64", "openbsd": "openbsd-amd64"}
    with (shim.shim_dir() / "_equivalences.csv").open(newline="") as f:
        for r in csv.DictReader(f):
            g, h = tables.load_abi(abi_of[r["guest_os"]]), tables.load_abi(abi_of[r["host_os"]])
            assert r["guest"] in g.by_name, r
            assert r["relation"] in ("translate", "emulate"), r
            assert r["reason"], r
            for name in r["host"].split():
                assert name in h.by_name, r


def test_fallbacks_table() -> None:
    fbs = shim.load_fallbacks()
    linux = tables.load_abi("linux-x86_64")
    assert {"clone3", "statx", "faccessat2", "close_range", "rseq", "epoll_pwait2", "sendfile",
            "pidfd_open", "copy_file_range", "getrandom", "io_uring_setup"} <= {f.syscall for f in fbs}
    # each row names who implements it; the same call may be retried by some runtimes only
    assert {f.implementer for f in fbs if f.syscall == "pidfd_open"} == {"go"}
    assert {f.implementer for f in fbs if f.syscall == "statx"} == {"glibc", "rust-std"}
    glibc_statx = next(f for f in fbs if f.syscall == "statx" and f.implementer == "glibc")
    assert glibc_statx.errnos == ("ENOSYS",)          # glibc does not fall back on EPERM
    for fb in fbs:
        assert fb.syscall in linux.by_name, fb
        assert fb.implementer in shim.IMPLEMENTERS
        assert "@" in fb.source and ":" in fb.source, fb
        for e in fb.errnos:
            assert linux.errno.value(e) is not None, fb
        for t in fb.targets:
            assert t in linux.by_name, fb


def test_bad_fallbacks_file(tmp_path: Path) -> None:
    p = tmp_path / "fb.csv"
    head = "syscall,errnos,fallback,implementer,versions,source,note\n"
    p.write_text(head + "clone3,ENOSYS,clone,glibc,*,,no source\n")
    with pytest.raises(InputError, match="source") as ei:
        shim.load_fallbacks(p)
    assert ei.value.line == 2
    p.write_text(head + "clone3,ENOSYS,clone,bionic,*,a/b@c:d,x\n")
    with pytest.raises(InputError, match="implementer 'bionic'"):
        shim.load_fallbacks(p)
    p.write_text(head + "clone3,ENOSYS,clone,glibc,2.x,a/b@c:d,x\n")
    with pytest.raises(InputError, match="versions"):
        shim.load_fallbacks(p)
    p.write_text("syscall,errnos,fallback,source,note\nclone3,ENOSYS,clone,a/b@c:d,x\n")   # the old layout
    with pytest.raises(InputError, match="header must be"):
        shim.load_fallbacks(p)


def test_fallback_versions() -> None:
    fb = shim.Fallback("pidfd_open", (), ("wait4",), "a/b@c:d", "", 1, "go", ">=1.23")
    assert fb.holds_for("1.23") and fb.holds_for("1.24.1") and fb.holds_for("1.19.8") is False
    assert fb.holds_for(None) is None
    assert shim.Fallback("x", (), (), "s", "", 1, "go", "<1.24").holds_for("1.23.9")
    span = shim.Fallback("x", (), (), "s", "", 1, "glibc", "2.34-2.36")
    assert span.holds_for("2.36") and span.holds_for("2.34") and not span.holds_for("2.37")


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True)


def test_cli_shims_json_counts() -> None:
    r = _cli("shims", "--json")
    assert r.returncode == 0, r.stderr
    rows = {s["name"]: s for s in json.loads(r.stdout)["shims"]}
    assert set(UPSTREAM) | {"native", "vm", "none", "disabled"} <= set(rows)
    for name in UPSTREAM:
        want = upstream_counts(name)
        c = dict(rows[name]["counts"])
        c["emulated"] -= len(assumed(name))
        assert c["failed"] == want["failed"]
        assert c["translated"] + c["emulated"] == want["handled"] + want["emulated"]
        assert rows[name]["provenance"]
    assert rows["disabled"]["counts"]["failed"] > 300
    assert rows["native"]["counts"]["translated"] == rows["disabled"]["counts"]["failed"]


def test_cli_shims_check_reports_bad_spec(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(GOOD_HEAD + '[syscalls]\nfrobnicate = { do = "fail" }\n')
    r = _cli("shims", "--check", str(p))
    assert r.returncode == 2
    assert f"{p}:8:" in r.stderr and "frobnicate" in r.stderr
    assert "Traceback" not in r.stderr


def test_cli_derive(tmp_path: Path) -> None:
    out = tmp_path / "fb.toml"
    r = _cli("derive", "freebsd-amd64", "linux-x86_64", "-o", str(out), "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["counts"]["emulated"] > 0 and out.exists()
    r = _cli("derive", "freebsd-amd64", "linux-x68_64")
    assert r.returncode == 2 and "linux-x86_64" in r.stderr


def test_linuxulator_releases_differ_as_upstream_says() -> None:
    """linuxulator@freebsd-14.3 and @freebsd-15.0 (= linuxulator, the newest) differ exactly in the
    inotify and kcmp rows: DUMMY in the 14 tree (linux_dummy.c@685dc743), wired in 15; rseq is ENOSYS
    in both trees read."""
    old = shim.load_spec("linuxulator@freebsd-14.3")
    new = shim.load_spec("linuxulator@freebsd-15.0")
    assert new.path == shim.load_spec("linuxulator").path
    changed = {n for n in set(old.rules) | set(new.rules)
               if (old.rules[n].do, old.rules[n].errno) != (new.rules[n].do, new.rules[n].errno)}
    assert changed == {"inotify_init1", "inotify_add_watch", "inotify_rm_watch", "kcmp"}
    for n in changed:
        assert old.rules[n].do == "fail" and old.rules[n].errno == "ENOSYS"
        assert "685dc743dc3b5645e34836464128e1c0558b404b:sys/compat/linux/linux_dummy.c" in old.rules[n].note
        assert new.rules[n].do == ("translate" if n == "kcmp" else "emulate")
    assert old.rules["rseq"].do == new.rules["rseq"].do == "fail"
    assert old.rules["inotify_init"].errno == new.rules["inotify_init"].errno == "ENOSYS"


def test_release_alias_and_listing() -> None:
    assert "linuxulator@freebsd-14.3" in shim.list_shims()
    assert shim.release_aliases()["linuxulator@freebsd-15.0"] == "linuxulator"
    with pytest.raises(UnknownName) as exc:
        shim.load_spec("linuxulator@freebsd-13.0")
    assert "linuxulator@freebsd-15.0" in str(exc.value)


def test_cli_diff_between_linuxulator_releases() -> None:
    trace = Path(__file__).parent / "fixtures" / "replay" / "tail_f_inotify.strace"
    r = subprocess.run([sys.executable, "-m", "shimsim", "diff", "--shim", "linuxulator@freebsd-14.3",
                        "--shim", "linuxulator@freebsd-15.0", str(trace), "--json"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert [(x["name"], x["a"]["outcome"], x["b"]["outcome"]) for x in d["differences"]] == \
        [("inotify_add_watch", "failed", "emulated")]


def test_shims_lists_releases_aliases_and_variants() -> None:
    r = subprocess.run([sys.executable, "-m", "shimsim", "shims", "--json"], capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    rows = {x["name"]: x for x in json.loads(r.stdout)["shims"]}
    assert rows["linuxulator"]["aliases"] == ["linuxulator@freebsd-15.0"]
    assert rows["linuxulator"]["variants"] == {"linux-i386": "linuxulator-linux32"}
    assert rows["linuxulator@freebsd-14.3"]["aliases"] == []
    assert rows["linuxulator@freebsd-14.3"]["variants"] == {"linux-i386": "linuxulator-linux32@freebsd-14.3"}
    text = subprocess.run([sys.executable, "-m", "shimsim", "shims"], capture_output=True, text=True, check=False).stdout
    assert "also named linuxulator@freebsd-15.0" in text and "linux-i386 binaries: linuxulator-linux32" in text


def test_gvisor_io_uring_gate_is_per_release() -> None:
    """The runsc --iouring gate (IOUringEnabled) is in the pinned newest tree, not in 20221219's
    sys_iouring.go (checked in the google/gvisor mirror at 2342c658), where setup works with limits."""
    for name in ("gvisor", "gvisor-arm64"):
        rule = shim.load_spec(name).rules["io_uring_setup"]
        assert rule.do == "fail" and rule.errno == "ENOSYS" and "runsc --iouring" in rule.note
    for name in ("gvisor@20221219", "gvisor-arm64@20221219"):
        assert shim.load_spec(name).rules["io_uring_setup"].do == "partial"
