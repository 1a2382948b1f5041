"""The shell (user/bin/sh.c) driven through the console as a user would type: pipes,
redirection to files in fs, the boot archive under /bin, a missing command, programs
started in the shell's directory, and ^C.
init starts sh when booted without run=...; each test runs at 1 and 4 harts, and some
under sched=perhart as well.
"""

import re

import pytest

from shuttle_qemu import ConsoleTimeout

PROMPT = r"^\$ $"   # the shell's prompt, at the start of a line, nothing typed yet


# (cpus, sched): the baseline at 1 and 4 harts, and sched=perhart at 2.
POLICIES = [(1, "global"), (4, "global"), (2, "perhart")]


def boot_shell(shuttle, cpus, sched="global"):
    args = "sched=perhart schedcheck" if sched == "perhart" else ""
    m = shuttle.boot(cpus=cpus, bootargs=args, timeout=60)
    m.expect(r"init: starting ns, con, pm, fs")
    m.expect(PROMPT)
    return m


def run(m, line, timeout=30):
    """Types line, waits for the next prompt; returns what was printed in between
    (the echoed line first)."""
    start = len(m.log)
    m.sendline(line)
    m.expect(PROMPT, timeout=timeout)
    out = m.log[start:]
    return out[:out.rfind("$ ")]


def lines(output):
    """The output's lines after the echoed command line."""
    return output.split("\n")[1:]


@pytest.mark.points(2)
@pytest.mark.parametrize("cpus,sched", POLICIES)
def test_pipe(shuttle, cpus, sched):
    """`echo hi | cat` prints hi through a pipe"""
    m = boot_shell(shuttle, cpus, sched)
    assert "hi" in lines(run(m, "echo hi | cat"))
    out = lines(run(m, "echo one two | cat | cat"))
    assert "one two" in out, f"a three-stage pipeline printed {out}"


@pytest.mark.points(2)
@pytest.mark.parametrize("cpus,sched", POLICIES)
def test_redirection(shuttle, cpus, sched):
    """`>` writes a file, `>>` appends, `<` and cat read it back"""
    m = boot_shell(shuttle, cpus, sched)
    run(m, "echo hello > /tmp/f")
    run(m, "echo again >> /tmp/f")
    assert lines(run(m, "cat /tmp/f"))[:2] == ["hello", "again"]
    assert lines(run(m, "cat < /tmp/f"))[:2] == ["hello", "again"]
    run(m, "echo new > /tmp/f")
    assert lines(run(m, "cat /tmp/f"))[:1] == ["new"], "> did not truncate the file"
    assert "f" in lines(run(m, "ls /tmp"))


@pytest.mark.points(2)
@pytest.mark.parametrize("cpus", [1, 4])
def test_ls_bin(shuttle, cpus):
    """`ls /bin` lists the boot archive's programs; `ls /` shows the directories"""
    m = boot_shell(shuttle, cpus)
    names = lines(run(m, "ls /bin"))
    for program in ("sh", "cat", "echo", "ls", "init"):
        assert program in names, f"ls /bin does not list {program}: {names}"
    top = lines(run(m, "ls /"))
    assert "bin/" in top and "tmp/" in top, f"ls / printed {top}"


@pytest.mark.points(2)
@pytest.mark.parametrize("cpus", [1, 4])
def test_command_not_found(shuttle, cpus):
    """A program that does not exist: `sh: <cmd>: command not found`, and the shell goes on"""
    m = boot_shell(shuttle, cpus)
    out = run(m, "nosuchprogram arg")
    assert re.search(r"^sh: nosuchprogram: command not found$", out, re.MULTILINE), out
    assert "ok" in lines(run(m, "echo ok"))


@pytest.mark.points(2)
@pytest.mark.parametrize("cpus", [1, 4])
def test_directories(shuttle, cpus):
    """mkdir, rm and cd: a tree in fs's memory; /bin is read-only"""
    m = boot_shell(shuttle, cpus)
    run(m, "mkdir /tmp/d")
    run(m, "echo x > /tmp/d/f")
    assert lines(run(m, "ls /tmp"))[:1] == ["d/"]
    assert lines(run(m, "ls /tmp/d"))[:1] == ["f"]
    assert "directory not empty" in run(m, "rm /tmp/d")
    run(m, "rm /tmp/d/f")
    run(m, "rm /tmp/d")
    assert lines(run(m, "ls /tmp"))[:1] == [""], "rm left something in /tmp"
    assert re.search(r"^sh: /bin/new: permission denied", run(m, "echo x > /bin/new"),
                     re.MULTILINE), "writing into /bin was not refused"
    run(m, "cd /tmp")
    run(m, "echo y > rel")     # the shell resolves its redirections against its directory
    assert lines(run(m, "cat /tmp/rel"))[:1] == ["y"]


@pytest.mark.points(2)
@pytest.mark.parametrize("cpus", [1, 4])
def test_cd_programs(shuttle, cpus):
    """Programs start in the shell's directory: after `cd`, `ls` and `cat f` look there"""
    m = boot_shell(shuttle, cpus)
    run(m, "mkdir /tmp/d")
    run(m, "cd /tmp/d")
    run(m, "echo hi > f")
    assert lines(run(m, "ls"))[:1] == ["f"], "ls after cd /tmp/d did not list /tmp/d"
    assert lines(run(m, "cat f"))[:1] == ["hi"], "cat f after cd /tmp/d did not read /tmp/d/f"
    run(m, "cd /bin")
    names = lines(run(m, "ls"))
    for program in ("sh", "cat", "echo", "ls", "init"):
        assert program in names, f"ls after cd /bin does not list {program}: {names}"
    run(m, "cd ..")
    top = lines(run(m, "ls"))
    assert "bin/" in top and "tmp/" in top, f"ls after cd .. printed {top}"


def test_harts_shows_the_scheduler_counters(shuttle):
    """`harts` prints a row per hart with its steals, pushed threads, migrations and lock spins"""
    m = boot_shell(shuttle, 4, "perhart")
    out = lines(run(m, "harts"))
    header = out[0].split()
    for column in ("STEAL", "PUSHED", "MIGR", "SPINS"):
        assert column in header, f"harts printed no {column} column: {out[0]!r}"
    rows = [line.split() for line in out[1:] if line.strip()]
    assert len(rows) == 4 and all(len(r) == len(header) for r in rows), f"harts printed {out}"
    switches = header.index("SWITCHES")
    assert sum(int(r[switches]) for r in rows) > 0, f"no hart switched threads: {out}"


def interrupt(m, tries=5):
    """^C until the prompt is back. The shell names the program to con only once pm has
    started it, so a ^C typed just after the line may find nobody to kill yet."""
    for _ in range(tries - 1):
        m.sendcontrol("c")
        try:
            m.expect(PROMPT, timeout=5)
            return
        except ConsoleTimeout:
            pass
    m.sendcontrol("c")
    m.expect(PROMPT, timeout=10)


@pytest.mark.points(3)
@pytest.mark.parametrize("cpus,sched", POLICIES)
def test_ctrl_c(shuttle, cpus, sched):
    """^C stops a running program (and one waiting for input); the prompt comes back"""
    m = boot_shell(shuttle, cpus, sched)
    for program in ("spin", "cat", "spin | cat"):
        m.sendline(program)
        m.expect(re.escape(program) + r"\n")     # con echoed the line: it starts now
        interrupt(m)
    assert "still here" in lines(run(m, "echo still here"))
    out = lines(run(m, "ps"))
    assert not any("spin" in line or " cat" in line for line in out), \
        f"a program outlived ^C: {out}"


def ps_table(output):
    """{pid: (state, hart, threads, name)} from ps's lines."""
    rows = {}
    for line in lines(output):
        m = re.match(r"^ *(\d+) (\w+) +(\d+|-) +(\d+) +\d+K (\S+)", line)
        if m:
            rows[int(m.group(1))] = (m.group(2), m.group(3), int(m.group(4)), m.group(5))
    return rows


@pytest.mark.parametrize("cpus", [4])
def test_ps_and_harts_agree_on_pids(shuttle, cpus):
    """ps lists every process with the kernel's pid, the one harts shows and kill takes"""
    m = boot_shell(shuttle, cpus)
    job = re.search(r"^\[(\d+)\]$", run(m, "spin &"), re.MULTILINE)
    assert job, "the shell printed no [pid] for `spin &`"
    procs = ps_table(run(m, "ps"))
    names = {name: pid for pid, (_, _, _, name) in procs.items()}
    for server in ("init", "ns", "con", "pm", "fs", "kvs", "sh", "spin", "ps"):
        assert server in names, f"ps does not list {server}: {procs}"
    assert names["init"] == 1, procs
    spin = names["spin"]
    assert int(job.group(1)) == spin, f"the shell's [pid] {job.group(1)} is not ps's {spin}"
    state, hart, threads, _ = procs[spin]
    assert state == "running" and hart != "-" and threads == 1, procs[spin]
    assert procs[names["ps"]][0] == "running", "ps did not see itself running"
    assert procs[names["ns"]][0] == "waiting" and procs[names["ns"]][1] == "-", procs

    # harts shows the same pid running on one of the harts.
    out = lines(run(m, "harts"))
    pids = [int(line.split()[3]) for line in out if re.match(r"^ *\d+ +\d+ +(yes|no) +\d+", line)]
    assert len(pids) == cpus, out
    assert spin in pids, f"harts does not show spin's pid {spin} on a hart: {out}"

    # kill takes that pid; init and the servers are out of its reach.
    assert "not started by pm" in run(m, "kill 1"), "kill 1 did not refuse"
    run(m, "kill %d" % spin)
    after = ps_table(run(m, "ps"))
    assert spin not in after or after[spin][0] == "zombie", f"spin still runs: {after.get(spin)}"
    assert 1 in after and after[1][3] == "init", "init is gone"
