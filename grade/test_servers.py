"""The user-level servers: ns, con, pm, the POSIX calls over fs, and init's restarting,
tested from a client by servertests (user/bin/servertests.c), which init runs when booted
with `run=servertests` once the servers are up. The suite runs at 1 and 4 harts; the
console tests type into con's line editor as a user would.
"""

import re
import time

import pytest

SERVERTESTS = ["ns_names", "stream_protocol", "con_stream", "pm_programs", "pm_stdio",
               "pm_waits", "pm_cwd", "posix_files", "pipe_sharing", "restart_pm", "restart_con",
               "restart_ns"]


# Both scheduling policies; sched=perhart's other hart counts are Lab 3's grader's.
@pytest.mark.parametrize("cpus,sched", [(1, "global"), (4, "global"), (8, "perhart")])
def test_servertests(shuttle, cpus, sched):
    """Every server test passes, and init powers off with status 0"""
    m = shuttle.boot(cpus=cpus, bootargs=f"run=servertests sched={sched} schedcheck", timeout=120)
    m.expect(r"init: starting ns, con, pm")
    for name in SERVERTESTS:
        m.expect_test(name, timeout=120)
    m.expect(rf"servertests: {len(SERVERTESTS)} of {len(SERVERTESTS)} passed")
    assert m.wait_exit(timeout=60) == 0, "init powered off with a failure status"


def test_kvstests_under_perhart(shuttle):
    """Every kvs test passes in one boot under sched=perhart, the invariant check on"""
    m = shuttle.boot(cpus=1, bootargs="run=kvstests sched=perhart schedcheck", timeout=120)
    m.expect(r"init: starting ns, con, pm, fs, kvs")
    m.expect(r"^kvstests: (\d+) of \1 passed$", timeout=300)
    assert m.wait_exit(timeout=60) == 0, "init powered off with a failure status"


def test_restarts_are_logged(shuttle):
    """init says which server died, with what status, and when it restarts it"""
    m = shuttle.boot(cpus=2, bootargs="run=servertests servertests=restart_pm,restart_con",
                     timeout=120)
    m.expect_test("restart_pm", timeout=120)
    m.expect_test("restart_con", timeout=120)
    assert m.wait_exit(timeout=60) == 0
    for server in ("pm", "con"):
        assert re.search(rf"^init: {server} exited with status 8192 \(EXIT_KILLED\); "
                         r"restarting in \d+ ms$", m.log, re.MULTILINE), \
            f"no line saying {server} exited and is restarted"


def test_usertests_without_servers(shuttle):
    """usertests still runs alone: init starts no server for it"""
    m = shuttle.boot(cpus=2, bootargs="usertests=spawn_cycles", timeout=120)
    m.expect_test("spawn_cycles", timeout=300)
    assert m.wait_exit(timeout=120) == 0
    assert "init: starting ns" not in m.log, "init started the servers for usertests"


def test_con_line_editing(shuttle):
    """con echoes what is typed, erases with DEL, kills the line with ^U, ends input with ^D"""
    m = shuttle.boot(cpus=2, bootargs="run=servertests servertests=con_input", timeout=60)
    m.expect(r"servertests: type a line")
    m.send("abc\x7fd\r")
    m.expect(r"servertests: type another line")
    m.send("xyz")
    m.sendcontrol("u")
    m.send("hello\r")
    m.expect(r"servertests: type \^D")
    m.sendcontrol("d")
    m.expect_test("con_input", timeout=60)
    assert m.wait_exit(timeout=60) == 0
    # The echo: "abc", then backspace-space-backspace over the c, then "d".
    assert "abc\b \bd" in m.log, "typing and erasing was not echoed"


def test_ctrl_c_kills_the_foreground_program(shuttle):
    """^C makes con ask pm to kill the foreground program, and echoes ^C"""
    m = shuttle.boot(cpus=2, bootargs="run=servertests servertests=ctrl_c", timeout=60)
    m.expect(r"servertests: press \^C")
    m.sendcontrol("c")
    m.expect(r"\^C")
    m.expect_test("ctrl_c", timeout=60)
    assert m.wait_exit(timeout=60) == 0


def test_con_reads_after_a_restart(shuttle):
    """A restarted con takes the UART's interrupt back: typing still reaches a reader"""
    m = shuttle.boot(cpus=2, bootargs="run=servertests servertests=restart_con,con_input",
                     timeout=60)
    m.expect_test("restart_con", timeout=60)
    m.expect(r"servertests: type a line")
    m.send("abc\x7fd\r")
    m.expect(r"servertests: type another line")
    m.send("xyz")
    m.sendcontrol("u")
    m.send("hello\r")
    m.expect(r"servertests: type \^D")
    m.sendcontrol("d")
    m.expect_test("con_input", timeout=60)
    assert m.wait_exit(timeout=60) == 0


def test_shell_on_the_console(shuttle):
    """With no boot arguments init starts sh on con: a typed command runs, ^C stops a
    foreground program and the prompt comes back"""
    m = shuttle.boot(cpus=2, timeout=60)
    m.expect(r"init: starting ns, con, pm")
    m.expect(r"\$ ")
    m.sendline("echo typed at the console")
    m.expect(r"^typed at the console$")
    m.expect(r"\$ ")
    m.sendline("spin")
    time.sleep(0.5)  # let spin start: ^C kills the foreground program, and there is none before
    m.sendcontrol("c")
    m.expect(r"\^C")
    m.expect(r"\$ ")
    m.sendline("echo still here")
    m.expect(r"^still here$")
