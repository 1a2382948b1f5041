"""Tests of the grader itself (conftest.py, shuttle_qemu.py), with fake_qemu.py as QEMU.

Run: /usr/bin/python3 -m pytest grade/selftest -q
"""

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time

import pytest

from shuttle_qemu import (ConfigError, ConsoleTimeout, KernelPanic, KernelTestFailed,
                          QemuExited, load_config, qemu_command)

HERE = os.path.dirname(os.path.abspath(__file__))
GRADE = os.path.dirname(HERE)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """A build/shuttle.json whose "qemu" is fake_qemu.py. Returns a function that sets the
    fake's script: fake("line", "@exit 3")."""
    qemu = tmp_path / "qemu"
    qemu.write_text(f'#!/bin/sh\nexec {sys.executable} {HERE}/fake_qemu.py "$@"\n')
    qemu.chmod(0o755)
    (tmp_path / "build" / "kern").mkdir(parents=True)
    (tmp_path / "build" / "kern" / "kernel.elf").write_text("")
    config = {"qemu": str(qemu), "machine": "virt", "bios": "none",
              "kernel": "build/kern/kernel.elf", "initrd": None, "cpus": 4, "mem": "256M",
              "root": str(tmp_path)}
    (tmp_path / "build" / "shuttle.json").write_text(json.dumps(config))
    monkeypatch.setenv("SHUTTLE_CONFIG", str(tmp_path / "build" / "shuttle.json"))
    return lambda *lines: monkeypatch.setenv("FAKE_QEMU_SCRIPT", "\n".join(lines))


def alive(pid):
    """Is pid a running (not zombie) fake_qemu?"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open(f"/proc/{pid}/cmdline") as f:
            return state != "Z" and "fake_qemu" in f.read()
    except FileNotFoundError:
        return False


# --- configuration and command line ---

def test_missing_config_message(tmp_path, monkeypatch):
    monkeypatch.delenv("SHUTTLE_CONFIG", raising=False)
    with pytest.raises(ConfigError) as e:
        load_config(str(tmp_path))
    assert str(e.value) == "build/shuttle.json not found: run `scons` first (or `scons test`)"


def test_command_line(fake, tmp_path):
    config = load_config(GRADE)
    assert config.kernel == str(tmp_path / "build/kern/kernel.elf")   # relative to "root"
    cmd = qemu_command(config, "ktest=all nonce=ab12", cpus=8, icount=True, gdb_port=1234,
                       machine="virt,aclint=on", extra_args=["-nic", "none"])
    assert cmd[0] == str(tmp_path / "qemu")
    joined = " ".join(cmd)
    for part in ["-machine virt,aclint=on", "-bios none", f"-kernel {config.kernel}",
                 "-smp 8", "-m 256M", "-chardev stdio,id=ttyS0,signal=off",
                 "-serial chardev:ttyS0", "-monitor none", "-icount shift=0",
                 "-S -gdb tcp:127.0.0.1:1234", "-nic none"]:
        assert part in joined
    assert cmd[cmd.index("-append") + 1] == "ktest=all nonce=ab12"
    assert "-initrd" not in cmd and "-nographic" not in cmd
    plain = qemu_command(config, "nonce=1")
    assert "-icount" not in plain and "-S" not in plain and "-smp 4" in " ".join(plain)


def test_each_boot_gets_a_nonce(fake, shuttle):
    fake("args done")
    a, b = shuttle.boot(bootargs="ktest=x"), shuttle.boot()
    assert a.nonce != b.nonce and len(a.nonce) == 12
    assert a.bootargs == f"ktest=x nonce={a.nonce}"


def test_missing_kernel(fake, shuttle, tmp_path):
    os.remove(tmp_path / "build/kern/kernel.elf")
    with pytest.raises(pytest.fail.Exception, match="kernel .* not found: run `scons`"):
        shuttle.boot()


# --- the console ---

def test_nonce_filtering(fake, shuttle):
    fake("TEST a: ok deadbeef0000", "TEST b: ok", "TEST c: ok {nonce}",
         "TEST d: FAIL it broke badly {nonce}", "TEST e: ok {nonce} trailing", "done", "@hang")
    m = shuttle.boot()
    m.expect("^done$")
    assert m.test_results() == {"c": (True, ""), "d": (False, "it broke badly")}
    m.expect_test("c")
    with pytest.raises(ConsoleTimeout) as e:
        m.expect_test("a", timeout=0.5)
    assert "`TEST a: ok`" in str(e.value) and "TEST a: ok deadbeef0000" in str(e.value)


def test_fail_reason_surfaced(fake, shuttle):
    fake("TEST d: FAIL it broke badly {nonce}", "TEST d: ok {nonce}", "@hang")
    m = shuttle.boot()
    with pytest.raises(KernelTestFailed, match="kernel test d failed: it broke badly"):
        m.expect_test("d")


def test_expect_test_waits(fake, shuttle):
    fake("@sleep 0.3", "TEST slow: ok {nonce}", "@hang")
    shuttle.boot().expect_test("slow", timeout=10)


def test_panic_fails_fast(fake, shuttle):
    fake("booting", "panic: page fault at 0x0", "  backtrace: trap.c:42", "@hang")
    m = shuttle.boot()
    start = time.monotonic()
    with pytest.raises(KernelPanic) as e:
        m.expect("4 harts online", timeout=30)
    assert time.monotonic() - start < 5
    message = str(e.value)
    assert "/4 harts online/" in message and "panic: page fault at 0x0" in message
    assert "backtrace: trap.c:42" in message and m.log_path in message


def test_panic_allowed(fake, shuttle):
    fake("panic: on purpose", "after the panic", "@exit 1")
    m = shuttle.boot()
    assert m.expect(r"panic: (.*)$").group(1) == "on purpose"
    m.expect("after the panic", allow_panic=True)
    m2 = shuttle.boot()
    m2.expect("after the panic", allow_panic=True)
    assert m2.wait_exit(timeout=10) == 1


def test_wait_exit_returns_status(fake, shuttle):
    fake("bye", "@exit 3")
    m = shuttle.boot()
    assert m.wait_exit(timeout=10) == 3
    assert m.log == "bye\n"          # carriage returns dropped


def test_qemu_exit_while_expecting(fake, shuttle):
    fake("@exit 7")
    with pytest.raises(QemuExited, match=r"QEMU exited \(status 7\) while waiting for /never/"):
        shuttle.boot().expect("never")


def test_timeout_names_what_and_scales(fake, shuttle, monkeypatch):
    monkeypatch.setenv("SHUTTLE_TIMEOUT_SCALE", "0.05")
    fake("line one", "line two", "@hang")
    m = shuttle.boot()
    start = time.monotonic()
    with pytest.raises(ConsoleTimeout) as e:
        m.expect("never", timeout=10)
    assert time.monotonic() - start < 3
    assert "timed out after 0.5 s waiting for /never/" in str(e.value)
    assert "line one\nline two" in str(e.value)


def test_sendline(fake, shuttle):
    fake("@echo")
    m = shuttle.boot()
    m.sendline("ls")
    m.expect("^echo: ls$", timeout=10)


def test_log_files(fake, shuttle, tmp_path):
    fake("hello {nonce}")
    first, second = shuttle.boot(), shuttle.boot()
    first.wait_exit(timeout=10), second.wait_exit(timeout=10)
    logs = tmp_path / "build" / "grade-logs"
    name = "selftest_test_harness.py_test_log_files"
    assert first.log_path == str(logs / f"{name}.log")
    assert second.log_path == str(logs / f"{name}-2.log")
    first.kill()
    text = (logs / f"{name}.log").read_text()
    assert text.startswith("# ") and f"hello {first.nonce}\n" in text


def test_kill_escalates_to_sigkill(fake, shuttle):
    fake("@ignore-term", "ready", "@hang")
    m = shuttle.boot()
    m.expect("ready")
    m.kill(grace=0.3)
    assert not alive(m.pid)
    m.kill()        # a second kill is harmless


# --- the plugin, run in an inner pytest ---

INNER_TESTS = '''
import os
import pytest

@pytest.mark.points(10)
def test_boots(shuttle, monkeypatch):
    """Kernel boots"""
    monkeypatch.setenv("FAKE_QEMU_SCRIPT", "4 harts online\\n@exit 0")
    m = shuttle.boot()
    m.expect("4 harts online")
    assert m.wait_exit() == 0

@pytest.mark.points(5)
def test_hangs(shuttle, monkeypatch):
    """QEMU is killed even when the test fails"""
    pidfile = os.environ["PIDFILE"]
    monkeypatch.setenv("FAKE_QEMU_SCRIPT", f"@pidfile {pidfile}\\nstill running\\n@hang")
    m = shuttle.boot()
    m.expect("still running")
    assert False, "deliberate failure"

@pytest.mark.points(2)
@pytest.mark.parametrize("cpus", [1, 4])
def test_cpus(shuttle, monkeypatch, cpus):
    """All harts come online"""
    monkeypatch.setenv("FAKE_QEMU_SCRIPT", "TEST harts: FAIL hart 3 missing {nonce}\\n@hang")
    m = shuttle.boot(cpus=cpus)
    if cpus == 4:
        m.expect_test("harts")

def test_no_points():
    pass
'''


def run_inner(tmp_path, test_source, *args, env=None):
    grade = tmp_path / "grade"
    grade.mkdir()
    for name in ("conftest.py", "shuttle_qemu.py", "pytest.ini"):
        shutil.copy(os.path.join(GRADE, name), grade)
    (grade / "test_inner.py").write_text(textwrap.dedent(test_source))
    env = dict(os.environ, **(env or {}))
    env.pop("SHUTTLE_TIMEOUT_SCALE", None)
    return subprocess.run([sys.executable, "-m", "pytest", str(grade), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


def test_score_table_and_gradescope(fake, tmp_path):
    results = tmp_path / "results.json"
    run = run_inner(tmp_path, INNER_TESTS, "--gradescope", str(results),
                    env={"PIDFILE": str(tmp_path / "fake.pid")})
    out = run.stdout
    assert run.returncode == 1, out
    table = out[out.index("Shuttle score"):out.index("Score: ")].splitlines()[1:]
    assert table == ["  Kernel boots                             10/10  PASS",
                     "  QEMU is killed even when the test fails    0/5  FAIL",
                     "  All harts come online [cpus=1]             2/2  PASS",
                     "  All harts come online [cpus=4]             0/2  FAIL"]
    assert "\nScore: 12/19\n" in out
    # the failing test shows the console tail and the log
    assert "deliberate failure" in out and "still running" in out
    assert "build/grade-logs/test_inner.py_test_hangs.log" in out
    assert "kernel test harts failed: hart 3 missing" in out
    pid = int((tmp_path / "fake.pid").read_text())
    assert not alive(pid), "the hanging fake QEMU outlived its test"

    gradescope = json.loads(results.read_text())
    assert gradescope["score"] == 12 and gradescope["max_score"] == 19
    assert gradescope["visibility"] == "visible"
    tests = {t["name"]: t for t in gradescope["tests"]}
    assert len(tests) == 4 and "test_no_points" not in out.split("Shuttle score")[1]
    assert tests["Kernel boots"] == {"name": "Kernel boots", "score": 10, "max_score": 10,
                                     "output": ""}
    assert "hart 3 missing" in tests["All harts come online [cpus=4]"]["output"]
    assert "still running" in tests["QEMU is killed even when the test fails"]["output"]
    assert tests["All harts come online [cpus=4]"]["score"] == 0


def test_no_points_no_score_line(fake, tmp_path):
    run = run_inner(tmp_path, "def test_plain():\n    pass\n")
    assert run.returncode == 0, run.stdout
    assert "Score:" not in run.stdout and "Shuttle score" not in run.stdout


def test_missing_config_fails_the_test(tmp_path):
    source = '''
        import pytest

        @pytest.mark.points(3)
        def test_boot(shuttle):
            """Boots"""
            shuttle.boot()
    '''
    run = run_inner(tmp_path, source, env={"SHUTTLE_CONFIG": ""})
    assert "1 failed" in run.stdout, run.stdout
    assert "build/shuttle.json not found: run `scons` first (or `scons test`)" in run.stdout
    assert "Score: 0/3" in run.stdout and "During handling" not in run.stdout
