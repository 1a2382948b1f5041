"""Shuttle's benchmarks: boots the kernel the build describes under icount, runs the
benchmark programs, and prints a table of what each operation costs in guest
instructions; the same goes to build/bench/results.json, one record per measurement.

    /usr/bin/python3 tools/bench.py [--only NAME,...] [--out DIR]
    scons bench                      (the same, on what is built)

Under `-icount shift=0,sleep=off` one instruction is one nanosecond of virtual time and
the harts run in turn on one host thread, so a count is the work of all harts together,
and it repeats to the instruction from run to run: these are costs, not speeds (DESIGN
and the README's Benchmarks section say what the clock can and cannot show). Each run is
one boot with `run=PROGRAM` and its arguments; a run's lines `PROGRAM: <label>: <n>
instructions` are its measurements.

The message round trips (Lab 2, the fast path) and the migrating-thread RPC round trips
(Lab 5) are printed side by side per run as well.

The scheduler runs (Lab 3) boot `run=schedbench` (user/bin/schedbench.c) under
sched=global and sched=perhart at 1, 2, 4 and 8 harts: N busy client-server pairs and a
yield storm, each reported as instructions per operation and, per operation, the context
switches, steals, migrations and run-queue lock spins the kernel counted (sys_hart_stats).
Under icount the harts take turns on one host thread, so a lock holder is rarely stopped
halfway and lock spins are rare; the same workloads are therefore run once more without
icount (`-parallel` runs, one host thread per hart), where harts really contend: their
counts are real contention, but vary from run to run, and their instruction counts are
left out (the clock is the host's).

A record in results.json: the run's name, its factors (harts, boot arguments, the build
mode, and for the scheduler runs the policy and whether icount was on), the metric's name
and label, its value and unit (instructions, or events per operation); plus, once per
file, the QEMU version, the kernel's git revision and the host's core count.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "grade"))
import shuttle_qemu  # noqa: E402  (build/shuttle.json and the QEMU command line)

# One boot each. The metrics are ipcbench's line labels, by a short name.
RUNS = [
    {"name": "one-hart", "cpus": 1, "bootargs": "run=ipcbench bench=syscall,same,rpc,pipe,tick",
     "factors": {"ipcfast": 1}},
    {"name": "one-hart-general", "cpus": 1, "bootargs": "run=ipcbench bench=same ipcfast=0",
     "factors": {"ipcfast": 0}},
    # Lab 5 rides along: the RPC round trip with the server's own thread on the client's
    # hart and on the other one.
    {"name": "two-harts", "cpus": 2, "bootargs": "run=ipcbench bench=same,cross,rpc",
     "factors": {"ipcfast": 1, "wakeup": "tick"}},
    # Lab 4: the cross-hart round trip when the other hart is woken by an IPI, sent
    # through the firmware (SBI) or straight from S-mode (ACLINT SSWI).
    {"name": "cross-ipi-sbi", "cpus": 2, "bootargs": "run=ipcbench bench=cross wakeup=ipi ipi=sbi",
     "factors": {"ipcfast": 1, "wakeup": "ipi", "ipi": "sbi"}},
    {"name": "cross-ipi-sswi", "cpus": 2, "bootargs": "run=ipcbench bench=cross wakeup=ipi ipi=sswi",
     "factors": {"ipcfast": 1, "wakeup": "ipi", "ipi": "sswi"}},
]
METRICS = {
    "null system call round trip": "syscall",
    "same-hart round trip": "ipc_same",
    "cross-hart round trip": "ipc_cross",
    "pipe round trip": "pipe",
    "timer tick, nothing to wake": "tick",
    "same-hart RPC round trip": "rpc_same",
    "cross-hart RPC round trip": "rpc_cross",
}
# schedbench's runs: each policy at each hart count, under icount and then without.
SCHED_HARTS = [1, 2, 4, 8]
SCHED_RUNS = [
    {"name": f"sched-{sched}-{harts}{'' if icount else '-parallel'}", "cpus": harts,
     "bootargs": f"run=schedbench sched={sched}", "icount": icount,
     "until": r"^schedbench: done \(status 0\)$",
     "factors": {"sched": sched, "icount": int(icount)}}
    for icount in (True, False) for sched in ("global", "perhart") for harts in SCHED_HARTS]
RUNS += SCHED_RUNS
METRICS.update({"pairs": "pairs", "storm": "storm"})
COUNTS = re.compile(r"^schedbench: (\w+) counts: ops (\d+) switches (\d+) steals (\d+) "
                    r"migrations (\d+) spins (\d+)$", re.MULTILINE)
COUNTERS = ["switches", "steals", "migrations", "spins"]
LINE = re.compile(r"^(\w+): ([^:\n]+): (\d+) instructions", re.MULTILINE)
BOOT_TIMEOUT = 300


def run_once(config, run, log_dir):
    """Boots one run (under icount unless it says not); returns (its measurements, its
    counts: {workload: {"ops": n, "switches": n, ...}})."""
    log = os.path.join(log_dir, run["name"] + ".log")
    m = shuttle_qemu.Machine(config, log, cpus=run["cpus"], bootargs=run["bootargs"],
                             icount=run.get("icount", True), timeout=BOOT_TIMEOUT)
    try:
        if run.get("until"):   # the program says it is done: the exit is not waited for
            m.expect(run["until"], timeout=BOOT_TIMEOUT)
            status = 0
        else:
            status = m.wait_exit(timeout=BOOT_TIMEOUT)
    except shuttle_qemu.ShuttleError as e:
        raise SystemExit(f"bench: run {run['name']} failed: {e.summary}; "
                         f"see {os.path.relpath(log, REPO_ROOT)}")
    finally:
        m.kill()
    if status != 0:
        raise SystemExit(f"bench: run {run['name']} failed (QEMU exit status {status}); "
                         f"see {os.path.relpath(log, REPO_ROOT)}")
    found = [(label, int(n)) for _, label, n in LINE.findall(m.log) if label in METRICS]
    if not run.get("icount", True):
        found = []   # the host's clock: no instruction counts
    counts = {w: dict(zip(["ops"] + COUNTERS, map(int, rest)))
              for w, *rest in COUNTS.findall(m.log)}
    if not found and not counts:
        raise SystemExit(f"bench: run {run['name']} printed no measurement; "
                         f"see {os.path.relpath(log, REPO_ROOT)}")
    return found, counts


def describe_host():
    qemu = subprocess.run(["qemu-system-riscv64", "--version"], capture_output=True,
                          text=True).stdout.split("\n")[0]
    rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT,
                         capture_output=True, text=True).stdout.strip()
    return {"qemu": qemu, "kernel": rev or "unknown", "host_cores": os.cpu_count()}


def print_message_vs_rpc(ipc):
    """Lab 5's comparison, per run that measured both: a null round trip as a message
    (two threads) and as a migrating-thread RPC (one)."""
    for run in dict.fromkeys(r["run"] for r in ipc):
        got = {r["metric"]: r["value"] for r in ipc if r["run"] == run}
        if "ipc_same" in got and "rpc_same" in got:
            print(f"  {run}: same-hart round trip, message {got['ipc_same']:,} vs RPC "
                  f"{got['rpc_same']:,} instructions (RPC/message {got['rpc_same'] / got['ipc_same']:.2f})")


def print_table(records):
    ipc = [r for r in records if "sched" not in r["factors"]]
    if ipc:
        print(f"{'benchmark':<34} {'harts':>5} {'fast path':>9} {'wakeup':>9} {'instructions':>13}")
    for r in ipc:
        f = r["factors"]
        fast = "on" if f.get("ipcfast", 1) else "off"
        wakeup = f.get("wakeup", "tick") + (f"/{f['ipi']}" if "ipi" in f else "")
        print(f"{r['label']:<34} {f['harts']:>5} {fast:>9} {wakeup:>9} {r['value']:>13,}")
    print_message_vs_rpc(ipc)
    sched = [r for r in records if "sched" in r["factors"]]
    if not sched:
        return
    # One row per (workload, icount, policy, harts): instructions, then the counters.
    rows = {}
    for r in sched:
        f = r["factors"]
        key = (r["metric"].split("_")[0], f["icount"], f["sched"], f["harts"])
        rows.setdefault(key, {})[r["metric"].split("_", 1)[-1] if "_" in r["metric"]
                                else "instructions"] = r["value"]
    if ipc:
        print()
    print(f"{'workload':<8} {'clock':<8} {'sched':<8} {'harts':>5} {'instr/op':>9} "
          + " ".join(f"{c + '/op':>13}" for c in COUNTERS))
    for (work, icount, policy, harts), v in sorted(rows.items(),
                                                   key=lambda kv: (kv[0][0], -kv[0][1],
                                                                   kv[0][2], kv[0][3])):
        instr = f"{v['instructions']:,}" if "instructions" in v else "-"
        print(f"{work:<8} {'icount' if icount else 'parallel':<8} {policy:<8} {harts:>5} "
              f"{instr:>9} " + " ".join(f"{v.get(c, 0):>13.4f}" for c in COUNTERS))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated run names, or their prefixes up to a "
                        "'-' (e.g. sched, sched-perhart): "
                        + ", ".join(r["name"] for r in RUNS))
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "build", "bench"),
                        help="where results.json and the logs go (default build/bench)")
    parser.add_argument("--mode", default="debug", help="the build's MODE, for the records")
    args = parser.parse_args()
    runs = RUNS
    if args.only:
        names = args.only.split(",")

        def chosen(run, name):
            return run["name"] == name or run["name"].startswith(name + "-")
        unknown = [n for n in names if not any(chosen(r, n) for r in RUNS)]
        if unknown:
            parser.error(f"no run named {', '.join(unknown)}")
        runs = [r for r in RUNS if any(chosen(r, n) for n in names)]
    try:
        config = shuttle_qemu.load_config(REPO_ROOT)
    except shuttle_qemu.ConfigError as e:
        raise SystemExit(f"bench: {e}")
    os.makedirs(args.out, exist_ok=True)
    records = []
    for i, run in enumerate(runs, 1):
        print(f"bench: run {i} of {len(runs)}: {run['name']} ({run['bootargs']}, "
              f"{run['cpus']} hart{'s' if run['cpus'] > 1 else ''})", flush=True)
        started = time.monotonic()
        found, counts = run_once(config, run, args.out)
        factors = dict(run["factors"], harts=run["cpus"], mode=args.mode,
                       bootargs=run["bootargs"])
        for label, value in found:
            records.append({"run": run["name"], "metric": METRICS[label], "label": label,
                            "factors": factors, "value": value, "unit": "instructions"})
        for work, c in counts.items():
            for counter in COUNTERS:
                records.append({"run": run["name"], "metric": f"{work}_{counter}",
                                "label": f"{work}: {counter} per operation",
                                "factors": factors, "value": c[counter] / max(c["ops"], 1),
                                "unit": "per operation"})
        print(f"bench:   done in {time.monotonic() - started:.1f} s", flush=True)
    print()
    print_table(records)
    path = os.path.join(args.out, "results.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(dict(describe_host(), clock="icount: guest instructions, all harts summed "
                       "(the scheduler's -parallel runs: counts only, no icount)",
                       records=records), f, indent=2)
        f.write("\n")
    print(f"\nbench: wrote {os.path.relpath(path, REPO_ROOT)}")


if __name__ == "__main__":
    main()
