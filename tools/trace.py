#!/usr/bin/python3
"""Per-hart traces (Lab 6): boots a program with the kernel's event rings on, gets the
rings out at power-off through GDB, and writes them as a Chrome trace-event file that
Perfetto (https://ui.perfetto.dev, "Open trace file") or chrome://tracing opens.

    /usr/bin/python3 tools/trace.py --bootargs "run=ipcbench 200 bench=same,rpc" [--cpus N]
                                    [--icount] [--out build/trace]
    scons trace BOOTARGS=run=ipcbench [CPUS=N] [ICOUNT=1]

The run must power off by itself (boot with run=PROGRAM: init powers off when it ends).
QEMU starts stopped, with its GDB stub on a local port; gdb-multiarch attaches, breaks
at trace_stop() (power_off calls it when `trace` was given), prints `trace_info`, writes
each hart's ring (its head, then its pages in order) to rings.bin with GDB's Python, and
kills QEMU. Why GDB and not the console: the rings are 128 KiB a
hart, which the UART would take minutes to print under icount, and the console stays
what the program printed (kern/lib/trace.h).

The JSON: one process, "Shuttle", and one track (tid) per hart. On each track a slice
for every stretch a thread ran ("NAME (pid P) tid T", or "idle loop") and, inside the
idle loop, each sleep in wfi; instant events for IPC calls and replies, RPC entries and
returns, wakeups and steals; and for each IPI a slice where it was taken, with a flow
arrow from where it was sent. Times are the time CSR's (ts in microseconds from the
first record): without --icount, the host's real time; with it, icount's virtual time.
Each ring keeps a hart's last 8,192 records; the summary says how many were
overwritten (the trace then starts later on that hart).
"""

import argparse
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import threading

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "grade"))
import shuttle_qemu  # noqa: E402  (build/shuttle.json and the QEMU command line)

# enum trace_event in kern/lib/trace.h, in its order.
EVENTS = [None, "switch", "idle_enter", "idle_exit", "ipc_call", "ipc_reply", "rpc_enter",
          "rpc_return", "ipi_send", "ipi_take", "steal", "wakeup", "name"]
TRACE_MAGIC = 0x5348545452414345
RING_HEADER = struct.Struct("<Q")       # head, then the ring's pages in order
RECORD = struct.Struct("<QII")          # time, event | a << 8, b
IPI_REASONS = ["wake", "call", "resched", "tlb", "kick"]   # enum ipi_reason's bits
IPI_SLICE_US = 0.2                      # how long an IPI's slice is drawn, at most
PID = 1                                 # the one process of the trace: the machine


class TraceError(Exception):
    pass


# --- getting the rings out -------------------------------------------------------------

# Runs inside GDB at the breakpoint: each hart's head, then its pages (kern/lib/trace.h).
GDB_DUMP = """python
import gdb
def value(expr):
    return int(gdb.parse_and_eval(expr))
memory = gdb.selected_inferior()
pages = value("sizeof(trace_rings[0].page) / sizeof(trace_rings[0].page[0])")
with open({path!r}, "wb") as f:
    for h in range(value("trace_info.nharts")):
        f.write(value("trace_rings[%d].head" % h).to_bytes(8, "little"))
        for p in range(pages):
            f.write(bytes(memory.read_memory(value("(unsigned long)trace_rings[%d].page[%d]"
                                                   % (h, p)), 4096)))
end"""


def gdb_script(kernel, port, rings_path):
    return "\n".join([
        "set confirm off", "set pagination off", "set width 0",
        f"file {kernel}",
        f"target remote 127.0.0.1:{port}",
        "break trace_stop",
        "continue",
        'printf "TRACEINFO %lu %lu %lu %lu\\n", trace_info.magic, trace_info.nharts, '
        "trace_info.timebase, trace_info.records",
        GDB_DUMP.format(path=rings_path),
        "kill", "quit", ""])


def echo_console(stream, log, quiet):
    """Copies QEMU's console to the log file (and the terminal) until it closes."""
    with open(log, "wb") as f:
        for line in iter(stream.readline, b""):
            f.write(line)
            if not quiet:
                sys.stdout.write(line.decode(errors="replace"))
                sys.stdout.flush()


def capture(config, bootargs, cpus, icount, out, timeout, quiet):
    """Runs the traced boot; returns (info dict, path of the rings' dump)."""
    gdb = shutil.which("gdb-multiarch")
    if not gdb:
        raise TraceError("gdb-multiarch not found: install it with `apt-get install gdb-multiarch`")
    port = 30000 + os.getpid() % 2000
    rings = os.path.join(out, "rings.bin")
    if os.path.exists(rings):
        os.remove(rings)
    cmd = shuttle_qemu.qemu_command(config, bootargs, cpus=cpus, icount=icount, gdb_port=port)
    qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    console = threading.Thread(target=echo_console,
                               args=(qemu.stdout, os.path.join(out, "console.log"), quiet))
    console.start()
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".gdb") as script:
            script.write(gdb_script(config.kernel, port, rings))
            script.flush()
            try:
                r = subprocess.run([gdb, "-q", "-nx", "-batch", "-x", script.name],
                                   capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise TraceError(f"the run did not power off within {timeout:g} s: boot "
                                 "with run=PROGRAM (init powers off when it ends), or pass "
                                 "a longer --timeout") from None
    finally:
        if qemu.poll() is None:
            qemu.kill()
        qemu.wait()
        console.join(timeout=5)
    info = next((line.split()[1:] for line in r.stdout.splitlines()
                 if line.startswith("TRACEINFO ")), None)
    if not info or not os.path.exists(rings):
        raise TraceError("GDB did not stop at trace_stop: did the kernel trace (`trace=1` "
                         "in the boot arguments) and power off?\n--- gdb ---\n"
                         + (r.stdout + r.stderr)[-2000:])
    magic, nharts, timebase, records = map(int, info)
    if magic != TRACE_MAGIC:
        raise TraceError("trace_info has no magic: the kernel is not one that traces")
    return {"nharts": nharts, "timebase": timebase, "records": records}, rings


def read_rings(path, nharts, records):
    """[[(time, event name, a, b), ...] per hart, oldest first], [overwritten per hart]."""
    data = open(path, "rb").read()
    size = RING_HEADER.size + records * RECORD.size
    if len(data) < nharts * size:
        raise TraceError(f"{path}: {len(data)} bytes, not the {nharts * size} of {nharts} rings")
    harts, lost = [], []
    for h in range(nharts):
        base = h * size
        head, = RING_HEADER.unpack_from(data, base)
        # Once a ring has wrapped, its oldest slot may hold a record half written over
        # (GDB stopped the hart in the middle of one: kern/lib/trace.c): left out.
        n = min(head, records - 1)
        first = head - n
        out = []
        for i in range(first, head):
            time, word, b = RECORD.unpack_from(data, base + RING_HEADER.size
                                               + (i % records) * RECORD.size)
            code = word & 0xff
            if 0 < code < len(EVENTS):   # a record cut short by the stop is dropped
                out.append((time, EVENTS[code], word >> 8, b))
        out.sort(key=lambda r: r[0])
        harts.append(out)
        lost.append(first)
    return harts, lost


# --- Chrome trace-event JSON ------------------------------------------------------------

def reasons_text(bits):
    return "+".join(name for i, name in enumerate(IPI_REASONS) if bits & (1 << i)) or "none"


def instant(name, ts, hart, args):
    return {"name": name, "ph": "i", "s": "t", "ts": ts, "pid": PID, "tid": hart, "args": args}


def process_names(harts):
    """{pid: name} from the name records of every hart."""
    parts = {}
    for recs in harts:
        for _, ev, a, b in recs:
            if ev == "name":
                parts.setdefault(a & 0xfffff, {})[a >> 20] = b.to_bytes(4, "little")
    names = {}
    for pid, chunks in parts.items():
        raw = b"".join(chunks.get(i, b"") for i in range(4))
        names[pid] = raw.split(b"\0")[0].decode(errors="replace")
    return names


def thread_label(tid, pid, names):
    return f"{names[pid]} (pid {pid}) tid {tid}" if pid in names else f"pid {pid} tid {tid}"


def hart_events(hart, recs, us, names):
    """The events of one hart's track."""
    events = []
    running = None   # (name, start ts, args) of the slice open on this hart
    sleeping = None  # the ts its wfi began

    def close(ts):
        if running:
            name, start, args = running
            events.append({"name": name, "ph": "X", "ts": start, "dur": max(ts - start, 0),
                           "pid": PID, "tid": hart, "args": args, "cat": "run"})

    for i, (time, ev, a, b) in enumerate(recs):
        ts = us(time)
        if ev == "switch":
            close(ts)
            running = (thread_label(a, b, names) if a else "idle loop", ts,
                       {"tid": a, "pid": b} if a else {})
        elif ev == "idle_enter":
            sleeping = ts
        elif ev == "idle_exit" and sleeping is not None:
            events.append({"name": "wfi", "ph": "X", "ts": sleeping, "dur": ts - sleeping,
                           "pid": PID, "tid": hart, "cat": "idle"})
            sleeping = None
        elif ev == "ipi_send":
            target, reasons = a & 0xff, a >> 8
            events.append(instant(f"IPI to hart {target} ({reasons_text(reasons)})", ts, hart,
                                  {"to": target, "flow": b}))
            events.append({"name": "IPI", "cat": "ipi", "ph": "s", "id": b, "ts": ts,
                           "pid": PID, "tid": hart})
        elif ev == "ipi_take":
            nxt = us(recs[i + 1][0]) if i + 1 < len(recs) else ts + IPI_SLICE_US
            dur = max(min(IPI_SLICE_US, nxt - ts), 0.001)
            events.append({"name": f"IPI taken ({reasons_text(a)})", "ph": "X", "ts": ts,
                           "dur": dur, "pid": PID, "tid": hart, "cat": "ipi",
                           "args": {"flow": b}})
            if b:
                events.append({"name": "IPI", "cat": "ipi", "ph": "f", "bp": "e", "id": b,
                               "ts": ts, "pid": PID, "tid": hart})
        elif ev == "ipc_call":
            events.append(instant(f"IPC call to tid {a}" if a else "IPC call (queued)", ts,
                                  hart, {"receiver tid": a, "caller pid": b}))
        elif ev == "ipc_reply":
            events.append(instant(f"IPC reply to tid {a}", ts, hart,
                                  {"caller tid": a, "server pid": b}))
        elif ev == "rpc_enter":
            events.append(instant(f"RPC enter {names.get(b, 'pid')} ({b})", ts, hart,
                                  {"depth": a, "server pid": b}))
        elif ev == "rpc_return":
            events.append(instant(f"RPC return to {names.get(b, 'pid')} ({b})", ts, hart,
                                  {"depth": a, "pid": b}))
        elif ev == "wakeup":
            where = "no hart in particular" if a == 0xff else f"for hart {a}"
            events.append(instant(f"wake tid {b} ({where})", ts, hart, {"tid": b, "hart": a}))
        elif ev == "steal":
            events.append(instant(f"steal tid {b} from hart {a}", ts, hart, {"tid": b, "from": a}))
    if recs:
        close(us(recs[-1][0]))
    return events


def chrome_trace(harts, info, bootargs):
    """The whole trace-event document for the rings of every hart."""
    times = [r[0] for recs in harts for r in recs]
    t0 = min(times) if times else 0
    scale = 1e6 / info["timebase"]

    def us(time):
        return round((time - t0) * scale, 3)

    names = process_names(harts)
    events = [{"name": "process_name", "ph": "M", "pid": PID,
               "args": {"name": f"Shuttle, {info['nharts']} harts"}}]
    for h, recs in enumerate(harts):
        events.append({"name": "thread_name", "ph": "M", "pid": PID, "tid": h,
                       "args": {"name": f"hart {h}"}})
        events.append({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": h,
                       "args": {"sort_index": h}})
        events += hart_events(h, recs, us, names)
    # Flow ends whose start was overwritten (or never recorded) would dangle: drop them.
    starts = {e["id"] for e in events if e.get("ph") == "s"}
    events = [e for e in events if e.get("ph") != "f" or e["id"] in starts]
    return {"traceEvents": events, "displayTimeUnit": "ns",
            "otherData": {"bootargs": bootargs, "timebase": info["timebase"],
                          "harts": info["nharts"]}}


def parse_args(argv):
    p = argparse.ArgumentParser(prog="tools/trace.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--bootargs", default="", help="what to run, e.g. 'run=ipcbench 200'; "
                   "trace=1 is added")
    p.add_argument("--cpus", type=int, help="harts (default: build/shuttle.json's, CPUS=)")
    p.add_argument("--icount", action="store_true", help="run under -icount (virtual time)")
    p.add_argument("--out", default=os.path.join(REPO_ROOT, "build", "trace"),
                   help="where trace.json, rings.bin and console.log go (default build/trace)")
    p.add_argument("--timeout", type=float, default=300, metavar="SECONDS",
                   help="give up when the run has not powered off by then (default 300)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not show the console")
    args = p.parse_args(argv)
    if "run=" not in args.bootargs:
        p.error("say what to run, e.g. --bootargs run=ipcbench (BOOTARGS=run=ipcbench): the "
                "run must power off by itself")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        config = shuttle_qemu.load_config(REPO_ROOT)
        shuttle_qemu.check_files(config)
    except shuttle_qemu.ConfigError as e:
        print(f"trace: {e}", file=sys.stderr)
        return 1
    bootargs = f"{args.bootargs} trace=1".strip()
    os.makedirs(args.out, exist_ok=True)
    try:
        info, rings = capture(config, bootargs, args.cpus, args.icount, args.out,
                              args.timeout, args.quiet)
        harts, lost = read_rings(rings, info["nharts"], info["records"])
    except TraceError as e:
        print(f"trace: {e}", file=sys.stderr)
        return 1
    doc = chrome_trace(harts, info, bootargs)
    path = os.path.join(args.out, "trace.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    print()
    for h, (recs, n) in enumerate(zip(harts, lost)):
        print(f"trace: hart {h}: {len(recs):,} records" +
              (f" (the {n:,} before them were overwritten)" if n else ""))
    print(f"trace: wrote {os.path.relpath(path)} ({len(doc['traceEvents']):,} events); open it "
          "in https://ui.perfetto.dev (Open trace file) or chrome://tracing (Load)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
