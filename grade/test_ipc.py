"""Message passing: endpoints, badges, handle transfer, deaths and notifications, tested
from user space by ipctests (user/bin/ipctests.c), which init runs when booted with
`run=ipctests ipctests=NAME` once the servers are up; one boot per test, at 1 and 4 harts.
Then the IPC benchmark (user/bin/ipcbench.c) under icount: its counts must be positive and
the same on two boots.
"""

import re

import pytest

IPCTESTS = ["ping_pong", "many_clients", "badges", "handle_transfer", "bad_args",
            "server_death", "dead_caller", "no_leaks", "notifications"]


BENCH_LINE = re.compile(r"^ipcbench: (same|cross)-hart round trip: (\d+) instructions",
                        re.MULTILINE)


@pytest.mark.points(3)
@pytest.mark.parametrize("cpus", [1, 4])
@pytest.mark.parametrize("name", IPCTESTS)
def test_ipctest(shuttle, name, cpus):
    """IPC test passes"""
    shuttle.run_test(name, cpus=cpus, bootargs=f"run=ipctests ipctests={name}",
                     started=r"init: starting ns, con, pm")


def run_ipcbench(shuttle):
    """One boot of ipcbench on 2 harts under icount: {"same": n, "cross": n}."""
    m = shuttle.boot(cpus=2, bootargs="run=ipcbench", icount=True, timeout=120)
    m.expect(r"ipcbench: cross-hart round trip", timeout=300)
    assert m.wait_exit(timeout=60) == 0, "ipcbench failed"
    return {kind: int(n) for kind, n in BENCH_LINE.findall(m.log)}


@pytest.mark.points(5)
def test_ipcbench_counts_repeat(shuttle):
    """ipcbench measures same- and cross-hart round trips, the same on two boots"""
    first = run_ipcbench(shuttle)
    assert set(first) == {"same", "cross"}, f"ipcbench printed {first}, not both numbers"
    assert all(n > 0 for n in first.values()), f"a round trip cost nothing: {first}"
    second = run_ipcbench(shuttle)
    assert first == second, f"under icount the counts must repeat: {first}, then {second}"
