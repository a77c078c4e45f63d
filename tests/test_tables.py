# SPDX-License-Identifier: MIT
"""The ABI tables: the real tables validate and hold the right facts; bad tables are rejected
with their file and line."""
from __future__ import annotations

import re
import tomllib
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from shimsim import tables
from shimsim.errors import InputError, UnknownName
from shimsim.tables import Tables

REAL = Tables()
ABIS = REAL.list_abis()
# the ABIs as abis.toml declares them, read without the loader: no test names a count or a list,
# so adding an ABI touches data rows only
DECLARED = list(tomllib.loads((REAL.root / "abis.toml").read_text())["abi"])


# --------------------------------------------------------------------------- real tables

def test_every_table_validates() -> None:
    counts = Tables().validate_all()
    assert counts["abis"] == len(ABIS) == len(DECLARED)
    assert counts["syscalls"] > 3500
    assert counts["signatures"] > 1500
    assert counts["families"] > 200


def test_abi_list_matches_contract() -> None:
    assert tables.list_abis() == DECLARED and DECLARED[0] == "linux-x86_64"
    for name in DECLARED:    # every ABI's OS has its constants and signatures
        os = tables.facts(name).os
        assert (REAL.root / "consts" / os / "errno.csv").is_file(), name
        assert any(os in applies for _, applies in REAL.sig_files), name


def _declared(path: Path) -> tuple[int, int, int]:
    """(upstream-rows, excluded+folded, data rows) read straight from a syscall table file."""
    text = path.read_text().splitlines()
    head = {m.group(1): int(m.group(2)) for l in text
            if (m := re.match(r"# (upstream|excluded|folded|supplement)-rows: (\d+)", l))}
    rows = [l for l in text if l and not l.startswith("#")][1:]
    return (head["upstream"], head.get("excluded", 0) + head.get("folded", 0) - head.get("supplement", 0),
            len(rows))


@pytest.mark.parametrize("path", sorted((REAL.root / "syscalls").glob("*.csv")), ids=lambda p: p.name)
def test_syscall_rows_match_declared_upstream_count(path: Path) -> None:
    upstream, set_aside, rows = _declared(path)
    assert rows + set_aside == upstream
    text = path.read_text()
    assert re.search(r"^# source: [\w.-]+/[\w.-]+@[0-9a-f]{40}:\S+", text, re.M), "provenance"


# Upstream row counts of the files the tables came from (see each file's '# source:' line).
UPSTREAM_ROWS = {
    "linux-x86_64.csv": 411, "linux-i386.csv": 425, "linux-generic.csv": 394,
    "freebsd.csv": 605, "netbsd-amd64.csv": 507, "openbsd-amd64.csv": 331,
    "illumos-amd64.csv": 245, "darwin-x86_64.csv": 558,  # illumos: + 2 supplemented slots
}


@pytest.mark.parametrize("name,count", sorted(UPSTREAM_ROWS.items()))
def test_declared_upstream_counts(name: str, count: int) -> None:
    assert _declared(REAL.root / "syscalls" / name)[0] == count


@pytest.mark.parametrize("path", sorted((REAL.root / "consts").glob("*/*.csv")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_const_files_carry_provenance(path: Path) -> None:
    text = path.read_text()
    assert re.search(r"^# source: \S+", text, re.M)
    declared = int(re.search(r"^# upstream-rows: (\d+)", text, re.M).group(1))
    valued = sum(1 for l in text.splitlines()[1:]
                 if l and not l.startswith("#") and not l.startswith("family,")
                 and l.split(",")[2] != "unsupported")
    assert valued == declared


@pytest.mark.parametrize("abi,number", [
    ("linux-x86_64", 257), ("linux-aarch64", 56), ("linux-i386", 295), ("freebsd-amd64", 499),
    ("freebsd-arm64", 499), ("netbsd-amd64", 468), ("openbsd-amd64", 321), ("illumos-amd64", 68),
    ("darwin-x86_64", 463),
])
def test_openat_numbers(abi: str, number: int) -> None:
    a = tables.load_abi(abi)
    sc = a.syscall("openat")
    assert sc.number == number and sc.status == "implemented"
    assert a.syscall(number) is sc and a.syscall(str(number)) is sc
    assert a.by_number[number] is sc and a.by_name["openat"] is sc
    assert [x.kind for x in sc.args] == ["dirfd", "path", "flags", "mode"]
    assert sc.args[2].family == "open_flags" and sc.returns == "fd"
    assert "file" in sc.classes and "desc" in sc.classes


def test_spot_syscall_facts() -> None:
    x86 = tables.load_abi("linux-x86_64")
    assert x86.syscall("read").number == 0 and x86.syscall("mseal").number == 462
    assert "rt_sigaction" in x86.by_name and x86.syscall("rt_sigaction").number == 13
    assert 512 not in x86.by_number  # x32 slots belong to another ABI
    assert x86.syscall("create_module").status == "unimplemented"  # no entry point upstream
    assert x86.syscall("tuxcall").status == "unimplemented"
    arm = tables.load_abi("linux-aarch64")
    assert "open" not in arm.by_name
    # the generic table names slot 80 fstat now; older versions and the compat layers' tables newfstat
    assert arm.syscall("newfstat").number == 80 and arm.syscall("newfstat").name == "fstat"
    assert [a.name for a in arm.syscall("fstat").args] == ["fd", "statbuf"]  # via the alias
    i386 = tables.load_abi("linux-i386")
    assert i386.syscall("break").status == "unimplemented"
    assert i386.syscall("mseal").number == 462 and i386.syscall(436).name == "close_range"
    fb = tables.load_abi("freebsd-amd64")
    assert fb.syscall(19).name == "compat.lseek" and fb.syscall(19).status == "obsolete"
    assert fb.syscall("lseek").number == 478
    assert fb.syscall(91).status == "reserved"
    ill = tables.load_abi("illumos-amd64")
    assert ill.syscall("waitsys") is ill.syscall("waitid")  # upstream alias
    assert ill.syscall("getrandom").number == 126 and ill.syscall("getrandom").args is not None


@pytest.mark.parametrize("abi", ABIS)
def test_errno_and_flags_everywhere(abi: str) -> None:
    a = tables.load_abi(abi)
    assert a.errno.value("ENOENT") == 2
    assert a.errno_message("ENOENT").lower().startswith("no such file")
    assert a.signals.value("SIGKILL") == 9
    assert a.family("open_flags").value("O_RDONLY") == 0


def test_os_differences() -> None:
    lx, fb = tables.load_abi("linux-x86_64"), tables.load_abi("freebsd-amd64")
    assert lx.errno.value("EAGAIN") == 11 and fb.errno.value("EAGAIN") == 35
    assert lx.family("open_flags").value("O_CLOEXEC") == 0x80000
    assert fb.family("open_flags").value("O_CLOEXEC") == 0x100000
    assert fb.family("open_flags").value("O_NOATIME") is None  # declared unsupported
    assert lx.family("open_flags").value("O_EXLOCK") is None
    with pytest.raises(UnknownName):
        lx.family("open_flags").value("O_NOSUCH")


def test_values_read_from_upstream_headers() -> None:
    """waitid idtypes differ between Linux and the Solaris-derived order; SCM/SHUT everywhere."""
    lx, fb = tables.load_abi("linux-x86_64"), tables.load_abi("freebsd-amd64")
    assert lx.family("wait.idtype").value("P_PID") == 1 and fb.family("wait.idtype").value("P_PID") == 0
    assert fb.family("wait.idtype").value("P_ALL") == 7
    assert fb.family("wait.idtype").member("P_ZONEID").alias_of == "P_JAILID"
    assert tables.load_abi("netbsd-amd64").family("wait.idtype").value("P_PGID") == 4
    assert tables.load_abi("darwin-x86_64").family("wait.idtype").value("P_PGID") == 2
    assert tables.load_abi("openbsd-amd64").family("wait.idtype").value("P_PID") is None
    for abi in ABIS:
        a = tables.load_abi(abi)
        assert a.family("socket.shut").supported() == {"SHUT_RD": 0, "SHUT_WR": 1, "SHUT_RDWR": 2}
        assert a.family("socket.scm").value("SCM_RIGHTS") == (0x1010 if a.os == "illumos" else 1)
    assert tables.load_abi("netbsd-amd64").family("socket.scm").value("SCM_TIMESTAMP") == 8


def test_siglost_only_dropped_on_linux() -> None:
    assert tables.load_abi("linux-x86_64").signals.value("SIGLOST") is None  # commented out upstream
    assert tables.load_abi("illumos-amd64").signals.value("SIGLOST") == 37


def test_kqueue_notes() -> None:
    for abi in ("freebsd-amd64", "netbsd-amd64", "openbsd-amd64", "darwin-x86_64"):
        a = tables.load_abi(abi)
        assert a.family("kqueue.note_vnode").decode(0x22) == ["NOTE_WRITE", "NOTE_RENAME"]
        assert a.family("kqueue.note_proc").value("NOTE_EXIT") == 0x80000000
    assert tables.load_abi("openbsd-amd64").family("kqueue.note_vnode").value("NOTE_TRUNCATE") == 0x80
    assert tables.load_abi("freebsd-amd64").family("kqueue.note_vnode").value("NOTE_TRUNCATE") is None


def test_arch_overrides() -> None:
    x86, arm = tables.load_abi("linux-x86_64"), tables.load_abi("linux-aarch64")
    expect = {"O_DIRECTORY": (0x10000, 0x4000), "O_NOFOLLOW": (0x20000, 0x8000),
              "O_DIRECT": (0x4000, 0x10000), "O_LARGEFILE": (0x8000, 0x20000)}
    for name, (xv, av) in expect.items():
        assert x86.family("open_flags").value(name) == xv
        assert arm.family("open_flags").value(name) == av
    assert x86.family("mmap.flags").value("MAP_32BIT") == 0x40
    assert arm.family("mmap.flags").value("MAP_32BIT") is None
    assert arm.family("mmap.prot").value("PROT_BTI") == 0x10
    assert x86.family("mmap.prot").value("PROT_BTI") is None


def test_decode() -> None:
    lx = tables.load_abi("linux-x86_64")
    of = lx.family("open_flags")
    assert of.decode(0x80241) == ["O_WRONLY", "O_CREAT", "O_TRUNC", "O_CLOEXEC"]
    assert of.decode(0) == ["O_RDONLY"]
    assert of.decode(0x101002) == ["O_RDWR", "O_SYNC"]       # two-bit member wins
    assert of.decode_parts(0x80000000) == (["O_RDONLY"], 0x80000000)
    assert lx.family("mmap.prot").decode(0) == ["PROT_NONE"]
    assert lx.family("mmap.prot").decode(5) == ["PROT_READ", "PROT_EXEC"]
    assert lx.errno.decode(2) == ["ENOENT"] and lx.errno.decode(9999) == ["9999"]
    assert lx.family("socket.type").decode(0x80801) == ["SOCK_STREAM", "SOCK_NONBLOCK", "SOCK_CLOEXEC"]
    # the exit-signal byte of clone flags decodes through the signals family
    assert lx.family("clone").decode(0x1200011) == ["SIGCHLD", "CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"]
    assert lx.family("stat_mode").decode(0o100644)[0] == "S_IFREG"
    assert lx.family("mmap").kind == "set"
    assert set(lx.family("mmap").groups) == {"mmap.prot", "mmap.flags"}
    with pytest.raises(UnknownName):
        lx.family("mmap").decode(1)


@given(st.data())
def test_flag_translation_by_name(data: st.DataObject) -> None:
    """Decoding a Linux flag value and encoding the names on FreeBSD keeps the meaning."""
    lx = tables.load_abi("linux-x86_64").family("open_flags")
    fb = tables.load_abi("freebsd-amd64").family("open_flags")
    common = sorted(n for n, v in lx.members.items()
                    if v and fb.members.get(n) and lx.member(n).role == ""
                    and bin(v).count("1") == 1 and n not in ("O_WRONLY", "O_RDWR"))
    picked = data.draw(st.lists(st.sampled_from(common), unique=True))
    value = lx.encode(picked)
    names = lx.decode(value)
    assert lx.encode(names) == value
    assert set(fb.decode(fb.encode(names))) - {"O_RDONLY"} == set(picked)


def test_translate_by_name() -> None:
    lx, fb = tables.load_abi("linux-x86_64"), tables.load_abi("freebsd-amd64")
    t = lx.family("open_flags").translate(0x80241, fb.family("open_flags"))
    assert t.exact and t.value == 0x1 | 0x200 | 0x400 | 0x100000
    t = lx.family("open_flags").translate(0x40000 | 0x80000000, fb.family("open_flags"))
    assert t.unsupported == ("O_NOATIME",) and t.unknown == 0x80000000 and not t.exact
    assert lx.errno.translate(11, fb.errno).value == 35
    assert lx.family("wait.idtype").translate(1, fb.family("wait.idtype")).value == 0  # P_PID
    with pytest.raises(ValueError):
        lx.errno.translate(1, fb.signals)


@pytest.mark.parametrize("abi", ABIS)
def test_translatable_families_are_complete(abi: str) -> None:
    a = tables.load_abi(abi)
    for fam in a.family_names():
        f = a.family(fam)
        if f.kind == "set" or not f.translatable:
            continue
        for other in ABIS:
            b = tables.load_abi(other)
            if fam in b.family_names():
                assert set(b.family(fam).members) == set(f.members), (abi, other, fam)


def test_contract_family_names() -> None:
    lx = set(tables.load_abi("linux-x86_64").family_names())
    fb = set(tables.load_abi("freebsd-amd64").family_names())
    for name in ("errno", "signals", "open_flags", "at_flags", "mmap", "fcntl", "socket", "clone",
                 "poll", "epoll", "wait", "ioctl", "stat_mode"):
        assert name in lx, name
    for name in ("rfork", "kqueue", "errno", "open_flags"):
        assert name in fb, name
    assert "kqueue" in tables.load_abi("darwin-x86_64").family_names()
    with pytest.raises(UnknownName, match="did you mean poll"):
        tables.load_abi("freebsd-amd64").family("epoll")


def test_unknown_names_suggest() -> None:
    with pytest.raises(UnknownName, match="linux-x86_64"):
        tables.load_abi("linux-x86")
    with pytest.raises(UnknownName, match="openat"):
        tables.load_abi("linux-x86_64").syscall("openatt")
    with pytest.raises(UnknownName):
        tables.load_abi("linux-x86_64").syscall(99999)


def test_load_is_cached() -> None:
    assert tables.load_abi("linux-x86_64") is tables.load_abi("linux-x86_64")


# --------------------------------------------------------------------------- bad tables

FAMILIES = """\
[family.errno]
file = "errno"
os = ["linux", "freebsd"]
kind = "enum"
translatable = true
prefixes = ["E"]
doc = "errors"

[family.open_flags]
file = "open_flags"
os = ["linux", "freebsd"]
kind = "flags"
translatable = true
prefixes = ["O_"]
fields = [{ mask = "O_ACCMODE", members = ["O_RDONLY", "O_WRONLY", "O_RDWR"] }]
doc = "open flags"

[family.clone]
file = "clone"
os = ["linux"]
kind = "flags"
prefixes = ["CLONE_"]
doc = "clone flags"
"""

ABIS_TOML = """\
[abi.t-linux]
os = "linux"
arch = "x"
pointer_bits = 64
syscalls = "syscalls/t-linux.csv"
consts_arch = "x"
endian = "little"
uname = ["tx"]
elf_machine = 62

[abi.t-freebsd]
os = "freebsd"
arch = "x"
pointer_bits = 64
syscalls = "syscalls/t-freebsd.csv"
endian = "little"
uname = ["tx"]
"""

SYSCALLS = """\
# source: example/repo@0123456789012345678901234567890123456789ab:table.tbl
# upstream-rows: 3
number,name,status,kind,entry,aliases,note
0,read,implemented,common,sys_read,,
1,openat,implemented,common,sys_openat,,
2,,reserved,RESERVED,,,
"""

ERRNO_LINUX = """\
# source: example/repo@0123456789012345678901234567890123456789ab:errno.h
# upstream-rows: 2
family,name,value,role,note
errno,ENOENT,2,,No such file or directory
errno,EAGAIN,11,,Try again
"""
ERRNO_FREEBSD = ERRNO_LINUX.replace("EAGAIN,11", "EAGAIN,35")
OPEN_LINUX = """\
# source: example/repo@0123456789012345678901234567890123456789ab:fcntl.h
# upstream-rows: 5
family,name,value,role,note
open_flags,O_RDONLY,0x0,,
open_flags,O_WRONLY,0x1,,
open_flags,O_RDWR,0x2,,
open_flags,O_ACCMODE,0x3,helper,
open_flags,O_CLOEXEC,0x80000,,
"""
OPEN_FREEBSD = OPEN_LINUX.replace("0x80000", "0x100000")
CLONE_LINUX = """\
# source: example/repo@0123456789012345678901234567890123456789ab:sched.h
# upstream-rows: 1
family,name,value,role,note
clone,CLONE_VM,0x100,,
"""
SIGS = """\
# applies-to: linux freebsd
openat(dirfd: dirfd, path: path, flags: flags:open_flags, mode: int) -> fd [desc, file]
read(fd: fd, buf: buf, count: size) -> ssize [desc, io]
"""


def make_root(tmp: Path, **override: str) -> Path:
    """A tiny but complete table tree; keyword args (relative paths) replace or add files."""
    root = tmp / "tables"
    files = {
        "abis.toml": ABIS_TOML, "families.toml": FAMILIES,
        "syscalls/t-linux.csv": SYSCALLS, "syscalls/t-freebsd.csv": SYSCALLS,
        "consts/linux/errno.csv": ERRNO_LINUX, "consts/freebsd/errno.csv": ERRNO_FREEBSD,
        "consts/linux/open_flags.csv": OPEN_LINUX, "consts/freebsd/open_flags.csv": OPEN_FREEBSD,
        "consts/linux/clone.csv": CLONE_LINUX,
        "signatures/common.sigs": SIGS,
    }
    files.update(override)
    for rel, text in files.items():
        if text is None:
            continue
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return root


def load_all(root: Path) -> dict[str, int]:
    return Tables(root).validate_all()


def test_tiny_tables_load(tmp_path: Path) -> None:
    t = Tables(make_root(tmp_path))
    assert t.validate_all()["abis"] == 2
    a = t.load_abi("t-freebsd")
    assert a.syscall("openat").args[2].family == "open_flags"
    assert a.family("open_flags").value("O_CLOEXEC") == 0x100000
    assert a.errno.value("EAGAIN") == 35


def expect_error(root: Path, where: str, what: str) -> None:
    with pytest.raises(InputError) as exc:
        load_all(root)
    msg = str(exc.value)
    assert where in msg, msg
    assert re.search(what, msg), msg
    assert "\n" not in msg


def test_reject_duplicate_number(tmp_path: Path) -> None:
    bad = SYSCALLS.replace("2,,reserved", "1,,reserved")
    expect_error(make_root(tmp_path, **{"syscalls/t-linux.csv": bad}),
                 "tables/syscalls/t-linux.csv:6:", "duplicate number 1 .first at line 5")


def test_reject_duplicate_name(tmp_path: Path) -> None:
    bad = SYSCALLS.replace("1,openat,", "1,read,")
    expect_error(make_root(tmp_path, **{"syscalls/t-linux.csv": bad}),
                 "tables/syscalls/t-linux.csv:5:", "duplicate name read")


def test_reject_bad_status_and_unnamed_implemented(tmp_path: Path) -> None:
    expect_error(make_root(tmp_path / "a", **{"syscalls/t-linux.csv":
                                              SYSCALLS.replace("reserved,RES", "gone,RES")}),
                 "tables/syscalls/t-linux.csv:6:", "status must be one of")
    expect_error(make_root(tmp_path / "b", **{"syscalls/t-linux.csv":
                                              SYSCALLS.replace("2,,reserved", "2,,implemented")}),
                 "tables/syscalls/t-linux.csv:6:", "needs a name")


def test_reject_bad_syscall_number(tmp_path: Path) -> None:
    expect_error(make_root(tmp_path, **{"syscalls/t-linux.csv": SYSCALLS.replace("1,openat", "1x,openat")}),
                 "tables/syscalls/t-linux.csv:5:", "not an integer")


def test_reject_row_count_mismatch(tmp_path: Path) -> None:
    bad = SYSCALLS.replace("upstream-rows: 3", "upstream-rows: 4")
    expect_error(make_root(tmp_path, **{"syscalls/t-linux.csv": bad}),
                 "tables/syscalls/t-linux.csv:2:", "upstream-rows says 4 but the file has 3 rows")


def test_reject_missing_provenance(tmp_path: Path) -> None:
    bad = "\n".join(l for l in SYSCALLS.splitlines() if not l.startswith("# source")) + "\n"
    expect_error(make_root(tmp_path, **{"syscalls/t-linux.csv": bad}),
                 "tables/syscalls/t-linux.csv", "provenance")


def test_reject_bad_header(tmp_path: Path) -> None:
    bad = SYSCALLS.replace("number,name,status", "num,name,status")
    expect_error(make_root(tmp_path, **{"syscalls/t-linux.csv": bad}),
                 "tables/syscalls/t-linux.csv:3:", "header must be")


def test_reject_bad_value(tmp_path: Path) -> None:
    bad = OPEN_LINUX.replace("0x80000", "0x8G000")
    expect_error(make_root(tmp_path, **{"consts/linux/open_flags.csv": bad}),
                 "tables/consts/linux/open_flags.csv:8:", "'0x8G000' is not an integer")


def test_reject_duplicate_constant(tmp_path: Path) -> None:
    bad = ERRNO_LINUX + "errno,ENOENT,3,,again\n"
    expect_error(make_root(tmp_path, **{"consts/linux/errno.csv": bad}),
                 "tables/consts/linux/errno.csv:6:", "duplicate name ENOENT .first at line 4")


def test_reject_constant_in_wrong_family(tmp_path: Path) -> None:
    bad = OPEN_LINUX + "errno,O_PATH,0x200000,,\n"
    expect_error(make_root(tmp_path, **{"consts/linux/open_flags.csv": bad}),
                 "tables/consts/linux/open_flags.csv:9:", "unknown family 'errno' for file open_flags")


def test_reject_bad_alias(tmp_path: Path) -> None:
    bad = ERRNO_LINUX.replace("upstream-rows: 2", "upstream-rows: 3") + "errno,EWOULDBLOCK,11,alias:EAGAINX,\n"
    expect_error(make_root(tmp_path, **{"consts/linux/errno.csv": bad}),
                 "tables/consts/linux/errno.csv:6:", "alias of unknown EAGAINX")


def test_reject_undeclared_cross_os_member(tmp_path: Path) -> None:
    bad = ERRNO_LINUX.replace("upstream-rows: 2", "upstream-rows: 3") + "errno,ENOSYS,38,,Not implemented\n"
    with pytest.raises(InputError) as exc:
        load_all(make_root(tmp_path, **{"consts/linux/errno.csv": bad}))
    msg = str(exc.value)
    assert msg.startswith("tables/consts/freebsd/errno.csv: ")
    assert "ENOSYS (declared at tables/consts/linux/errno.csv:6)" in msg
    assert "mark it unsupported" in msg


def test_unsupported_row_satisfies_cross_os_rule(tmp_path: Path) -> None:
    lx = ERRNO_LINUX.replace("upstream-rows: 2", "upstream-rows: 3") + "errno,ENOSYS,38,,Not implemented\n"
    fb = ERRNO_FREEBSD + "errno,ENOSYS,unsupported,,not on this OS\n"
    t = Tables(make_root(tmp_path, **{"consts/linux/errno.csv": lx, "consts/freebsd/errno.csv": fb}))
    assert t.load_abi("t-freebsd").errno.value("ENOSYS") is None
    assert t.load_abi("t-linux").errno.value("ENOSYS") == 38


def test_reject_unknown_family_in_signature(tmp_path: Path) -> None:
    bad = SIGS.replace("flags:open_flags", "flags:open_flagz")
    expect_error(make_root(tmp_path, **{"signatures/common.sigs": bad}),
                 "tables/signatures/common.sigs:2:", "family 'open_flagz' is unknown")


def test_reject_family_missing_on_os_in_signature(tmp_path: Path) -> None:
    bad = SIGS + "read2(flags: flags:clone) -> zero [process]\n"
    expect_error(make_root(tmp_path, **{"signatures/common.sigs": bad}),
                 "tables/signatures/common.sigs:4:", "'clone' does not exist on freebsd")


def test_reject_bad_signature_syntax_kind_and_class(tmp_path: Path) -> None:
    expect_error(make_root(tmp_path / "a", **{"signatures/common.sigs": SIGS.replace(" -> fd", " => fd")}),
                 "tables/signatures/common.sigs:2:", "expected NAME")
    expect_error(make_root(tmp_path / "b", **{"signatures/common.sigs": SIGS.replace("count: size", "count: sizee")}),
                 "tables/signatures/common.sigs:3:", "unknown argument kind 'sizee'")
    expect_error(make_root(tmp_path / "c", **{"signatures/common.sigs": SIGS.replace("[desc, io]", "[desc, disk]")}),
                 "tables/signatures/common.sigs:3:", "unknown class 'disk'")
    expect_error(make_root(tmp_path / "d", **{"signatures/common.sigs": SIGS + "nosuch() -> int [io]\n"}),
                 "tables/signatures/common.sigs:4:", "syscall named nosuch")


def test_reject_signature_without_applies_to(tmp_path: Path) -> None:
    expect_error(make_root(tmp_path, **{"signatures/common.sigs": SIGS.replace("# applies-to: linux freebsd\n", "")}),
                 "tables/signatures/common.sigs", "applies-to")


def test_reject_arch_override_of_undeclared_name(tmp_path: Path) -> None:
    over = "# source: a/b@0123456789012345678901234567890123456789:h\nfamily,name,value,role,note\nopen_flags,O_DIRECTORY,0x4000,,\n"
    expect_error(make_root(tmp_path, **{"consts/linux/x/open_flags.csv": over}),
                 "tables/consts/linux/x/open_flags.csv:3:", "not declared in the base file")
    bare = "family,name,value,role,note\nopen_flags,O_CLOEXEC,0x4000,,\n"
    expect_error(make_root(tmp_path / "b", **{"consts/linux/x/open_flags.csv": bare}),
                 "tables/consts/linux/x/open_flags.csv", "provenance")


def test_arch_override_applies(tmp_path: Path) -> None:
    over = "# source: a/b@0123456789012345678901234567890123456789:h\nfamily,name,value,role,note\nopen_flags,O_CLOEXEC,0x4000,,\n"
    t = Tables(make_root(tmp_path, **{"consts/linux/x/open_flags.csv": over}))
    assert t.load_abi("t-linux").family("open_flags").value("O_CLOEXEC") == 0x4000


def test_reject_bad_toml(tmp_path: Path) -> None:
    expect_error(make_root(tmp_path, **{"families.toml": FAMILIES.replace('kind = "enum"', 'kind = "bits"', 1)}),
                 "tables/families.toml:1:", "kind must be flags or enum")
    with pytest.raises(InputError, match="tables/abis.toml"):
        Tables(make_root(tmp_path / "b", **{"abis.toml": "[abi.x\n"})).list_abis()


@pytest.mark.parametrize("abi", ABIS)
def test_value_collisions_are_settled_by_preference(abi: str) -> None:
    """Two printable members with one value must have a declared winner, so decode is stable."""
    a = tables.load_abi(abi)
    for fam in a.family_names():
        f = a.family(fam)
        if f.kind == "set":
            continue
        groups: dict[int, list[str]] = {}
        for name, v in f.members.items():
            if v is not None and f.member(name).role == "":
                groups.setdefault(v, []).append(name)
        for v, names in groups.items():
            if len(names) > 1:
                assert any(n in f.prefer for n in names), (abi, fam, v, names)
                assert f.decode(v) == [f._by_value[v]] or f.kind == "flags"


def test_preferred_names_in_decode() -> None:
    lx, nb = tables.load_abi("linux-x86_64"), tables.load_abi("netbsd-amd64")
    assert lx.family("mmap.flags").decode(0x22) == ["MAP_PRIVATE", "MAP_ANONYMOUS"]
    assert lx.family("socket.domain").decode(1) == ["AF_UNIX"]
    assert nb.family("mmap.flags").decode(0x1002) == ["MAP_PRIVATE", "MAP_ANON"]
    assert nb.family("open_flags").decode(4) == ["O_RDONLY", "O_NONBLOCK"]
    assert tables.load_abi("darwin-x86_64").family("open_flags").decode(1) == ["O_WRONLY"]


FLAG_FAMILIES = sorted({(abi, fam) for abi in ABIS for fam in tables.load_abi(abi).family_names()
                        if tables.load_abi(abi).family(fam).kind == "flags"})


@given(pair=st.sampled_from(FLAG_FAMILIES), value=st.integers(min_value=0, max_value=2**32 - 1))
def test_flag_decode_accounts_for_every_bit(pair: tuple[str, str], value: int) -> None:
    """decode_parts splits any value into names and leftover bits that recombine exactly."""
    fam = tables.load_abi(pair[0]).family(pair[1])
    names, rest = fam.decode_parts(value)
    assert len(set(names)) == len(names)
    if fam.kind == "flags" and fam.fields and pair[1] == "clone":
        # the clone exit-signal byte decodes through the signals family
        sig = tables.load_abi(pair[0]).signals
        known = sum(fam.members[n] or 0 for n in names if n in fam.members)
        known |= sum(sig.members[n] or 0 for n in names if n not in fam.members)
    else:
        known = fam.encode(names)
    assert known | rest == value and known & rest == 0


@given(abi=st.sampled_from(ABIS), value=st.integers(min_value=-200, max_value=200))
def test_enum_decode_round_trip(abi: str, value: int) -> None:
    errno = tables.load_abi(abi).errno
    names, rest = errno.decode_parts(value)
    if names:
        assert errno.value(names[0]) == value and rest == 0
    else:
        assert rest == value and value not in errno.supported().values()
    assert tables.load_abi("linux-x86_64").errno.decode(512) == ["ERESTARTSYS"]


@pytest.mark.parametrize("edit,fragment", [
    (('endian = "little"\nuname = ["tx"]\nelf_machine = 62\n', ""), "abi t-linux: missing key 'endian'"),
    (('elf_machine = 62', 'elf_machine = "EM_X86_64"'), "elf_machine must be an integer"),
    (('elf_machine = 62', 'elf_mashine = 62'), "unknown key(s) elf_mashine"),
    (('endian = "little"\nuname = ["tx"]\nelf', 'endian = "middle"\nuname = ["tx"]\nelf'), "endian must be"),
    (('elf_machine = 62', 'personalities = { "16" = "t-linux" }'), "personalities maps 64/32/x32"),
])
def test_reject_bad_abi_facts(tmp_path: Path, edit: tuple[str, str], fragment: str) -> None:
    root = make_root(tmp_path, **{"abis.toml": ABIS_TOML.replace(*edit)})
    with pytest.raises(InputError) as ei:
        Tables(root).list_abis()
    assert str(ei.value).startswith("tables/abis.toml:1: ") and fragment in str(ei.value)


def test_find_abis_by_fact(tmp_path: Path) -> None:
    t = Tables(make_root(tmp_path))
    assert t.find_abis(uname="tx") == ["t-linux", "t-freebsd"]
    assert t.find_abis(os="linux", machine=62) == ["t-linux"]
    assert t.find_abis(machine=3) == []
    assert REAL.facts("linux-x86_64").audit_arch == 0xC000003E
    assert REAL.find_abis(os="linux", uname="aarch64") == ["linux-aarch64"]


# --------------------------------------------------------------------------- one generic Linux table

@pytest.mark.parametrize("abi", [a for a in DECLARED if tables.facts(a).os == "linux"])
@pytest.mark.parametrize("number,name", [(463, "setxattrat"), (466, "removexattrat"),
                                         (467, "open_tree_attr"), (469, "file_setattr"),
                                         (470, "listns")])
def test_new_linux_slots_on_every_linux_abi(abi: str, number: int, name: str) -> None:
    """Linux 6.13-6.18 numbers are shared by every architecture (the generic numbers from 424 on)."""
    assert tables.load_abi(abi).syscall(name).number == number


def test_generic_table_filtered_per_abi() -> None:
    """arm64 and riscv64 read one table; the abi column decides (arch/*/kernel/Makefile.syscalls)."""
    arm, rv = tables.load_abi("linux-aarch64"), tables.load_abi("linux-riscv64")
    assert arm.spec["syscalls"] == rv.spec["syscalls"] == "syscalls/linux-generic.csv"
    assert arm.syscall("renameat").number == 38 and "renameat" not in rv.by_name   # riscv has no renameat
    assert rv.syscall("riscv_hwprobe").number == 258 and rv.syscall(259).name == "riscv_flush_icache"
    assert "riscv_hwprobe" not in arm.by_name
    assert rv.syscall("getrlimit").number == arm.syscall("getrlimit").number == 163
    assert rv.syscall("memfd_secret").number == 447
    # time32 / 32-bit rows of the same numbers are not in a 64-bit ABI
    assert rv.syscall(62).name == "lseek" and "llseek" not in rv.by_name
    assert rv.syscall("lookup_dcookie").status == "unimplemented"     # sys_ni_syscall upstream
    f = tables.facts("linux-riscv64")
    assert (f.elf_machine, f.audit_arch, f.uname) == (243, 0xC00000F3, ("riscv64",))


@pytest.mark.parametrize("abi,value", [("linux-x86_64", 0x40), ("linux-i386", 0x40),
                                       ("linux-aarch64", None), ("linux-riscv64", None)])
def test_x86_mmap_flags_do_not_leak(abi: str, value: int | None) -> None:
    """The Linux base is asm-generic; only the x86 overlay has MAP_32BIT."""
    fam = tables.load_abi(abi).family("mmap.flags")
    assert fam.value("MAP_32BIT") == value
    assert fam.value("MAP_ANONYMOUS") == 0x20


def test_filter_makes_numbers_unique(tmp_path: Path) -> None:
    """A shared table may repeat a number across abis; one ABI's filter must not keep two."""
    shared = SYSCALLS.replace("upstream-rows: 3", "upstream-rows: 4") + "0,read64,implemented,64,,,\n"
    toml = ABIS_TOML.replace('consts_arch = "x"\n', 'consts_arch = "x"\nsyscall_abis = ["common", "64"]\n')
    root = make_root(tmp_path, **{"abis.toml": toml, "syscalls/t-linux.csv": shared})
    expect_error(root, "tables/syscalls/t-linux.csv:7:", r"duplicate number 0 \(first at line 4\)")
    only = make_root(tmp_path / "b", **{"abis.toml": toml.replace('"common", "64"', '"common"'),
                                        "syscalls/t-linux.csv": shared})
    abi = Tables(only).load_abi("t-linux")
    assert [s.name for s in abi.syscalls] == ["read", "openat"]
