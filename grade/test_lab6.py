"""Lab 6 — The experiment (lab/lab6.md). 100 points.

The exercises write the chain workload of user/bin/expbench.c (exercise 1: forward() and
the chain's servers) and the RPC trace events in kern/ipc/rpc.c (exercise 2).

- The matrix (tools/bench.py's exp runs: sched global/perhart x wakeup tick/ipi-sbi/
  ipi-sswi x 1, 2, 4, 8 harts, each boot every cell of workload x mechanism x placement)
  runs under icount with OPS requests per client, and results.json has every cell with
  every metric, the chain's included; the one-hart configurations run again and their costs and counts repeat exactly (on
  several harts QEMU's round robin under icount does not quite: REPEATS says why).
- The directions the earlier labs promise hold in the data: across harts an IPI wakeup
  costs a small fraction of a tick wakeup (Lab 4), SSWI less than SBI (Lab 4), on one
  hart an RPC less than a message, with no IPI and no context switch (Lab 5); under load
  (schedbench's yield storm without icount, where harts really collide) perhart's
  run-queue lock spins stay below global's (Lab 3).
- The trace (tools/trace.py): expbench's null and pairs cells at 2 harts under
  wakeup=ipi, traced: the JSON's structure (Chrome trace events, one track per hart),
  every RPC entry followed by its return on the same hart, and IPI flow arrows from a
  send on one hart to the take on the other.

The matrix is one run for all its tests (24 boots, about a minute on an idle 2-core host); `--harts 4` keeps the tests of
that hart count (the matrix still boots every count: it is one experiment).
"""

import json
import os
import subprocess
from itertools import product

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = ["/usr/bin/python3", os.path.join(REPO_ROOT, "tools", "bench.py")]
TRACE = ["/usr/bin/python3", os.path.join(REPO_ROOT, "tools", "trace.py")]
OPS = 50
HARTS = [1, 2, 4, 8]
SCHEDS = ["global", "perhart"]
WAKEUPS = ["tick", "ipi-sbi", "ipi-sswi"]
WORKS = ["null", "pairs", "shared", "chain"]
MECHS = ["msg", "rpc"]
PLACES = ["same", "cross", "free"]
METRICS = ["instructions", "switches", "ipis", "steals", "migrations", "spins", "rpcs"]
# The one-hart configurations, each run a second time: on one hart every count repeats
# exactly. On several QEMU's round robin of the harts under icount does not quite: in
# two 20-run flake series a boot went its own way once at 8 harts (from an unpinned cell
# on, every later cell differed, by up to 15%) and once at 4 (a chain across harts 4%
# apart). A check there would be a check of QEMU, so the repeat is checked on one hart
# (the matrix and the directions still run at every hart count).
REPEATS = ["exp-global-tick-1", "exp-perhart-ipi-sswi-1", "exp-global-ipi-sbi-1"]
STORM_TRIES = 3
TIMEOUT = 1800


def run_bench(out, only):
    r = subprocess.run(BENCH + ["--only", only, "--no-plots", "--no-profile", "--out", str(out)],
                       capture_output=True, text=True, timeout=TIMEOUT)
    path = out / "results.json"
    results = json.loads(path.read_text()) if path.exists() else None
    return r, results


def failures(r):
    """What bench.py said failed (its last lines)."""
    return "\n".join((r.stdout + r.stderr).strip().splitlines()[-15:])


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """The whole cost matrix, once: (bench.py's result, results.json or None)."""
    return run_bench(tmp_path_factory.mktemp("matrix"), f"exp ops={OPS}")


def cells(results):
    """{(sched, wakeup, harts, work, mech, place): {metric: value}} of the icount cells."""
    out = {}
    for r in results["records"] if results else []:
        f = r["factors"]
        if f.get("experiment") and f.get("icount"):
            key = (f["sched"], f["wakeup"], f["harts"], f["work"], f["mech"], f["place"])
            out.setdefault(key, {})[r["metric"]] = r["value"]
    return out


def cost(got, sched, wakeup, harts, work, mech, place, metric="instructions"):
    key = (sched, wakeup, harts, work, mech, place)
    assert key in got and metric in got[key], f"results.json has no {metric} for {key}"
    return got[key][metric]


@pytest.mark.points(5)
@pytest.mark.parametrize("cpus", HARTS)
def test_matrix_complete(matrix, cpus):
    """The matrix runs and results.json has every cell, with every metric"""
    r, results = matrix
    assert results, f"tools/bench.py wrote no results.json:\n{failures(r)}"
    for field in ("qemu", "kernel", "host_cores", "records"):
        assert field in results, f"results.json has no {field!r}"
    got = cells(results)
    places = ["same"] if cpus == 1 else PLACES
    missing = [f"{s}/{w} {work}/{mech}/{place}" for s, w, work, mech, place in
               product(SCHEDS, WAKEUPS, WORKS, MECHS, places)
               if set(METRICS) - set(got.get((s, w, cpus, work, mech, place), {}))]
    assert not missing, f"at {cpus} harts, {len(missing)} cells are missing or incomplete, " \
                        f"e.g. {', '.join(missing[:6])}\n--- bench.py ---\n{failures(r)}"
    assert r.returncode == 0, f"tools/bench.py failed:\n{failures(r)}"


@pytest.mark.points(5)
@pytest.mark.parametrize("run", REPEATS)
def test_costs_repeat(matrix, tmp_path, run):
    """Under icount a one-hart run's costs and counts repeat exactly"""
    _, first = matrix
    r, second = run_bench(tmp_path, f"{run} ops={OPS}")
    assert second, f"the second run of {run} wrote no results.json:\n{failures(r)}"

    def of(results):
        return {(x["metric"], x["label"]): x["value"] for x in results["records"]
                if x["run"] == run}
    a, b = of(first or {"records": []}), of(second)
    assert a, f"the matrix has no records of {run}"
    differ = [f"{k[1]}: {a[k]} then {b.get(k)}" for k in a if a[k] != b.get(k)]
    assert not differ, f"{run} measured differently the second time: {'; '.join(differ[:5])}"


@pytest.mark.points(4)
@pytest.mark.parametrize("cpus", [2, 4, 8])
def test_ipi_wakeup_far_cheaper_than_tick(matrix, cpus):
    """Across harts a round trip woken by IPI costs under a hundredth of one woken by the tick"""
    got = cells(matrix[1])
    for sched, ipi in product(SCHEDS, ["ipi-sbi", "ipi-sswi"]):
        tick = cost(got, sched, "tick", cpus, "null", "msg", "cross")
        woken = cost(got, sched, ipi, cpus, "null", "msg", "cross")
        assert woken * 100 < tick, \
            f"sched={sched}, {cpus} harts, null cross-hart message: {ipi} {woken:,.0f} " \
            f"instructions per round trip against tick's {tick:,.0f}"


@pytest.mark.points(3)
@pytest.mark.parametrize("cpus", [2, 4, 8])
def test_sswi_cheaper_than_sbi(matrix, cpus):
    """An IPI raised through the ACLINT's SSWI costs less than one through SBI"""
    got = cells(matrix[1])
    for sched in SCHEDS:
        sbi = cost(got, sched, "ipi-sbi", cpus, "null", "msg", "cross")
        sswi = cost(got, sched, "ipi-sswi", cpus, "null", "msg", "cross")
        assert sswi < sbi, f"sched={sched}, {cpus} harts: a cross-hart round trip costs " \
                           f"{sswi:,.0f} with SSWI, {sbi:,.0f} with SBI"


@pytest.mark.points(8)
def test_rpc_cheaper_than_message_on_one_hart(matrix):
    """On one hart an RPC costs less than a message, with no IPI and no context switch"""
    got = cells(matrix[1])
    for sched, work in product(SCHEDS, WORKS):
        msg = cost(got, sched, "tick", 1, work, "msg", "same")
        rpc = cost(got, sched, "tick", 1, work, "rpc", "same")
        assert rpc < msg, f"{work}, sched={sched}: RPC {rpc:,.0f} instructions per request, " \
                          f"message {msg:,.0f}"
        for counter in ("ipis", "switches"):
            per_op = cost(got, sched, "tick", 1, work, "rpc", "same", counter)
            assert per_op < 0.1, f"{work} by RPC on one hart: {per_op} {counter} per request"


@pytest.mark.points(8)
def test_perhart_spins_below_global_under_load(tmp_path):
    """Under load (a yield storm, without icount) perhart's run-queue lock spins are below global's"""
    # Spins need harts at the lock at the same moment, so the host must run them at once;
    # a busy 2-core host may not (then global spins 0 times, which says nothing of the
    # kernel), and the storm runs again, up to STORM_TRIES times.
    # A loaded host can also make one storm's counts noise (global 1, perhart 2): the
    # storm runs again then too.
    runs = "sched-global-4-parallel,sched-perhart-4-parallel"
    for attempt in range(STORM_TRIES):
        r, results = run_bench(tmp_path / f"try{attempt}", runs)
        assert results, f"tools/bench.py wrote no results.json:\n{failures(r)}"
        spins = {x["factors"]["sched"]: x["value"] for x in results["records"]
                 if x["metric"] == "storm_spins"}
        assert set(spins) == {"global", "perhart"}, f"no storm spins in {spins}"
        if spins["global"] > 0 and spins["perhart"] < spins["global"]:
            break
    assert spins["global"] > 0, f"global's storm met no lock spin in {STORM_TRIES} runs"
    assert spins["perhart"] < spins["global"], \
        f"run-queue lock spins per yield: perhart {spins['perhart']}, global {spins['global']}"


@pytest.mark.points(2)
@pytest.mark.parametrize("cpus", HARTS)
def test_chain_workload_measured(matrix, cpus):
    """The chain (exercise 1) is measured: two hops cost more than one, by either mechanism"""
    got = cells(matrix[1])
    for sched, mech in product(SCHEDS, MECHS):
        null = cost(got, sched, "ipi-sswi", cpus, "null", mech, "same")
        chain = cost(got, sched, "ipi-sswi", cpus, "chain", mech, "same")
        assert chain > null, f"{mech}, sched={sched}, {cpus} harts: a chain request costs " \
                             f"{chain:,.0f}, a null one {null:,.0f}"
        if mech == "rpc":
            rpcs = cost(got, sched, "ipi-sswi", cpus, "chain", mech, "same", "rpcs")
            assert rpcs == pytest.approx(2, abs=0.05), \
                f"a chain request by RPC made {rpcs} RPC calls, not 2 (client -> middle -> leaf)"


# --- the trace --------------------------------------------------------------------------

TRACED = "run=expbench ops=20 work=null,pairs mech=msg,rpc place=same,cross wakeup=ipi"


@pytest.fixture(scope="module")
def trace(tmp_path_factory):
    out = tmp_path_factory.mktemp("trace")
    r = subprocess.run(TRACE + ["--bootargs", TRACED, "--cpus", "2", "--out", str(out), "-q"],
                       capture_output=True, text=True, timeout=600)
    path = out / "trace.json"
    assert r.returncode == 0 and path.exists(), \
        f"tools/trace.py failed:\n{(r.stdout + r.stderr)[-3000:]}"
    return json.loads(path.read_text())["traceEvents"]


def on_hart(events, hart, prefix):
    return [e for e in events if e.get("tid") == hart and e["name"].startswith(prefix)]


@pytest.mark.points(7)
def test_trace_structure(trace):
    """The trace is Chrome trace-event JSON with one named track per hart"""
    names = {e["tid"]: e["args"]["name"] for e in trace
             if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == {0: "hart 0", 1: "hart 1"}, f"tracks: {names}"
    for e in trace:
        assert {"name", "ph", "pid"} <= set(e), f"an event without name, ph or pid: {e}"
        if e["ph"] != "M":
            assert isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, f"bad ts: {e}"
            assert e.get("tid") in names, f"an event on no hart's track: {e}"
        if e["ph"] == "X":
            assert e.get("dur", -1) >= 0, f"a slice without a duration: {e}"
    for hart in names:
        runs = [e for e in trace if e["ph"] == "X" and e["tid"] == hart
                and e["name"].startswith("expbench (pid")]
        assert runs, f"hart {hart} never ran expbench in the trace"
    assert any(e["name"].startswith("IPC call") for e in trace), "no IPC call in the trace"
    assert any(e["name"].startswith("IPC reply") for e in trace), "no IPC reply in the trace"


@pytest.mark.points(8)
def test_trace_rpc_events(trace):
    """Every RPC entry in the trace is followed on its hart by its return (exercise 2)"""
    enters = 0
    for hart in (0, 1):
        rpc = sorted(on_hart(trace, hart, "RPC "), key=lambda e: e["ts"])
        # A ring that wrapped may have lost an entry whose return is still there.
        while rpc and not rpc[0]["name"].startswith("RPC enter"):
            rpc.pop(0)
        depth = 0
        for e in rpc:
            if e["name"].startswith("RPC enter"):
                assert e["args"]["depth"] == depth + 1, f"hart {hart}: an entry at depth " \
                    f"{e['args']['depth']} after depth {depth}"
                enters += 1
            else:
                assert e["args"]["depth"] == depth - 1, f"hart {hart}: a return to depth " \
                    f"{e['args']['depth']} from depth {depth}"
            depth = e["args"]["depth"]
    # null (one client) and pairs (two) by RPC, same and cross: 20 warm-up requests and 20
    # measured each: 40 + 40 + 80 + 80, all on the clients' own harts.
    assert enters >= 240, f"the trace has {enters} RPC entries; expbench made 240"


@pytest.mark.points(5)
def test_trace_ipi_flows(trace):
    """IPIs appear as flow arrows from the sending hart to the hart that took them"""
    starts = {e["id"]: e for e in trace if e["ph"] == "s"}
    ends = [e for e in trace if e["ph"] == "f"]
    crossing = [e for e in ends if e["id"] in starts and starts[e["id"]]["tid"] != e["tid"]
                and starts[e["id"]]["ts"] <= e["ts"]]
    # place=cross under wakeup=ipi: every message round trip wakes the other hart.
    assert len(crossing) >= 20, f"{len(crossing)} IPI flows from one hart to the other"
