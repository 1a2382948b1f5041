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

A record in results.json: the run's name, its factors (harts, boot arguments, the build
mode), the metric's name and label, and its value in instructions; plus, once per file,
the QEMU version, the kernel's git revision and the host's core count.
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
    {"name": "one-hart", "cpus": 1, "bootargs": "run=ipcbench bench=syscall,same,pipe,tick",
     "factors": {"ipcfast": 1}},
    {"name": "one-hart-general", "cpus": 1, "bootargs": "run=ipcbench bench=same ipcfast=0",
     "factors": {"ipcfast": 0}},
    {"name": "two-harts", "cpus": 2, "bootargs": "run=ipcbench bench=same,cross",
     "factors": {"ipcfast": 1}},
]
METRICS = {
    "null system call round trip": "syscall",
    "same-hart round trip": "ipc_same",
    "cross-hart round trip": "ipc_cross",
    "pipe round trip": "pipe",
    "timer tick, nothing to wake": "tick",
}
LINE = re.compile(r"^(\w+): ([^:\n]+): (\d+) instructions", re.MULTILINE)
BOOT_TIMEOUT = 300


def run_once(config, run, log_dir):
    """Boots one run under icount; returns (its measurements, the console log)."""
    log = os.path.join(log_dir, run["name"] + ".log")
    m = shuttle_qemu.Machine(config, log, cpus=run["cpus"], bootargs=run["bootargs"],
                             icount=True, timeout=BOOT_TIMEOUT)
    try:
        status = m.wait_exit(timeout=BOOT_TIMEOUT)
    finally:
        m.kill()
    if status != 0:
        raise SystemExit(f"bench: run {run['name']} failed (QEMU exit status {status}); "
                         f"see {os.path.relpath(log, REPO_ROOT)}")
    found = [(label, int(n)) for _, label, n in LINE.findall(m.log) if label in METRICS]
    if not found:
        raise SystemExit(f"bench: run {run['name']} printed no measurement; "
                         f"see {os.path.relpath(log, REPO_ROOT)}")
    return found


def describe_host():
    qemu = subprocess.run(["qemu-system-riscv64", "--version"], capture_output=True,
                          text=True).stdout.split("\n")[0]
    rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT,
                         capture_output=True, text=True).stdout.strip()
    return {"qemu": qemu, "kernel": rev or "unknown", "host_cores": os.cpu_count()}


def print_table(records):
    print(f"{'benchmark':<34} {'harts':>5} {'fast path':>9} {'instructions':>13}")
    for r in records:
        fast = "on" if r["factors"].get("ipcfast", 1) else "off"
        print(f"{r['label']:<34} {r['factors']['harts']:>5} {fast:>9} {r['value']:>13,}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="comma-separated run names: "
                        + ", ".join(r["name"] for r in RUNS))
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "build", "bench"),
                        help="where results.json and the logs go (default build/bench)")
    parser.add_argument("--mode", default="debug", help="the build's MODE, for the records")
    args = parser.parse_args()
    runs = RUNS
    if args.only:
        names = args.only.split(",")
        unknown = [n for n in names if n not in {r["name"] for r in RUNS}]
        if unknown:
            parser.error(f"no run named {', '.join(unknown)}")
        runs = [r for r in RUNS if r["name"] in names]
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
        for label, value in run_once(config, run, args.out):
            factors = dict(run["factors"], harts=run["cpus"], mode=args.mode,
                           bootargs=run["bootargs"])
            records.append({"run": run["name"], "metric": METRICS[label], "label": label,
                            "factors": factors, "value": value, "unit": "instructions"})
        print(f"bench:   done in {time.monotonic() - started:.1f} s", flush=True)
    print()
    print_table(records)
    path = os.path.join(args.out, "results.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(dict(describe_host(), clock="icount: guest instructions, all harts summed",
                       records=records), f, indent=2)
        f.write("\n")
    print(f"\nbench: wrote {os.path.relpath(path, REPO_ROOT)}")


if __name__ == "__main__":
    main()
