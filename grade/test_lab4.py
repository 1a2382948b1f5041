"""Lab 4 — IPI wakeups (lab/lab4.md). 100 points.

The exercises write kern/dev/ipi.c's ACLINT SSWI transport (exercise 1), the waker's side
of a wakeup in kern/proc/sched.c's tell() (2) and the idle loop's order in idle_wait()
(3). Every boot here runs under ICOUNT=1 (-icount shift=0,sleep=off): one guest
instruction is one nanosecond of the time CSR, so the times below repeat and nothing on
the host stretches them. A tick is 10 ms (10,000,000 instructions).

- idle race (ktest=idle_race wakeup=ipi, 1, 2, 4 and 8 harts): a wakeup sent to a hart
  between its idle loop's last look for work and its wfi, every time, must run within a
  hundredth of a tick.
- wakeuptests (user/bin/wakeuptests.c) with wakeup=ipi at 2, 4 and 8 harts under
  sched=global and sched=perhart: at most two IPIs a cross-hart round trip; k wakeups for
  one busy hart cost one IPI; a woken high-priority thread runs within a hundredth of a
  tick on a busy hart; 100,000 cross-hart round trips with none taking a tenth of a tick.
  At 1 hart: a high-priority sleeper preempts a spinner as soon as its timer fires.
- ipcbench's cross-hart round trip with wakeup=ipi under a hundredth of a tick through
  SSWI (ACLINT=1's machine) and through SBI (a machine without the ACLINT), SSWI the
  cheaper; with wakeup=tick still about a tick (the baseline stays).
- The boot log names the IPI transport, and ipi=sswi without an ACLINT falls back to SBI
  and says so.

Each configuration boots once; its tests read that boot. `--harts 2` runs the tests at
that hart count only.
"""

import os
import re

import pytest

from shuttle_qemu import Boots, expect_ok, load_config

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = 10_000_000        # instructions in a tick under ICOUNT=1
ACLINT = "virt,aclint=on"
PLAIN = "virt"
WAKEUP_TESTS = ["round_trip_ipis", "coalesce", "priority", "stress"]
CROSS = re.compile(r"^ipcbench: cross-hart round trip: (\d+) instructions", re.MULTILINE)


@pytest.fixture(scope="module")
def boots(request):
    b = Boots(load_config(REPO_ROOT), "test_lab4")
    request.addfinalizer(b.kill_all)
    return b


def cross_hart(boots, wakeup, machine, extra=""):
    """ipcbench's cross-hart round trip at 2 harts, and its Machine."""
    m, status = boots.run(2, f"run=ipcbench 200 bench=cross wakeup={wakeup} {extra}".strip(),
                          icount=True, machine=machine)
    found = CROSS.search(m.log)
    assert status == 0 and found, \
        f"ipcbench did not finish (status {status})\n{m.console_report()}"
    return int(found.group(1)), m


@pytest.mark.points(5)
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
def test_idle_race(boots, cpus):
    """A wakeup sent inside the idle loop's window runs within a hundredth of a tick"""
    sched = "perhart" if cpus in (2, 8) else "global"
    m, status = boots.run(cpus, f"ktest=idle_race wakeup=ipi sched={sched}", icount=True)
    expect_ok(m, status, "idle_race")


@pytest.mark.points(1.5)
@pytest.mark.parametrize("sched", ["global", "perhart"])
@pytest.mark.parametrize("cpus", [2, 4, 8])
@pytest.mark.parametrize("name", WAKEUP_TESTS)
def test_wakeuptests(boots, name, cpus, sched):
    """wakeuptests passes with wakeup=ipi"""
    m, status = boots.run(cpus, f"run=wakeuptests wakeup=ipi sched={sched} schedcheck",
                          icount=True)
    expect_ok(m, status, name)


@pytest.mark.points(4)
def test_priority_on_one_hart(boots):
    """On one hart, a high-priority sleeper preempts a spinner as soon as its timer fires"""
    m, status = boots.run(1, "run=wakeuptests wakeuptests=priority wakeup=ipi", icount=True)
    expect_ok(m, status, "priority")


@pytest.mark.points(10)
@pytest.mark.parametrize("machine", [ACLINT, PLAIN], ids=["sswi", "sbi"])
def test_cross_hart_round_trip(boots, machine):
    """ipcbench: a cross-hart round trip with wakeup=ipi costs under a hundredth of a tick"""
    count, _ = cross_hart(boots, "ipi", machine)
    assert count < TICK // 100, \
        f"a cross-hart round trip cost {count} instructions with wakeup=ipi on " \
        f"-machine {machine}: a remote wakeup still waits for the other hart's tick"


@pytest.mark.points(5)
def test_sswi_cheaper_than_sbi(boots):
    """ipcbench: the round trip through ACLINT SSWI costs less than through SBI"""
    sswi, _ = cross_hart(boots, "ipi", ACLINT)
    sbi, _ = cross_hart(boots, "ipi", ACLINT, "ipi=sbi")
    assert sswi < sbi, \
        f"cross-hart round trip: {sswi} instructions with SSWI, {sbi} with ipi=sbi: " \
        "SSWI skips the firmware, so it must cost less"


@pytest.mark.points(5)
def test_tick_baseline_stays(boots):
    """ipcbench: with wakeup=tick a cross-hart round trip still waits about a tick"""
    count, _ = cross_hart(boots, "tick", ACLINT)
    assert count >= TICK // 2, \
        f"wakeup=tick: a cross-hart round trip cost {count} instructions; the baseline " \
        "wakes the other hart at its tick, about 10,000,000"


@pytest.mark.points(5)
def test_boot_log_names_the_transport(boots):
    """The boot log says `ipi: sswi` on an ACLINT machine and `ipi: sbi` with ipi=sbi"""
    _, m = cross_hart(boots, "ipi", ACLINT)
    assert re.search(r"^ipi: sswi\b", m.log, re.MULTILINE), \
        f"-machine {ACLINT}: no `ipi: sswi` line\n{m.console_report()}"
    _, m = cross_hart(boots, "ipi", ACLINT, "ipi=sbi")
    assert re.search(r"^ipi: sbi\b", m.log, re.MULTILINE), \
        f"ipi=sbi: no `ipi: sbi` line\n{m.console_report()}"


@pytest.mark.points(5)
def test_sswi_without_aclint_falls_back(boots):
    """ipi=sswi on a machine without an ACLINT says so and uses SBI"""
    count, m = cross_hart(boots, "ipi", PLAIN, "ipi=sswi")
    assert re.search(r"^ipi: ipi=sswi, but this machine has no ACLINT SSWI", m.log,
                     re.MULTILINE), f"no fallback line\n{m.console_report()}"
    assert re.search(r"^ipi: sbi\b", m.log, re.MULTILINE), \
        f"no `ipi: sbi` line\n{m.console_report()}"
    assert count < TICK // 100, f"the round trip through SBI cost {count} instructions"
