"""The GDB helpers (tools/gdb/shuttle.py) against a running kernel.

Boots the shell on 1 and 2 harts with QEMU's GDB stub, starts `spin &`, and attaches
gdb-multiarch in batch mode (attaching stops every hart wherever it is). The shell then
waits in ipc_call for the console server to answer its read: the walk-through in the
README's GDB section. On one hart GDB almost always stops that hart in spin's user code,
where QEMU's stub cannot read kernel memory until the helpers switch its view. Each `shuttle` command runs against that state, and its output is
checked against what the kernel must show: both harts, spin on one of them, the shell
waiting for a reply from a thread of con, the servers queued on their endpoints. A helper
that breaks when a kernel struct changes fails here.
"""

import os
import re
import shutil
import subprocess

import pytest

from shuttle_qemu import load_config

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROMPT = r"^\$ $"
COMMANDS = ["help shuttle", "shuttle harts", "shuttle threads", "shuttle procs", "shuttle rq",
            "shuttle rq 0", "shuttle ipc", "shuttle log 2000"]


def run_gdb(port, commands, tmp_path):
    """Attach to QEMU, run the commands, detach (the machine runs on); the output with a
    `=== COMMAND` line before each command's."""
    gdb = shutil.which("gdb-multiarch")
    assert gdb, "gdb-multiarch not found: install it with `apt-get install gdb-multiarch`"
    lines = ["set confirm off", "set pagination off", "set width 0",
             f"file {load_config(REPO_ROOT).kernel}",
             f"source {os.path.join(REPO_ROOT, 'tools', 'gdb', 'shuttle.py')}",
             f"target remote 127.0.0.1:{port}"]
    for c in commands:
        lines += [f"echo === {c}\\n", c]
    lines += ["detach", "quit"]
    script = tmp_path / "script.gdb"
    script.write_text("\n".join(lines) + "\n")
    r = subprocess.run([gdb, "-q", "-nx", "-batch", "-x", str(script)], capture_output=True,
                       text=True, timeout=60)
    assert not re.search(r"Python Exception|Error occurred|^shuttle", r.stderr, re.M), \
        f"a helper failed:\n{r.stderr}\n{r.stdout}"
    return r.stdout


def sections(out):
    """{command: its output}."""
    parts = re.split(r"^=== (.*)$", out, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@pytest.fixture(params=[1, 2])
def stopped_shell(shuttle, tmp_path, request):
    """A shell at its prompt with `spin &` running, and the output of every command."""
    port = 29000 + os.getpid() % 900
    cpus = request.param
    m = shuttle.boot(cpus=cpus, extra_args=["-gdb", f"tcp:127.0.0.1:{port}"])
    m.expect(PROMPT)
    m.sendline("spin &")
    m.expect(PROMPT)
    out = run_gdb(port, COMMANDS, tmp_path)
    return m, port, cpus, sections(out)


def pid_of(procs, name):
    found = re.findall(rf"^pid (\d+) {name}: alive", procs, re.MULTILINE)
    assert len(found) == 1, f"shuttle procs shows {len(found)} live {name} processes:\n{procs}"
    return int(found[0])


def test_gdb_helpers_show_the_machine(stopped_shell, tmp_path):
    """shuttle harts/threads/procs/rq/ipc/log show the harts, the shell waiting on con, the servers"""
    m, port, cpus, out = stopped_shell
    assert set(COMMANDS) <= set(out), f"missing output for {set(COMMANDS) - set(out)}"
    for name in ("harts", "threads", "procs", "rq", "ipc", "log", "trap"):
        assert re.search(rf"^shuttle {name} -- \S", out["help shuttle"], re.MULTILINE), \
            f"`help shuttle` has no line for {name}:\n{out['help shuttle']}"

    procs = out["shuttle procs"]
    sh, con, spin, ns = (pid_of(procs, n) for n in ("sh", "con", "spin", "ns"))
    assert pid_of(procs, "init") == 1, procs
    assert re.search(r"^  handle +\d+ +endpoint \d+ +rights [a-z,]*recv", procs, re.MULTILINE), \
        f"no server holds an endpoint with the right to receive:\n{procs}"

    harts = out["shuttle harts"]
    rows = re.findall(r"^ +(\d+) +(\d+) +yes ", harts, re.MULTILINE)
    assert [int(r[0]) for r in rows] == list(range(cpus)), f"want {cpus} harts online:\n{harts}"
    assert re.search(rf"thread \d+ spin \(pid {spin}\)", harts), f"spin runs on no hart:\n{harts}"
    assert len(re.findall(r"^ +(user|kernel) pc 0x", harts, re.MULTILINE)) == cpus, harts

    threads = out["shuttle threads"]
    # TID NAME PID STATE PRI AFFINITY LAST(-HART) WAITS-ON: the shell has run, on some hart.
    line = re.search(rf"^ +(\d+) sh +{sh} blocked +\d +0x[0-9a-f]+ +(\d+)  .*$", threads,
                     re.MULTILINE)
    assert line, f"the shell's thread is not blocked, or has no last hart:\n{threads}"
    assert int(line.group(2)) < cpus, line.group(0)
    never_ran = re.findall(r"^ +\d+ \S+ +\d+ (?:blocked|sleeping) +\d +0x[0-9a-f]+ +-  .*$", threads,
                           re.MULTILINE)
    assert not never_ran, f"waiting threads without a last hart: {never_ran}"
    sh_tid = int(line.group(1))
    assert re.search(rf"waits for the reply from thread \d+ con \(pid {con}\)", line.group(0)), \
        f"the shell does not wait for a reply from con: {line.group(0)}"
    assert re.search(rf"^ +\d+ ns +{ns} blocked .* queued to recv on endpoint \d+", threads,
                     re.MULTILINE), f"ns is not waiting to receive:\n{threads}"

    ipc = out["shuttle ipc"]
    served = re.search(rf"^endpoint (\d+): .*served by [^;]*con\[{con}\][^;]*; clients .*"
                       rf"sh\[{sh}\]", ipc, re.MULTILINE)
    assert served, f"no endpoint served by con with sh as a client:\n{ipc}"
    assert re.search(rf"^endpoint \d+: recv, .*served by [^;]*ns\[{ns}\].*\n  queued: thread \d+ "
                     rf"ns \(pid {ns}\) \(recv\)$", ipc, re.MULTILINE), \
        f"ns's endpoint does not show ns queued to receive:\n{ipc}"
    assert re.search(rf"^  thread {sh_tid} sh \(pid {sh}\) waits for thread \d+ con \(pid {con}\), "
                     r"which sleeps on notify ", ipc, re.MULTILINE), \
        f"the shell is not listed as waiting for con's reply:\n{ipc}"

    rq = out["shuttle rq"]
    assert re.search(r"^policy: global$", rq, re.MULTILINE), rq
    every = ",".join(str(i) for i in range(cpus))
    assert re.search(rf"^run queue of harts {every}: \d+ threads", rq, re.MULTILINE), rq
    assert re.search(r"^run queue of hart 0: \d+ threads", out["shuttle rq 0"], re.MULTILINE)

    log = out["shuttle log 2000"]
    assert f"{cpus} harts online" in log and "init: starting ns, con" in log, \
        f"the kernel's console log lacks the boot lines:\n{log}"

    # The shell's trap frame: it entered through the ecall in its ipc_call stub.
    trap = run_gdb(port, [f"shuttle trap {sh_tid}"], tmp_path)
    assert re.search(rf"thread {sh_tid} sh \(pid {sh}\), blocked", trap), trap
    assert re.search(r"sepc 0x[0-9a-f]+ <sh:ipc_call\+0x[0-9a-f]+>", trap), trap
    assert "entered by an ecall from U-mode" in trap, trap

    # The machine runs on after GDB detached.
    m.sendline("echo after gdb")
    m.expect(r"^after gdb$")
