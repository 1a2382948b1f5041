"""Lab 6's host-side tools without QEMU: the plots from a results.json (tools/plot.py), the
speedup arithmetic (tools/bench.py), and the trace converter on rings written here in the
kernel's layout (tools/trace.py). The grader (test_lab6.py) runs them on real boots; these
check the corners a real boot does not reach: missing data, a ring that wrapped, a record
cut short, an IPI whose send was overwritten.
"""

import importlib.util
import json
import os
import sys
from itertools import product

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "tools"))
import bench  # noqa: E402


def load_tool(name):
    """tools/NAME.py by its path: `trace` is also a standard module's name."""
    spec = importlib.util.spec_from_file_location(f"shuttle_{name}",
                                                  os.path.join(REPO_ROOT, "tools", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


trace = load_tool("trace")


def cost_record(sched, wakeup, harts, work, mech, place, value, metric="instructions"):
    return {"run": f"exp-{sched}-{wakeup}-{harts}", "metric": metric, "label": "x",
            "unit": "u", "value": value,
            "factors": {"experiment": 1, "icount": 1, "sched": sched, "wakeup": wakeup,
                        "harts": harts, "work": work, "mech": mech, "place": place}}


def speed_record(harts, work, mech, rep, value):
    return {"run": f"speed-{harts}-r{rep}", "metric": "ops_per_sec", "label": "x", "unit": "u",
            "value": value,
            "factors": {"experiment": 1, "icount": 0, "sched": "perhart", "wakeup": "ipi-sswi",
                        "harts": harts, "work": work, "mech": mech, "place": "same",
                        "repeat": rep}}


def fake_results():
    records = []
    for sched, wakeup, harts, work, mech in product(
            ["global", "perhart"], ["tick", "ipi-sbi", "ipi-sswi"], [1, 2, 4, 8],
            ["null", "pairs", "shared", "chain"], ["msg", "rpc"]):
        for place in (["same"] if harts == 1 else ["same", "cross", "free"]):
            base = 1800 if mech == "msg" else 1700
            value = base * (1 + (harts > 1 and place == "cross" and mech == "msg") * 3)
            records.append(cost_record(sched, wakeup, harts, work, mech, place, value))
            for counter in bench.EXP_COUNTERS:
                records.append(cost_record(sched, wakeup, harts, work, mech, place, 0.5, counter))
    for harts, work, mech, rep in product([1, 2, 4, 8], ["pairs", "shared"], ["msg", "rpc"],
                                          range(1, 6)):
        records.append(speed_record(harts, work, mech, rep, 1000.0 * min(harts, 2) + rep))
    return {"qemu": "QEMU 7.2", "kernel": "test", "host_cores": 2, "records": records,
            "speedup": bench.speedup_summary(records),
            "profile": {"message": {"kernel:ipc_fastpath_call": 175, "kernel:uservec": 30,
                                    "ipcbench:ipc_call": 22},
                        "rpc": {"kernel:rpc_call_fast": 174, "kernel:rpc_trap": 60,
                                "ipcbench:rpc_null": 10}}}


def test_speedup_and_prediction():
    """The speedup is the median's ratio to one hart's, the prediction harts x c1 / cN"""
    summary = {(e["work"], e["mech"], e["harts"]): e
               for e in bench.speedup_summary(fake_results()["records"])}
    e = summary[("pairs", "msg", 4)]
    assert e["median"] == 2003 and e["min"] == 2001 and e["max"] == 2005
    assert e["measured"] == pytest.approx(2003 / 1003)
    assert e["predicted"] == pytest.approx(4.0)  # same placement: cost(4) == cost(1)


def test_subset_merges_into_earlier_results():
    """A subset's records replace their own earlier ones and leave the rest (and the
    profile) as they were"""
    earlier = fake_results()
    earlier["kernel"] = "old"
    redo = [r for r in earlier["records"] if r["run"] == "speed-2-r1"]
    new_records = [dict(r, value=r["value"] * 10) for r in redo]
    results = {"kernel": "new", "records": new_records}
    kept = bench.merge_into(earlier, results)
    assert kept == len(earlier["records"]) - len(redo) > 0
    assert len(results["records"]) == len(earlier["records"])
    assert [r["value"] for r in results["records"] if r["run"] == "speed-2-r1"] == \
        [r["value"] * 10 for r in redo]
    assert results["profile"] == earlier["profile"] and results["earlier_kernel"] == "old"
    assert results["speedup"] != earlier["speedup"]  # recomputed from the new median


def test_plots_written(tmp_path):
    """Every plot is written as PNG and SVG from a complete results.json"""
    pytest.importorskip("matplotlib", reason="apt-get install python3-matplotlib")
    import plot
    paths = plot.write_all(fake_results(), str(tmp_path))
    names = {os.path.basename(p) for p in paths}
    for stem in ("cost-same", "cost-cross", "cost-free", "speedup", "breakdown", "counters"):
        for ext in ("png", "svg"):
            assert f"{stem}.{ext}" in names, f"no {stem}.{ext} in {sorted(names)}"
            assert (tmp_path / f"{stem}.{ext}").stat().st_size > 1000


def test_plots_skip_what_is_missing(tmp_path, capsys):
    """A results.json with only the micro-benchmarks gives no plot and no error"""
    pytest.importorskip("matplotlib", reason="apt-get install python3-matplotlib")
    import plot
    results = {"qemu": "q", "kernel": "k", "host_cores": 2, "records": [
        {"run": "one-hart", "metric": "syscall", "label": "x", "unit": "u", "value": 100,
         "factors": {"harts": 1}}]}
    assert plot.write_all(results, str(tmp_path)) == []
    assert "skipping" in capsys.readouterr().out


# --- the trace converter --------------------------------------------------------------

RECORDS = 8  # a small ring, as trace_info.records says


def ring(head, recs):
    """One hart's ring as tools/trace.py writes it: head, then RECORDS records; recs are
    (index since boot, time, event code, a, b), placed at index % RECORDS."""
    slots = [(0, 0, 0)] * RECORDS
    for i, time, code, a, b in recs:
        slots[i % RECORDS] = (time, code | a << 8, b)
    return trace.RING_HEADER.pack(head) + b"".join(trace.RECORD.pack(*r) for r in slots)


def code(name):
    return trace.EVENTS.index(name)


def test_trace_converts_rings(tmp_path):
    """Rings become tracks, slices, instants and IPI flows; a wrapped ring keeps its newest
    records but its oldest slot, which a record cut short may have half written over"""
    name = int.from_bytes(b"kvs\0", "little")
    hart0 = ring(3, [(0, 100, code("name"), 5, name),
                     (1, 110, code("switch"), 9, 5),
                     (2, 150, code("ipi_send"), 1 | 4 << 8, 77)])
    # Hart 1 wrote 10 records into 8 slots: the first two were overwritten.
    hart1 = ring(10, [(i, 100 + 10 * i, code("idle_enter"), 0, 0) for i in range(2, 8)]
                 + [(8, 180, code("ipi_take"), 4, 77), (9, 190, code("switch"), 12, 5)])
    path = tmp_path / "rings.bin"
    path.write_bytes(hart0 + hart1)
    harts, lost = trace.read_rings(str(path), 2, RECORDS)
    assert lost == [0, 3] and len(harts[1]) == RECORDS - 1
    doc = trace.chrome_trace(harts, {"nharts": 2, "timebase": 10_000_000}, "run=x")
    events = doc["traceEvents"]
    json.dumps(doc)  # it must be plain JSON
    tracks = {e["tid"]: e["args"]["name"] for e in events if e["name"] == "thread_name"}
    assert tracks == {0: "hart 0", 1: "hart 1"}
    slice0 = [e for e in events if e["ph"] == "X" and e["tid"] == 0]
    assert slice0 and slice0[0]["name"] == "kvs (pid 5) tid 9"
    assert slice0[0]["ts"] == pytest.approx(1.0) and slice0[0]["dur"] == pytest.approx(4.0)
    start = [e for e in events if e["ph"] == "s"]
    end = [e for e in events if e["ph"] == "f"]
    assert len(start) == 1 and len(end) == 1 and start[0]["id"] == end[0]["id"] == 77
    assert (start[0]["tid"], end[0]["tid"]) == (0, 1) and start[0]["ts"] < end[0]["ts"]


def test_trace_drops_what_it_cannot_read(tmp_path):
    """A record cut short (event 0) is dropped, and so is a flow whose send was lost"""
    hart0 = ring(2, [(0, 100, 0, 0, 0), (1, 120, code("ipi_take"), 4, 5)])
    path = tmp_path / "rings.bin"
    path.write_bytes(hart0)
    harts, _ = trace.read_rings(str(path), 1, RECORDS)
    assert [r[1] for r in harts[0]] == ["ipi_take"]
    doc = trace.chrome_trace(harts, {"nharts": 1, "timebase": 10_000_000}, "run=x")
    assert not [e for e in doc["traceEvents"] if e["ph"] == "f"]


def test_trace_rings_too_short(tmp_path):
    """A dump shorter than the rings it should hold is an error, not garbage"""
    path = tmp_path / "rings.bin"
    path.write_bytes(b"\0" * 10)
    with pytest.raises(trace.TraceError):
        trace.read_rings(str(path), 1, RECORDS)
