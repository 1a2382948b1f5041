"""User mode: processes, threads, system calls and the baseline scheduler, tested from
user space by usertests (user/bin/usertests.c), which init starts when booted with
`usertests`. Each test runs at 1 and 4 harts.
"""

import re

import pytest

USERTESTS = ["threads_spread", "no_starvation", "sleep_accuracy", "priority_order",
             "affinity", "bad_args", "fault_kills_only_child", "spawn_cycles", "fpu", "fpu_migrate",
             "process_ids"]


@pytest.mark.points(5)
@pytest.mark.parametrize("cpus", [1, 4])
@pytest.mark.parametrize("name", USERTESTS)
def test_usertest(shuttle, name, cpus):
    """User test passes"""
    shuttle.run_test(name, cpus=cpus, bootargs=f"usertests={name}", started=r"init: starting")


def test_usertests_under_perhart(shuttle):
    """Every user test passes in one boot under sched=perhart, the invariant check on"""
    m = shuttle.boot(cpus=2, bootargs="usertests sched=perhart schedcheck", timeout=120)
    m.expect(r"init: starting")
    for name in USERTESTS:
        m.expect_test(name, timeout=300)
    assert m.wait_exit(timeout=120) == 0, "init powered off with a failure status"


def test_init_starts_from_the_boot_archive(shuttle):
    """The kernel loads init from the boot archive and init runs"""
    m = shuttle.boot(cpus=2)
    m.expect(r"init: starting")
    m.expect(r"init: starting ns, con, pm")


def test_fault_report_names_process_cause_and_address(shuttle):
    """A user fault kills only that process, with one line naming it, the cause and the address"""
    m = shuttle.boot(cpus=2, bootargs="usertests=fault_kills_only_child", timeout=120)
    m.expect_test("fault_kills_only_child", timeout=300)
    assert m.wait_exit(timeout=120) == 0
    assert re.search(r"^faulter\[\d+\]: killed: load page fault at address 0, pc 0x[0-9a-f]+$",
                     m.log, re.MULTILINE), "no line naming the process, the cause and the address"
    # The other processes went on: init reported and powered off cleanly.
    assert "init: usertests exited with status 0" in m.log
