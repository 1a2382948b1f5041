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

Lab 6's experiment (user/bin/expbench.c) boots once per scheduler (global, perhart),
wakeup (tick; ipi through SBI; ipi through the ACLINT's SSWI) and hart count (1, 2, 4, 8),
under icount: the runs `exp-SCHED-WAKEUP-HARTS`. Each boot measures every cell of
workload (null, pairs, shared, chain) x mechanism (msg, rpc) x placement (same, cross,
free; at one hart only same): instructions per operation and, per operation, the context
switches, IPIs, steals, migrations, run-queue lock spins and RPC calls the kernel
counted. These are costs, and they repeat exactly. Then the speed runs, `speed-HARTS-rN`:
sched=perhart wakeup=ipi ipi=sswi without icount (one host thread per hart), SPEED_REPEATS
boots at each hart count, operations per second by the guest's time CSR (the host's
real time); their medians give the measured speedup over one hart, printed beside the
speedup the icount costs predict (see predicted_speedup). A host with fewer free cores
than harts cannot show a speedup past its cores: a warning says so. Last, the profiler
(tools/profile.py) splits one same-hart message and one RPC round trip by function, and
tools/plot.py draws the plots (PNG and SVG beside results.json).

    --only NAMES   runs by name or prefix (exp, exp-perhart, exp-perhart-ipi-sswi-4, speed,
                   sched, one-hart, ...); words with '=' among them go to expbench as
                   arguments (work=pairs mech=rpc place=cross, ops=N): one cell in seconds
                   (`scons bench BENCH="exp-perhart-ipi-sswi-4 work=pairs mech=rpc"`)

A record in results.json: the run's name, its factors (harts, boot arguments, the build
mode, and for the scheduler runs the policy and whether icount was on), the metric's name
and label, its value and unit (instructions, or events per operation); plus, once per
file, the QEMU version, the kernel's git revision and the host's core count.
"""

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "grade"))
sys.path.insert(0, os.path.join(REPO_ROOT, "tools"))
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
# Lab 6's experiment: expbench under icount for every scheduler, wakeup and hart count,
# then without icount for the speedup. The wakeups' boot arguments, by their factor name:
EXP_WAKEUPS = {"tick": "wakeup=tick", "ipi-sbi": "wakeup=ipi ipi=sbi",
               "ipi-sswi": "wakeup=ipi ipi=sswi"}
EXP_HARTS = [1, 2, 4, 8]
EXP_OPS = 200            # requests per client in a cost cell
SPEED_OPS = 3000         # ... and in a speed cell: long enough for the host's clock
SPEED_REPEATS = 5
SPEED_CONFIG = {"sched": "perhart", "wakeup": "ipi-sswi"}
SPEED_BOOTARGS = "sched=perhart wakeup=ipi ipi=sswi work=pairs,shared,chain place=same"
EXP_UNTIL = r"^expbench: done \(status \d+\)$"
EXP_RUNS = [
    {"name": f"exp-{sched}-{wakeup}-{harts}", "cpus": harts, "kind": "exp",
     "bootargs": f"run=expbench ops={EXP_OPS} sched={sched} {EXP_WAKEUPS[wakeup]}",
     "until": EXP_UNTIL, "factors": {"experiment": 1, "icount": 1, "sched": sched,
                                     "wakeup": wakeup}}
    for sched in ("global", "perhart") for wakeup in EXP_WAKEUPS for harts in EXP_HARTS]
SPEED_RUNS = [
    {"name": f"speed-{harts}-r{rep}", "cpus": harts, "kind": "exp", "icount": False,
     "bootargs": f"run=expbench ops={SPEED_OPS} {SPEED_BOOTARGS}", "until": EXP_UNTIL,
     "factors": dict(SPEED_CONFIG, experiment=1, icount=0, repeat=rep)}
    for harts in EXP_HARTS for rep in range(1, SPEED_REPEATS + 1)]
CELL = re.compile(r"^expbench: cell (work=\S+ mech=\S+ place=\S+ harts=.*)$", re.MULTILINE)
CELL_FAILED = re.compile(r"^expbench: (cell .* failed: .*|the chain .*)$", re.MULTILINE)
FIELD = re.compile(r"(\w+)=(\S+)")
EXP_COUNTERS = ["switches", "ipis", "steals", "migrations", "spins", "rpcs"]

# schedbench's runs: each policy at each hart count, under icount and then without.
SCHED_HARTS = [1, 2, 4, 8]
SCHED_RUNS = [
    {"name": f"sched-{sched}-{harts}{'' if icount else '-parallel'}", "cpus": harts,
     "bootargs": f"run=schedbench sched={sched}", "icount": icount,
     "until": r"^schedbench: done \(status 0\)$",
     "factors": {"sched": sched, "icount": int(icount)}}
    for icount in (True, False) for sched in ("global", "perhart") for harts in SCHED_HARTS]
RUNS += SCHED_RUNS + EXP_RUNS + SPEED_RUNS
METRICS.update({"pairs": "pairs", "storm": "storm"})
COUNTS = re.compile(r"^schedbench: (\w+) counts: ops (\d+) switches (\d+) steals (\d+) "
                    r"migrations (\d+) spins (\d+)$", re.MULTILINE)
COUNTERS = ["switches", "steals", "migrations", "spins"]
LINE = re.compile(r"^(\w+): ([^:\n]+): (\d+) instructions", re.MULTILINE)
BOOT_TIMEOUT = 300


def boot(config, run, log_dir, extra=""):
    """Boots one run (under icount unless it says not) until it is done; its console."""
    log = os.path.join(log_dir, run["name"] + ".log")
    bootargs = f"{run['bootargs']} {extra}".strip()
    m = shuttle_qemu.Machine(config, log, cpus=run["cpus"], bootargs=bootargs,
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
    return m.log, log


def run_once(config, run, log_dir):
    """Boots an ipcbench or schedbench run; returns (its measurements, its counts:
    {workload: {"ops": n, "switches": n, ...}})."""
    text, log = boot(config, run, log_dir)
    found = [(label, int(n)) for _, label, n in LINE.findall(text) if label in METRICS]
    if not run.get("icount", True):
        found = []   # the host's clock: no instruction counts
    counts = {w: dict(zip(["ops"] + COUNTERS, map(int, rest)))
              for w, *rest in COUNTS.findall(text)}
    if not found and not counts:
        raise SystemExit(f"bench: run {run['name']} printed no measurement; "
                         f"see {os.path.relpath(log, REPO_ROOT)}")
    return found, counts


def cell_records(run, factors, cell):
    """The records of one expbench cell: under icount its cost per operation and its
    counters per operation; without, its operations per second (and the counters)."""
    ops = int(cell["ops"])
    f = dict(factors, work=cell["work"], mech=cell["mech"], place=cell["place"])
    out = []
    if run.get("icount", True):
        out.append(("instructions", int(cell["instructions"]) / ops, "instructions per operation"))
    else:
        out.append(("ops_per_sec", ops / (int(cell["ns"]) / 1e9), "operations per second"))
    out += [(c, int(cell[c]) / ops, "per operation") for c in EXP_COUNTERS]
    return [{"run": run["name"], "metric": metric, "label": f"{cell['work']}/{cell['mech']}/"
             f"{cell['place']}: {metric}", "factors": f, "value": value, "unit": unit}
            for metric, value, unit in out]


def run_experiment(config, run, log_dir, factors, extra):
    """Boots an expbench run; returns (its records, the cells that failed)."""
    text, log = boot(config, run, log_dir, extra)
    cells, failed = [], CELL_FAILED.findall(text)
    for line in CELL.findall(text):
        cell = dict(FIELD.findall(line))
        if all(cell.get(k, "").isdigit() for k in ["ops", "instructions", "ns"] + EXP_COUNTERS):
            cells.append(cell)
        else:   # another hart's output inside the line, say
            failed.append(f"a cell line that does not parse: {line}")
    if not cells and not failed:
        raise SystemExit(f"bench: run {run['name']} printed no cell; "
                         f"see {os.path.relpath(log, REPO_ROOT)}")
    records = [r for cell in cells for r in cell_records(run, factors, cell)]
    return records, [f"{run['name']}: {f}" for f in failed]


def describe_host():
    qemu = subprocess.run(["qemu-system-riscv64", "--version"], capture_output=True,
                          text=True).stdout.split("\n")[0]
    rev = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT,
                         capture_output=True, text=True).stdout.strip()
    return {"qemu": qemu, "kernel": rev or "unknown", "host_cores": os.cpu_count()}


def merge_into(earlier, results):
    """A chosen subset of runs (--only) updates an earlier results.json rather than
    replacing it: a record of the new runs (a run and a label) replaces the earlier one,
    the earlier ones the new runs did not measure stay, and so does the profile; the
    kernel revisions of both are kept. Returns how many earlier records stayed."""
    new = {(r["run"], r["label"]) for r in results["records"]}
    kept = [r for r in earlier.get("records", []) if (r["run"], r["label"]) not in new]
    results["records"] = kept + results["records"]
    if "profile" in earlier and "profile" not in results:
        results["profile"] = earlier["profile"]
    if kept:
        results["earlier_kernel"] = earlier.get("kernel", "unknown")
    results["speedup"] = speedup_summary(results["records"])
    return len(kept)


def print_message_vs_rpc(ipc):
    """Lab 5's comparison, per run that measured both: a null round trip as a message
    (two threads) and as a migrating-thread RPC (one)."""
    for run in dict.fromkeys(r["run"] for r in ipc):
        got = {r["metric"]: r["value"] for r in ipc if r["run"] == run}
        if "ipc_same" in got and "rpc_same" in got:
            print(f"  {run}: same-hart round trip, message {got['ipc_same']:,} vs RPC "
                  f"{got['rpc_same']:,} instructions (RPC/message {got['rpc_same'] / got['ipc_same']:.2f})")


def print_table(records):
    records = [r for r in records if "experiment" not in r["factors"]]
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


# --- Lab 6: the experiment's tables and the speedup -------------------------------------

def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return (xs[n // 2] + xs[(n - 1) // 2]) / 2


def cost_of(records, sched, wakeup, work, mech, place, harts):
    """An icount cell's instructions per operation, or None. At one hart every placement
    is the cell measured as `same`."""
    place = "same" if harts == 1 else place
    for r in records:
        f = r["factors"]
        if (r["metric"] == "instructions" and f.get("experiment") and f["icount"] and
                (f["sched"], f["wakeup"], f["work"], f["mech"], f["place"], f["harts"]) ==
                (sched, wakeup, work, mech, place, harts)):
            return r["value"]
    return None


def predicted_speedup(records, work, mech, place, harts):
    """The speedup over one hart that the icount costs predict: harts x cost(1) / cost(harts).

    Under icount a cost is the instructions of every hart per operation, plus any time all
    of them waited for a timer. If that work spread evenly over the harts and no hart ever
    waited for another, operations would complete harts / cost(harts) per instruction
    time, against 1 / cost(1) on one hart. What the cost grows by from one hart to many
    (cross-hart wakeups, IPIs, lock spins, idle waits for a tick) is the overhead this
    model charges; what it cannot see is harts waiting for each other, which the measured
    speedup shows as falling below the prediction."""
    c1 = cost_of(records, SPEED_CONFIG["sched"], SPEED_CONFIG["wakeup"], work, mech, place, 1)
    ch = cost_of(records, SPEED_CONFIG["sched"], SPEED_CONFIG["wakeup"], work, mech, place, harts)
    return harts * c1 / ch if c1 and ch else None


def speedup_summary(records):
    """One entry per (work, mech, place, harts) of the speed runs: the medians, spread and
    measured speedup over one hart, and the prediction (None when the icount cells for
    SPEED_CONFIG were not run)."""
    runs = {}
    for r in records:
        f = r["factors"]
        if f.get("experiment") and not f["icount"] and r["metric"] == "ops_per_sec":
            runs.setdefault((f["work"], f["mech"], f["place"], f["harts"]), []).append(r["value"])
    out = []
    for (work, mech, place, harts), values in sorted(runs.items()):
        one = runs.get((work, mech, place, 1))
        out.append(dict(SPEED_CONFIG, work=work, mech=mech, place=place, harts=harts,
                        median=median(values), min=min(values), max=max(values), runs=values,
                        measured=median(values) / median(one) if one else None,
                        predicted=predicted_speedup(records, work, mech, place, harts)))
    return out


def print_experiment(records):
    """The icount costs: a row per configuration and cell, instructions per operation at
    each hart count, and IPIs and switches per operation at the largest."""
    cells = {}
    for r in records:
        f = r["factors"]
        if f.get("experiment") and f["icount"]:
            key = (f["work"], f["mech"], f["place"], f["sched"], f["wakeup"])
            cells.setdefault(key, {}).setdefault(f["harts"], {})[r["metric"]] = r["value"]
    if not cells:
        return
    harts = sorted({h for v in cells.values() for h in v})
    print(f"\n{'work':<7}{'mech':<5}{'place':<6}{'sched':<8}{'wakeup':<9}"
          + "".join(f"{f'{h} hart' + ('s' if h > 1 else ''):>11}" for h in harts)
          + f"{'IPIs/op':>9}{'switch/op':>10}  (at the most harts; icount instructions per op)")
    for key in sorted(cells):
        row = cells[key]
        top = row[max(row)]
        print(f"{key[0]:<7}{key[1]:<5}{key[2]:<6}{key[3]:<8}{key[4]:<9}"
              + "".join(f"{row[h]['instructions']:>11,.0f}" if h in row else f"{'-':>11}"
                        for h in harts)
              + f"{top['ipis']:>9.2f}{top['switches']:>10.2f}")


def print_speedup(summary, free):
    if not summary:
        return
    print(f"\nspeedup over one hart, wall clock ({SPEED_CONFIG['sched']}, {SPEED_CONFIG['wakeup']}, "
          f"no icount; median of {SPEED_REPEATS} runs), and what the icount costs predict:")
    print(f"{'work':<7}{'mech':<5}{'place':<6}{'harts':>6}{'ops/s median':>14}{'min':>11}"
          f"{'max':>11}{'speedup':>9}{'predicted':>10}")
    for e in summary:
        note = "  (more harts than free host cores)" if e["harts"] > free else ""
        measured = f"{e['measured']:.2f}" if e["measured"] else "-"
        predicted = f"{e['predicted']:.2f}" if e["predicted"] else "-"
        print(f"{e['work']:<7}{e['mech']:<5}{e['place']:<6}{e['harts']:>6}{e['median']:>14,.0f}"
              f"{e['min']:>11,.0f}{e['max']:>11,.0f}{measured:>9}{predicted:>10}{note}")


def free_cores():
    """The host's cores not already busy (its one-minute load subtracted), at least 1."""
    cores = len(os.sched_getaffinity(0))
    return max(1, cores - int(os.getloadavg()[0] + 0.5))


def profile_round_trips(cross):
    """Per function, the instructions of one same-hart null round trip by message and by
    RPC (tools/profile.py, 200 of each, divided by 200): {"message": {...}, "rpc": {...}}."""
    spec = importlib.util.spec_from_file_location(
        "shuttle_profile", os.path.join(REPO_ROOT, "tools", "profile.py"))
    prof = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(prof)
    out = {}
    for mech, bench in (("message", "same"), ("rpc", "rpc")):
        print(f"bench: profiling a {mech} round trip (tools/profile.py)", flush=True)
        windows = prof.profile_functions(f"run=ipcbench {PROFILE_TRIPS} bench={bench}",
                                         cross=cross, cpus=1)
        out[mech] = {name: n / PROFILE_TRIPS for name, n in windows[0]["functions"].items()}
    return out


PROFILE_TRIPS = 200


# --- the command line --------------------------------------------------------------------

def choose_runs(parser, only):
    """The runs --only names (all when it is empty), and the expbench arguments in it."""
    words = (only or "").replace(",", " ").split()
    extra = " ".join(w for w in words if "=" in w)
    names = [w for w in words if "=" not in w]
    if not names:
        return (RUNS if not extra else EXP_RUNS), extra

    def chosen(run, name):
        return run["name"] == name or run["name"].startswith(name + "-")
    unknown = [n for n in names if not any(chosen(r, n) for r in RUNS)]
    if unknown:
        parser.error(f"no run named {', '.join(unknown)}")
    return [r for r in RUNS if any(chosen(r, n) for n in names)], extra


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run names or their prefixes up to a '-' (e.g. sched, "
                        "exp-perhart, speed), and expbench arguments (work=pairs mech=rpc), "
                        "comma- or space-separated: " + ", ".join(r["name"] for r in RUNS))
    parser.add_argument("--out", default=os.path.join(REPO_ROOT, "build", "bench"),
                        help="where results.json, the plots and the logs go (default build/bench)")
    parser.add_argument("--mode", default="debug", help="the build's MODE, for the records")
    parser.add_argument("--cross", help="binutils prefix for the profiler")
    parser.add_argument("--no-profile", action="store_true", help="skip the round trips' profiles")
    parser.add_argument("--no-plots", action="store_true", help="skip the plots")
    args = parser.parse_args(argv)
    runs, extra = choose_runs(parser, args.only)
    try:
        config = shuttle_qemu.load_config(REPO_ROOT)
    except shuttle_qemu.ConfigError as e:
        raise SystemExit(f"bench: {e}")
    os.makedirs(args.out, exist_ok=True)
    free = free_cores()
    if any(not r.get("icount", True) and r["cpus"] > free for r in runs):
        print(f"bench: warning: the host has {free} free core{'s' if free > 1 else ''}; runs "
              f"without icount at more harts than that measure the host, not the kernel",
              flush=True)
    records, failures = [], []
    for i, run in enumerate(runs, 1):
        print(f"bench: run {i} of {len(runs)} ({len(runs) - i} left after it): {run['name']} "
              f"({run['bootargs']}{' ' + extra if extra and run.get('kind') else ''}, "
              f"{run['cpus']} hart{'s' if run['cpus'] > 1 else ''})", flush=True)
        started = time.monotonic()
        factors = dict(run["factors"], harts=run["cpus"], mode=args.mode,
                       bootargs=f"{run['bootargs']} {extra}".strip() if run.get("kind")
                       else run["bootargs"])
        if run.get("kind") == "exp":
            try:
                got, failed = run_experiment(config, run, args.out, factors, extra)
            except SystemExit as e:  # a boot that failed: the other runs still count
                got, failed = [], [str(e)]
            records += got
            failures += failed
            print(f"bench:   done in {time.monotonic() - started:.1f} s", flush=True)
            continue
        found, counts = run_once(config, run, args.out)
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
    print_experiment(records)
    summary = speedup_summary(records)
    print_speedup(summary, free)
    results = dict(describe_host(), mode=args.mode, free_cores=free,
                   clock="icount: guest instructions, all harts summed (runs with icount 0: "
                   "the host's real time, and counts)", records=records, speedup=summary)
    if not args.no_profile and not args.only:
        try:
            results["profile"] = profile_round_trips(args.cross)
        except Exception as e:  # the profile is a plot's input: its failure is reported
            failures.append(f"profile: {e}")
    path = os.path.join(args.out, "results.json")
    if args.only and os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as f:
                earlier = json.load(f)
        except (OSError, ValueError) as e:
            earlier = {}
            print(f"bench: {os.path.relpath(path, REPO_ROOT)} could not be read ({e}): "
                  f"replaced by this subset alone")
        kept = merge_into(earlier, results)
        if kept:
            print(f"bench: kept {kept} records of earlier runs (kernel "
                  f"{results['earlier_kernel']}) beside this subset's")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print(f"\nbench: wrote {os.path.relpath(path, REPO_ROOT)}")
    if not args.no_plots:
        import plot  # noqa: E402  (tools/plot.py, beside this file: matplotlib only when asked)
        for p in plot.write_all(results, args.out):
            print(f"bench: wrote {os.path.relpath(p, REPO_ROOT)}")
    if failures:
        print("\nbench: what failed:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
