"""Robustness: what once crashed, hung or leaked the kernel from user space, replayed by
robusttests (user/bin/robusttests.c) at 1, 2, 4 and 8 harts; the races need several harts
to bite. Each test ends by checking that the kernel's counts of free pages, handles,
threads and processes came back.
"""

import pytest

ROBUSTTESTS = ["handle_chain", "unmap_race", "recv_fault", "kill_blocked", "killed_sleeper",
               "handle_cycles", "read_only", "huge_ranges", "full_receiver", "irq_latency"]


@pytest.mark.points(3)
@pytest.mark.parametrize("cpus", [1, 2, 4, 8])
@pytest.mark.parametrize("name", ROBUSTTESTS)
def test_robusttest(shuttle, name, cpus):
    """Robustness regression passes"""
    shuttle.run_test(name, cpus=cpus, bootargs=f"run=robusttests robusttests={name}",
                     started=r"init: starting ns, con, pm")


@pytest.mark.points(3)
def test_irq_latency_exact(shuttle):
    """No kernel path holds interrupts off for 500 us (half a million instructions)"""
    shuttle.run_test("irq_latency", cpus=1, icount=True,
                     bootargs="run=robusttests robusttests=irq_latency irqbound=500",
                     started=r"init: starting ns, con, pm")
