"""Message passing: endpoints, badges, handle transfer, deaths and notifications, tested
from user space by ipctests (user/bin/ipctests.c), which init runs when booted with
`run=ipctests ipctests=NAME` once the servers are up; one boot per test, at 1 and 4 harts.
Then the benchmark (user/bin/ipcbench.c) under icount: its counts must be positive and
the same on two boots. (No test holds a count to a number: that is scons bench's table.)
"""

import re

import pytest

IPCTESTS = ["ping_pong", "many_clients", "badges", "handle_transfer", "bad_args",
            "server_death", "dead_caller", "no_leaks", "notifications", "fast_path",
            "closing_notices"]


@pytest.mark.points(3)
@pytest.mark.parametrize("cpus", [1, 4])
@pytest.mark.parametrize("ipcfast", [1, 0])
@pytest.mark.parametrize("name", IPCTESTS)
def test_ipctest(shuttle, name, ipcfast, cpus):
    """IPC test passes (ipcfast=0: the fast path off, so the general path does it all)"""
    shuttle.run_test(name, cpus=cpus, bootargs=f"run=ipctests ipctests={name} ipcfast={ipcfast}",
                     started=r"init: starting ns, con, pm")


@pytest.mark.parametrize("cpus,ipcfast", [(8, 1), (1, 0)])
def test_ipctests_under_perhart(shuttle, cpus, ipcfast):
    """Every IPC test passes in one boot under sched=perhart, the invariant check on"""
    m = shuttle.boot(cpus=cpus, bootargs=f"run=ipctests ipcfast={ipcfast} sched=perhart "
                     "schedcheck", timeout=120)
    for name in IPCTESTS:
        m.expect_test(name, timeout=300)
    assert m.wait_exit(timeout=120) == 0, "init powered off with a failure status"


BENCH_LINE = re.compile(r"^ipcbench: ([^:\n]+): (\d+) instructions", re.MULTILINE)
BENCH_METRICS = {"null system call round trip", "same-hart round trip",
                 "cross-hart round trip", "pipe round trip", "timer tick, nothing to wake"}


def run_ipcbench(shuttle, cpus, bench):
    """One boot of ipcbench under icount: {label: count}."""
    m = shuttle.boot(cpus=cpus, bootargs=f"run=ipcbench 200 bench={bench}", icount=True,
                     timeout=120)
    assert m.wait_exit(timeout=300) == 0, "ipcbench failed"
    return {label: int(n) for label, n in BENCH_LINE.findall(m.log)}


@pytest.mark.points(5)
def test_ipcbench_counts_repeat(shuttle):
    """ipcbench measures system calls, IPC on one and two harts, pipes and ticks, the same
    on two boots"""
    # On two harts only the cross-hart trip: a hart that spins waiting for another (in
    # OpenSBI's remote fences, at a process's exit) makes counts taken meanwhile vary.
    def both():
        return {**run_ipcbench(shuttle, 1, "syscall,same,pipe,tick"),
                **run_ipcbench(shuttle, 2, "cross")}
    first = both()
    assert set(first) == BENCH_METRICS, f"ipcbench printed {first}, not all its measurements"
    assert all(n > 0 for n in first.values()), f"an operation cost nothing: {first}"
    second = both()
    # One hart: exact. Two harts take turns in instruction slices, and the cross-hart trip
    # (a wakeup at the other hart's tick until Lab 4) ends within an instruction or two of
    # the tick: scons flaketest saw 10,000,000 and then 10,000,001.
    cross = "cross-hart round trip"
    one_hart = {k: v for k, v in first.items() if k != cross}
    assert one_hart == {k: v for k, v in second.items() if k != cross}, \
        f"under icount the one-hart counts must repeat: {first}, then {second}"
    assert abs(first[cross] - second[cross]) <= first[cross] // 100000, \
        f"the cross-hart trip must repeat within 0.001%: {first[cross]}, then {second[cross]}"
