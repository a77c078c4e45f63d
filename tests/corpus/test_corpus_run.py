# SPDX-License-Identifier: MIT
"""``shimsim corpus`` end to end: mixed inputs, bad inputs, resume, reports, and the
same tables serially, on a local Dask cluster and on a real scheduler with workers."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shimsim import cli, corpus

FIX = Path(__file__).resolve().parents[1] / "fixtures"
LOUPE = FIX / "loupedb"
LS = FIX / "replay" / "ls_plain.strace"
TRUSS = FIX / "truss_freebsd" / "gh_freebsd_valgrind189_pid_sigset.log"
ELF = "/bin/true"
SHIMS = ["gvisor", "linuxulator", "wsl1", "native"]


def _tables(res: corpus.Result) -> dict:
    t = res.tables(None)
    t.pop("run")
    return t


def _cli_json(argv: list[str], capsys) -> tuple[int, dict]:
    rc = cli.main([*argv, "--json"])
    out = capsys.readouterr().out
    return rc, json.loads(out)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A directory with a loupedb subset, traces of two formats, an ELF, a non-trace and a bad trace."""
    d = tmp_path / "corpus"
    shutil.copytree(LOUPE, d / "loupedb")
    (d / "traces").mkdir()
    shutil.copy(LS, d / "traces" / "ls.strace")
    shutil.copy(TRUSS, d / "traces" / "valgrind.truss")
    shutil.copy(ELF, d / "true")
    (d / "notes.txt").write_text("just some notes\nnothing traced here\n")
    return d


def test_mixed_inputs_each_kind_is_scored(mixed):
    res = corpus.run([str(mixed)], SHIMS)
    t = res.tables(None)
    assert t["kinds"] == {"elf": 1, "loupe": 8, "trace": 2}
    assert t["skipped"] == 3 and t["errors"] == 0     # notes.txt + loupedb README.md and SOURCES.csv
    shims = {s["shim"]: s for s in t["shims"]}
    # the FreeBSD truss trace has no layer under the Linux-guest shims
    assert shims["linuxulator"]["no_layer"] == 1 and shims["gvisor"]["no_layer"] == 1
    assert shims["native"]["breaks"] == 0
    blockers = {b["syscall"] for b in shims["linuxulator"]["blockers"]}
    assert {"io_setup", "io_submit", "io_getevents"} <= blockers
    names = {c["syscall"] for c in t["syscalls"]}
    assert {"openat", "execve", "read"} <= names


def test_a_bad_input_is_one_error_row_and_the_run_goes_on(tmp_path, capsys):
    bad = tmp_path / "broken.strace"
    bad.write_text("this is not\na trace at all\n")
    gone = tmp_path / "missing.strace"
    rc, doc = _cli_json(["corpus", str(bad), str(gone), str(LS), "--shim", "gvisor"], capsys)
    assert rc == 0 and doc["inputs"] == 1 and doc["errors"] == 2
    errs = {e["input"]: e["error"] for e in doc["error_list"]}
    assert "cannot recognise" not in errs[str(bad)] and str(bad) in errs[str(bad)]
    assert "no such file" in errs[str(gone)]
    rc = cli.main(["corpus", str(bad), "--shim", "gvisor"])
    cap = capsys.readouterr()
    assert rc == 2 and "no input could be scored" in cap.err and f"error: {bad}" in cap.out


def test_usage_errors_exit_2(tmp_path, capsys):
    for argv, what in ((["corpus", str(LS)], "--shim"), (["corpus", str(LS), "--shim", "nosuch"], "unknown shim"),
                       (["corpus", str(LS), "--shim", "gvisor", "--resume"], "--resume needs --jsonl"),
                       (["corpus", "import-loupe", "--shim", "gvisor"], "checkout directory"),
                       (["corpus", str(LS), "--shim", "gvisor", "--jobs", "0"], "--jobs")):
        assert cli.main(argv) == 2
        assert what in capsys.readouterr().err


def test_import_loupe_and_a_weights_file(tmp_path, capsys):
    w = tmp_path / "weights"
    w.write_text("aio-stress 5\nbusybox 1\n")
    rc, doc = _cli_json(["corpus", "import-loupe", str(LOUPE), "--shim", "linuxulator", "--weights", str(w)], capsys)
    assert rc == 0 and doc["inputs"] == 8 and doc["unweighted"] == 6 and doc["total_weight"] == 6
    (L,) = doc["shims"]
    assert L["completeness"] == pytest.approx(1 / 6)              # busybox runs, aio-stress (5) breaks
    assert L["blockers"][0]["weight"] == 5 and L["blockers"][0]["syscall"] in ("io_getevents", "io_setup", "io_submit")
    rc = cli.main(["corpus", "import-loupe", str(tmp_path), "--shim", "gvisor"])
    assert rc == 2 and "not a loupedb checkout" in capsys.readouterr().out


def test_resume_skips_done_inputs_and_survives_a_torn_last_line(mixed, tmp_path):
    out = tmp_path / "results.jsonl"
    full = corpus.run([str(mixed)], SHIMS, out=str(out))
    lines = out.read_text().splitlines(keepends=True)
    assert len(lines) == full.analysed == 14                    # 11 scored + 3 skipped rows
    assert all(json.loads(ln)["key"] for ln in lines)
    out.write_text("".join(lines[:9]) + lines[9][: len(lines[9]) // 2])   # killed while writing row 10
    again = corpus.run([str(mixed)], SHIMS, out=str(out), resume=True)
    assert (again.reused, again.analysed) == (9, 5)
    assert _tables(again) == _tables(full)
    rows = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert len(rows) == 14 and len({r["key"] for r in rows}) == 14
    third = corpus.run([str(mixed)], SHIMS, out=str(out), resume=True)
    assert (third.reused, third.analysed) == (14, 0) and _tables(third) == _tables(full)
    # other shims: other keys, everything analysed again
    other = corpus.run([str(mixed)], ["gvisor"], out=str(out), resume=True)
    assert other.reused == 0 and other.analysed == 14


def test_html_and_csv_reports(mixed, tmp_path, capsys):
    hostile = mixed / "traces" / "<script>alert(1)<\\script>.strace"
    shutil.copy(LS, hostile)
    (mixed / "traces" / "bad<b>.strace").write_text("garbage\n")
    html, csvf = tmp_path / "c.html", tmp_path / "c.csv"
    rc = cli.main(["corpus", str(mixed), str(mixed / "traces" / "bad<b>.strace"), "--shim", "gvisor",
                   "--shim", "wsl1", "--html", str(html), "--csv", str(csvf)])
    out = capsys.readouterr().out
    assert rc == 0 and "wsl1" in out and "completeness" in out
    page = html.read_text()
    assert "<b>" not in page and "bad&lt;b&gt;.strace" in page and "<script>alert" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")   # self-contained
    assert 'id="matrix"' in page and "set_robust_list" in page
    with csvf.open() as fh:
        rows = list(csv.DictReader(fh))
    by = {r["syscall"]: r for r in rows}
    assert by["set_robust_list"]["wsl1 outcome"] == "stubbed" and float(by["set_robust_list"]["wsl1 breaks weight"]) >= 1
    assert by["read"]["gvisor outcome"] and float(by["read"]["importance"]) > 0.5


@pytest.mark.slow
def test_local_dask_cluster_gives_the_serial_tables(mixed):
    pytest.importorskip("distributed", reason="the corpus extra (dask distributed) is not installed")
    serial = corpus.run([str(mixed)], SHIMS)
    local = corpus.run([str(mixed)], SHIMS, jobs=2)
    assert local.executor == "dask local x2" and local.analysed == serial.analysed
    assert _tables(local) == _tables(serial)


@pytest.mark.slow
def test_a_real_scheduler_and_two_workers_give_the_serial_tables(mixed, tmp_path):
    pytest.importorskip("distributed", reason="the corpus extra (dask distributed) is not installed")
    dask = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")
    if dask is None:
        pytest.skip("the dask command is not installed")
    sfile = tmp_path / "scheduler.json"
    logs = [open(tmp_path / f"{n}.log", "w") for n in ("scheduler", "worker1", "worker2")]  # noqa: SIM115
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sfile), "--idle-timeout", "120s"],
                              stdout=logs[0], stderr=subprocess.STDOUT, start_new_session=True)]
    try:
        deadline = time.monotonic() + 60
        while not sfile.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sfile.exists(), (tmp_path / "scheduler.log").read_text()
        for log in logs[1:]:
            procs.append(subprocess.Popen([dask, "worker", "--scheduler-file", str(sfile), "--nthreads", "1",
                                           "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1",
                                           "--death-timeout", "30s", "--local-directory", str(tmp_path)],
                                          stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        address = json.loads(sfile.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        from distributed import Client
        with Client(address, timeout="30s") as c:
            c.wait_for_workers(2, timeout=60)
            assert len(c.scheduler_info()["workers"]) == 2
        serial = corpus.run([str(mixed)], SHIMS)
        remote = corpus.run([str(mixed)], SHIMS, scheduler=address)
        assert remote.executor == f"dask {address}"
        assert _tables(remote) == _tables(serial)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, 15)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()
        for log in logs:
            log.close()


def _crashing_analysis(batch, shims, engine):
    """Runs on a worker: an input named 'crash.strace' kills the worker process, as a crash
    in the C core would; every other input is analysed for real."""
    from shimsim.corpus import analysis
    if any(i.name == "crash.strace" for i in batch):
        os._exit(11)
    return analysis.analyze_many(batch, shims, engine)


@pytest.mark.slow
def test_an_input_that_kills_its_worker_is_retried_then_one_error_row(tmp_path):
    pytest.importorskip("distributed", reason="the corpus extra (dask distributed) is not installed")
    import cloudpickle
    import dask

    from shimsim.corpus import execute, inputs
    cloudpickle.register_pickle_by_value(sys.modules[__name__])   # the workers cannot import this test module
    for i in range(5):
        shutil.copy(LS, tmp_path / f"ls{i}.strace")
    (tmp_path / "crash.strace").write_text((tmp_path / "ls0.strace").read_text() + "getpid() = 7\n")
    todo = list(inputs.discover([str(tmp_path)], []))
    rows: list[dict] = []
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        c = execute.dask_client(2)
        try:
            execute.distributed(todo, ["gvisor"], "c", rows.append, c, chunk=3, fn=_crashing_analysis)
        finally:
            cluster = c.cluster
            c.close()
            cluster.close()
    assert len(rows) == 6
    bad = [r for r in rows if r["error"]]
    assert len(bad) == 1 and bad[0]["input"].endswith("crash.strace")
    assert "analysis failed on the worker after retries" in bad[0]["error"]
    assert all(r["shims"]["gvisor"]["verdict"] == "emulated" for r in rows if not r["error"])
