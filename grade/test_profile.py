"""Tests of the profiler, tools/profile.py (a tool test: no points).

The first tests are quick and need no QEMU: symbol lookup, reading nm and objdump output
and ELF program headers, the exec-log reader (windows, lines QEMU undoes, pieces cut
anywhere) and the call-stack builder, on small traces written here. The last one runs the
profiler on ipcbench twice, at the same time, and checks the window it reports: found,
its total the sum of its functions, the IPC stub and the trap vector in it, and the same
total both times (-icount runs repeat to the instruction). That one takes about a minute.
"""

import importlib.util
import os
import random
import re
import struct
import subprocess

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROFILER = os.path.join(REPO_ROOT, "tools", "profile.py")
TIMEOUT = 400 * float(os.environ.get("SHUTTLE_TIMEOUT_SCALE", "1"))

# Imported under another name: `profile` is also a module of Python's library.
_spec = importlib.util.spec_from_file_location("shuttle_profile", PROFILER)
prof = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prof)

CALL, RET, SRET = prof.CALL, prof.RET, prof.SRET

# A made-up machine: a kernel and one program, `app`, with a few functions each.
K = 0xffffffc080200000
A = 0x1000000
KERNEL_SYMBOLS = [(K + 0x000, "uservec"), (K + 0x100, "usertrap"), (K + 0x200, "syscall"),
                  (K + 0x300, "swtch"), (K + 0x400, "sched"), (K + 0x500, "userret"),
                  (K + 0x600, "kernelvec")]
APP_SYMBOLS = [(A + 0x000, "main"), (A + 0x100, "f"), (A + 0x200, "stub"),
               (A + 0x300, "recv_stub"), (A + 0x400, "profile_begin"),
               (A + 0x410, "profile_end")]
KERNEL_KINDS = {K + 0x110: (CALL, 4),      # usertrap calls syscall
                K + 0x120: (CALL, 4),      # usertrap calls sched
                K + 0x220: (RET, 2),       # syscall returns
                K + 0x308: (RET, 2),       # swtch returns (into whichever thread)
                K + 0x410: (CALL, 4),      # sched calls swtch
                K + 0x418: (RET, 2),       # sched returns
                K + 0x510: (SRET, 4)}      # userret
APP_KINDS = {A + 0x010: (CALL, 4),         # main calls f
             A + 0x110: (CALL, 4),         # f calls stub
             A + 0x120: (RET, 2),          # f returns
             A + 0x20c: (RET, 2),          # stub returns
             A + 0x30c: (RET, 2)}          # recv_stub returns


def made_up_symbols():
    kernel = prof.Image("kernel", "kernel.elf", [(K, K + 0x1000)], KERNEL_SYMBOLS,
                        kinds=KERNEL_KINDS)
    app = prof.Image("app", "app", [(A, A + 0x1000)], APP_SYMBOLS, kinds=APP_KINDS)
    return prof.SymbolMap([kernel, app])


def trace_line(hart, pc):
    return b"Trace %d: 0x7f2a10001234 [0000000000000000/%016x/00209003/ff020201] \n" % (hart, pc)


def stopped_line(pc):
    return b"Stopped execution of TB chain before 0x7f2a10001234 [%016x] \n" % pc


def rewound_line(pc):
    return b"cpu_io_recompile: rewound execution of TB to %016x\n" % pc


# --- symbols -------------------------------------------------------------------------

def test_names_kernel_program_firmware_unknown():
    symbols = made_up_symbols()
    assert symbols.name(K + 0x104) == "kernel:usertrap"
    assert symbols.name(K) == "kernel:uservec"
    assert symbols.name(A + 0x2ff) == "app:stub"
    assert symbols.name(A + 0xfff) == "app:profile_end"    # the last symbol runs to the end
    assert symbols.name(0x1000) == "firmware"              # QEMU's boot ROM
    assert symbols.name(0x8000c194) == "firmware"          # OpenSBI
    assert symbols.name(0x80200000) == "unknown"           # not in any image given
    assert symbols.name(A + 0x1000) == "unknown"           # just past app's text


def test_nm_output_keeps_code_and_one_name_per_address():
    text = """\
0000000000010000 T _start
0000000000010100 t helper
0000000000010200 T mem_fill
0000000000010200 T memset
0000000000010300 T __d_vfprintf
0000000000010300 T vfprintf
0000000000010400 W weak_thing
0000000000012000 R some_table
0000000000013000 B some_bss
0000000000010500 t .L_local
0000000000001000 A USER_BASE
"""
    assert prof.parse_nm(text) == [(0x10000, "_start"), (0x10100, "helper"),
                                   (0x10200, "memset"), (0x10300, "vfprintf"),
                                   (0x10400, "weak_thing")]


def test_objdump_kinds():
    text = """\
0000000015000000 <f>:
    15000000:\t1141                \tc.addi\tsp,-16
    15000a10:\tc54080e7          \tjalr\tra,-940(ra) # 15001660 <ipc_call>
    15000a14:\t00054663          \tblt\ta0,zero,15000a20 <round_trips+0x48>
    15000a20:\t8082                \tc.jr\tra
    15000a22:\t9782                \tc.jalr\ta5
    15000a24:\t8282                \tc.jr\tt0
    15000a26:\t00008067          \tjalr\tzero,0(ra)
    15000a2a:\t10200073          \tsret
    15000a2e:\t128000ef          \tjal\tra,15000b56 <g>
    15000a32:\t128002ef          \tjal\tt0,15000b5a <__riscv_save_0>
"""
    assert prof.parse_objdump(text) == {0x15000a10: (CALL, 4), 0x15000a20: (RET, 2),
                                        0x15000a22: (CALL, 2), 0x15000a26: (RET, 4),
                                        0x15000a2a: (SRET, 4), 0x15000a2e: (CALL, 4)}


def elf_image(segments, e_type=2):
    """A minimal little-endian RV64 ELF header and program headers."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    header = ident + struct.pack("<HHIQQQIHHHHHH", e_type, 243, 1, 0, 64, 0, 0, 64, 56,
                                 len(segments), 64, 0, 0)
    for p_type, flags, vaddr, memsz in segments:
        header += struct.pack("<IIQQQQQQ", p_type, flags, 0, vaddr, vaddr, memsz, memsz, 4096)
    return header


def test_exec_segments_from_program_headers(tmp_path):
    path = tmp_path / "prog"
    path.write_bytes(elf_image([(1, 5, 0x3000000, 0x4000), (1, 4, 0x3004000, 0x800),
                                (1, 6, 0x3005000, 0x100), (7, 4, 0x3004800, 8)]))
    assert prof.exec_segments(str(path)) == [(0x3000000, 0x3004000)]
    path.write_bytes(elf_image([(1, 5, 0, 0x100)], e_type=1))      # an object file
    assert prof.exec_segments(str(path)) is None
    path.write_bytes(b"#!/bin/sh\n")
    assert prof.exec_segments(str(path)) is None


def test_built_programs_do_not_share_addresses():
    """Every program under build/user has its own text (user/SConscript's bases)."""
    config = os.path.join(REPO_ROOT, "build", "shuttle.json")
    if not os.path.exists(config):
        pytest.skip("not built: run scons")
    spans = []
    for folder in ("bin", "servers"):
        top = os.path.join(REPO_ROOT, "build", "user", folder)
        for f in sorted(os.listdir(top)) if os.path.isdir(top) else []:
            segments = prof.exec_segments(os.path.join(top, f))
            spans += [(lo, hi, f) for lo, hi in segments or []]
    spans.sort()
    assert len(spans) > 10, spans
    for (lo1, hi1, a), (lo2, _, b) in zip(spans, spans[1:]):
        assert hi1 <= lo2, f"{a} and {b} overlap"
    assert spans[0][0] >= prof.USER_MIN


# --- the exec log --------------------------------------------------------------------

BEGIN, END = A + 0x400, A + 0x410


def made_up_log():
    """A log with two windows, lines QEMU undid, and what each window must count."""
    log, expect = [], [{}, {}]

    def run(hart, pc, window=None):
        log.append(trace_line(hart, pc))
        if window is not None:
            name = made_up_symbols().name(pc)
            expect[window][name] = expect[window].get(name, 0) + 1

    run(0, A)
    run(1, K + 0x100)
    run(0, A + 0x10)
    run(0, BEGIN, 0)                       # window 1 opens
    run(0, BEGIN + 2, 0)
    run(1, K + 0x104, 0)
    log.append(trace_line(1, K + 0x108))   # did not run ...
    log.append(stopped_line(K + 0x108))
    run(1, K + 0x108, 0)                   # ... until now
    run(0, A + 0x104, 0)
    log.append(trace_line(0, A + 0x108))
    log.append(rewound_line(A + 0x108))
    run(0, A + 0x108, 0)
    log.append(trace_line(0, END))         # an end that did not run yet
    log.append(stopped_line(END))
    run(1, 0x8000c194, 0)
    run(0, END)                            # window 1 ends
    run(0, END + 2)
    run(1, K + 0x200)
    log.append(trace_line(1, BEGIN))       # a begin that did not run yet
    log.append(stopped_line(BEGIN))
    run(0, K + 0x204)
    run(1, BEGIN, 1)                       # window 2 opens
    run(0, A + 0x20c, 1)
    run(1, END)
    run(1, A + 0x14)
    return b"".join(log), expect, len(log) - 8     # 4 undo lines, 4 Trace lines undone


def read_log(data, pieces, stacks=False):
    reader = prof.TraceReader(made_up_symbols(), {BEGIN}, {END}, stacks=stacks)
    for piece in pieces(data):
        reader.feed(piece)
    reader.finish()
    return reader


def test_reader_counts_each_window_and_drops_undone_lines():
    data, expect, traced = made_up_log()
    reader = read_log(data, lambda d: [d])
    assert [dict(w.functions) for w in reader.windows] == expect
    assert [w.ended for w in reader.windows] == [True, True]
    assert [dict(w.harts) for w in reader.windows] == [{0: 4, 1: 3}, {0: 1, 1: 1}]
    assert reader.traced == traced


def test_reader_gives_the_same_counts_whatever_the_pieces():
    data, expect, traced = made_up_log()
    rng = random.Random(9)
    for _ in range(30):
        def pieces(d):
            cuts = sorted(rng.sample(range(1, len(d)), rng.randint(1, 40)))
            return [d[a:b] for a, b in zip([0] + cuts, cuts + [len(d)])]
        reader = read_log(data, pieces)
        assert [dict(w.functions) for w in reader.windows] == expect
        assert reader.traced == traced
    one_byte = read_log(data, lambda d: [d[i:i + 1] for i in range(len(d))])
    assert [dict(w.functions) for w in one_byte.windows] == expect


def test_reader_reports_a_window_that_never_ends():
    data = trace_line(0, A) + trace_line(0, BEGIN) + trace_line(0, A + 0x104)
    reader = read_log(data, lambda d: [d])
    assert [(w.total, w.ended) for w in reader.windows] == [(2, False)]
    assert "did not end" in prof.format_window(reader.windows[0], 10)


def test_report_total_is_the_sum_of_its_rows():
    data, _, _ = made_up_log()
    window = read_log(data, lambda d: [d]).windows[0]
    report = prof.format_window(window, 0)
    rows = [int(m.group(1).replace(",", "")) for m in
            re.finditer(r"^\s+([\d,]+)\s+[\d.]+%\s+\S", report, re.MULTILINE)]
    assert sum(rows) == window.total == 7


# --- call stacks ---------------------------------------------------------------------

def fold(steps):
    builder = prof.StackBuilder(made_up_symbols())
    for hart, pc in steps:
        builder.step(hart, pc)
    return builder.folded


def test_stacks_follow_calls_traps_and_returns():
    folded = fold([(0, pc) for pc in (
        A, A + 0x10,                     # main calls f
        A + 0x100, A + 0x110,            # f calls stub
        A + 0x200, A + 0x208,            # stub: ecall
        K, K + 0x4,                      # the trap: uservec, then jumps to usertrap
        K + 0x100, K + 0x110,            # usertrap calls syscall
        K + 0x200, K + 0x220,            # syscall returns
        K + 0x114,                       # usertrap jumps to userret
        K + 0x500, K + 0x510,            # sret
        A + 0x20c,                       # stub returns
        A + 0x114, A + 0x120,            # f returns
        A + 0x14)])
    assert folded == {
        "app:main": 3,
        "app:main;app:f": 4,
        "app:main;app:f;app:stub": 3,
        "app:main;app:f;app:stub;kernel:uservec": 2,
        "app:main;app:f;app:stub;kernel:usertrap": 3,
        "app:main;app:f;app:stub;kernel:usertrap;kernel:syscall": 2,
        "app:main;app:f;app:stub;kernel:userret": 2,
    }


def test_stacks_survive_swtch_into_another_thread_and_back():
    """swtch returns into thread B, whose kernel callers are unknown; when A comes back
    and returns to user mode, its user callers are known again."""
    a_in_kernel = [A, A + 0x10, A + 0x100, A + 0x110, A + 0x200, A + 0x208, K, K + 0x4,
                   K + 0x100, K + 0x120,        # usertrap calls sched
                   K + 0x400, K + 0x410,        # sched calls swtch
                   K + 0x300, K + 0x308]        # swtch returns ... into thread B
    b_runs = [K + 0x41c,                        # B's sched, after its own swtch
              K + 0x410, K + 0x300, K + 0x308]  # B calls swtch: back to A
    a_back = [K + 0x414, K + 0x418,             # A's sched returns to usertrap
              K + 0x124, K + 0x500, K + 0x510,  # which goes to userret: sret
              A + 0x20c]                        # back in stub
    folded = fold([(0, pc) for pc in a_in_kernel + b_runs + a_back])
    a_kernel = "app:main;app:f;app:stub;kernel:usertrap"
    assert folded[a_kernel + ";kernel:sched"] == 2
    assert folded[a_kernel + ";kernel:sched;kernel:swtch"] == 2
    assert folded["kernel:sched"] == 4               # B's, then A's: callers unknown
    assert folded["kernel:sched;kernel:swtch"] == 2
    assert folded["kernel:usertrap"] == 1
    assert folded["kernel:userret"] == 2
    assert folded["app:main;app:f;app:stub"] == 3    # A's user callers are back
    assert sum(folded.values()) == len(a_in_kernel + b_runs + a_back)


def test_stacks_survive_sret_into_another_thread():
    """The IPC fast path: A traps in stub, the kernel returns to B in recv_stub; B traps
    and the kernel returns to A, whose callers must still be known."""
    a_calls = [A, A + 0x10, A + 0x100, A + 0x110, A + 0x200, A + 0x208, K,
               K + 0x500, K + 0x510]            # straight to userret: sret into B
    b_runs = [A + 0x300, A + 0x308, K, K + 0x500, K + 0x510]
    a_back = [A + 0x20c, A + 0x114]
    folded = fold([(0, pc) for pc in a_calls + b_runs + a_back])
    assert folded["app:recv_stub"] == 2
    assert folded["app:recv_stub;kernel:uservec"] == 1
    assert folded["app:main;app:f;app:stub"] == 3
    assert folded["app:main;app:f"] == 3


def test_stacks_never_crash_on_nonsense():
    symbols = made_up_symbols()
    pcs = ([a for a, _ in KERNEL_SYMBOLS + APP_SYMBOLS] + list(KERNEL_KINDS) + list(APP_KINDS)
           + [0x8000c194, 0x1000, 0x5])
    rng = random.Random(1)
    builder = prof.StackBuilder(symbols)
    steps = 20000
    for _ in range(steps):
        builder.step(rng.randrange(3), rng.choice(pcs))
    assert sum(builder.folded.values()) == steps
    assert all(len(st.frames) <= prof.MAX_DEPTH for st in builder.harts.values())


def test_folded_lines_with_several_windows(tmp_path):
    data, _, _ = made_up_log()
    reader = read_log(data, lambda d: [d], stacks=True)
    path = tmp_path / "out.folded"
    prof.write_folded(str(path), reader.windows)
    lines = path.read_text().splitlines()
    assert all(re.fullmatch(r"window-[12];\S+ \d+", line) for line in lines), lines
    assert sum(int(line.split()[-1]) for line in lines) == sum(w.total for w in reader.windows)


# --- the profiler on ipcbench --------------------------------------------------------

WINDOW_LINE = re.compile(r"^window (\d+): ([\d,]+) instructions", re.MULTILINE)
ROW = re.compile(r"^\s+([\d,]+)\s+([\d.]+)%\s+(\S+)$")


def parse_report(text):
    """{window number: (total, {function: instructions})} from the profiler's output."""
    windows = {}
    for m in WINDOW_LINE.finditer(text):
        rows = {}
        for line in text[m.end():].split("\n")[2:]:
            row = ROW.match(line)
            if not row:
                break
            rows[row.group(3)] = int(row.group(1).replace(",", ""))
        windows[int(m.group(1))] = (int(m.group(2).replace(",", "")), rows)
    return windows


def test_profile_ipcbench(tmp_path):
    """The profiler finds ipcbench's window, and two runs count the same"""
    if not os.path.exists(os.path.join(REPO_ROOT, "build", "shuttle.json")):
        pytest.fail("build/shuttle.json not found: run `scons` first", pytrace=False)
    folded = tmp_path / "ipcbench.folded"
    common = ["/usr/bin/python3", PROFILER, "--bootargs", "run=ipcbench 20 bench=same,cross", "--cpus", "2",
              "--mem", "128M", "--top", "0", "--quiet"]
    runs = [subprocess.Popen(common + extra, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
            for extra in (["--window", "1", "--folded", str(folded)], [])]
    outputs = []
    try:
        for run in runs:
            out, _ = run.communicate(timeout=TIMEOUT)
            assert run.returncode == 0, f"the profiler failed:\n{out}"
            outputs.append(out)
    finally:
        for run in runs:
            run.kill()
    first, both = parse_report(outputs[0]), parse_report(outputs[1])
    assert list(first) == [1], outputs[0]
    assert sorted(both) == [1, 2], outputs[1]      # same hart, then across two
    total, functions = first[1]
    assert total == sum(functions.values()) > 0
    assert "ipcbench:ipc_call" in functions, functions
    assert "kernel:uservec" in functions, functions
    assert both[1] == first[1], "two runs counted the same window differently"
    for number, (t, rows) in both.items():
        assert t == sum(rows.values()), f"window {number}"
    stacks = [line.rsplit(" ", 1) for line in folded.read_text().splitlines()]
    assert sum(int(n) for _, n in stacks) == total
    assert any("ipcbench:round_trips;ipcbench:ipc_call;kernel:uservec" in s for s, _ in stacks)
