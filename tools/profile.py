#!/usr/bin/python3
"""Where the instructions go: a per-function profile of the code between profile_begin()
and profile_end() (user/lib/ulib.h).

    /usr/bin/python3 tools/profile.py --bootargs "run=ipcbench 200 bench=same"
    scons profile BOOTARGS=run=ipcbench [PROFILE_ARGS="--top 10 --folded build/ipc.folded"]

--json FILE also writes every window's counts as JSON; tools/bench.py calls
profile_functions() for the same counts without a console or a report.

It boots the kernel that build/shuttle.json describes, under -icount shift=0,sleep=off
(one shared virtual clock, runs repeat to the instruction) with `-singlestep -d
exec,nochain`, so QEMU logs one "Trace" line per executed instruction of every hart. The
run must end by itself: init powers off after a run=PROGRAM. The log goes through a pipe
(-D /dev/fd/N) and is read while QEMU runs, a megabyte at a time; nothing keeps the
whole trace. Outside a window the reader only searches for profile_begin's address.

A window is everything any hart executes from the first instruction of profile_begin()
up to (not including) the first of profile_end(): all harts count, as icount's clock
does. Each PC is named by the program it lies in: `kernel:func` from build/kern/kernel.elf,
`<program>:func` from the unstripped ELFs under build/user/ (each program is linked at its
own base, so a PC alone says which), `firmware` for OpenSBI and the boot ROM (M-mode code
below the kernel: no symbols). Two QEMU quirks are undone: a "Stopped execution of TB
chain" or "cpu_io_recompile: rewound" line means the Trace line just before it did not
run (it runs again later under a new Trace line), so that line is not counted.

The window's count is the instructions the harts executed. ipcbench's rdinstret reads the
icount clock instead, which also runs on while every hart waits for a timer; a cross-hart
round trip that waits for a tick is millions of clock nanoseconds but a few thousand
instructions here.

Call stacks (--folded) are rebuilt per hart from the instruction stream and the
disassembly (objdump -d): a jal/jalr that writes ra is a call (push the caller and the
return address), `ret` returns (pop to the frame with that return address). A trap
(user code followed by kernel code, a jump into the kernel's trap vectors, any code
followed by firmware) pushes a trap frame for the interrupted function; sret, or leaving
the firmware, pops back to it. Where they can be wrong:
- Each hart's stack starts empty when a window opens: callers from before the window are
  unknown, so a function that returns to one becomes the bottom of its stack.
- Context switches. PCs alone do not say which thread runs: every thread calls swtch from
  the same place. So when swtch returns (into another thread), the incoming thread's
  kernel callers are unknown and its stack starts empty; the outgoing thread's user side
  (the frames below its last trap) is parked under the function it trapped in. An sret
  into another function than the one that trapped (a switch by swtch, or by the IPC fast
  path, which switches without it) parks the outgoing thread's user side the same way and
  takes the incoming one's by the function it returns to. Two threads that trap in the
  same function can swap callers.
- A trap right after a call or a return records `?` as the interrupted function.
- Millicode (__riscv_save_N, called with jal t0) is treated as a jump, not a call, and
  the firmware as one leaf frame: its calls are not followed.
A return or an sret that does not fit the stack leads to a shorter stack, never to an
exception: a profile with a few stacks cut short is still a profile.
"""

import argparse
import bisect
import collections
import fcntl
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import threading
import time

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO_ROOT, "grade"))
import shuttle_qemu  # noqa: E402  (build/shuttle.json and the QEMU command line)

USER_MIN = 0x10000              # kern/abi/types.h: nothing of a program lies below
KERNEL_LOAD = 0x80200000        # where OpenSBI jumps; the firmware lies below it
FIRMWARE_BASE = 0x80000000
TRAP_VECTORS = ("trap_entry",)            # kern/arch/uservec.S: where stvec points
CONTEXT_SWITCHES = ("kernel:swtch",)       # returns into another thread
CROSS_PREFIXES = ("riscv64-unknown-elf-", "riscv64-linux-gnu-")
READ_SIZE = 1 << 20             # bytes read from the trace pipe at a time
MAX_DEPTH = 256                 # frames kept per hart (the oldest go first)

TRACE_RE = re.compile(rb"^Trace (\d+): \S+ \[[0-9a-f]+/([0-9a-f]+)/", re.MULTILINE)
NOT_RUN = (b"Stopped execution of TB chain", b"cpu_io_recompile: rewound")
# A Trace line followed by one saying that instruction did not run after all.
UNDONE_RE = re.compile(rb"^Trace [^\n]*\n(?:Stopped execution|cpu_io_recompile: rewound)"
                       rb"[^\n]*\n", re.MULTILINE)

# Instruction kinds that move a call stack.
OTHER, CALL, RET, SRET = range(4)


class ProfileError(Exception):
    """Something the student can fix; the message says how."""


# --- reading the ELF files -----------------------------------------------------------

def exec_segments(path):
    """[(lo, hi)] of the executable PT_LOAD segments of a RISC-V ELF64 executable, or None
    when path is not one (an object file, a library, a script)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return None
        e_type, e_machine = struct.unpack_from("<HH", head, 16)
        if e_type != 2 or e_machine != 243:     # ET_EXEC, EM_RISCV
            return None
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    if phentsize < 56 or len(table) < phentsize * phnum:
        return None
    segments = []
    for i in range(phnum):
        p_type, p_flags, _, vaddr, _, _, memsz = struct.unpack_from("<IIQQQQQ", table,
                                                                    i * phentsize)
        if p_type == 1 and p_flags & 1 and memsz:    # PT_LOAD, PF_X
            segments.append((vaddr, vaddr + memsz))
    return segments


def preferred_name(names):
    """One name for an address that has several (memset and mem_fill): a global one
    before a local one, then without a leading underscore, then the shortest."""
    return min(names, key=lambda n: (not n[1], n[0].startswith("_"), len(n[0]), n[0]))[0]


def parse_nm(text):
    """Sorted [(address, name)] of the code symbols in `nm -n --defined-only` output."""
    by_addr = collections.defaultdict(list)
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] not in "TtWw" or parts[2].startswith(("$", ".L")):
            continue
        by_addr[int(parts[0], 16)].append((parts[2], parts[1] in "TW"))
    return sorted((addr, preferred_name(names)) for addr, names in by_addr.items())


def parse_objdump(text):
    """{pc: (kind, length)} for the calls, returns and srets in `objdump -d -M no-aliases`
    output; every other instruction is OTHER."""
    kinds = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[0].endswith(":"):
            continue
        try:
            pc = int(parts[0].strip()[:-1], 16)
        except ValueError:
            continue
        mnemonic = parts[2].strip()
        operands = parts[3].split("#")[0].strip() if len(parts) > 3 else ""
        kind = instruction_kind(mnemonic, operands)
        if kind != OTHER:
            kinds[pc] = (kind, len(parts[1].replace(" ", "")) // 2)
    return kinds


def instruction_kind(mnemonic, operands):
    """CALL for a jump that links ra, RET for `jalr zero,0(ra)` (c.jr ra), SRET, OTHER."""
    if mnemonic in ("jal", "jalr"):
        if operands.startswith("ra,"):
            return CALL
        if mnemonic == "jalr" and operands == "zero,0(ra)":
            return RET
    elif mnemonic in ("c.jalr", "c.jal"):
        return CALL
    elif mnemonic == "c.jr" and operands == "ra":
        return RET
    elif mnemonic == "sret":
        return SRET
    return OTHER


class Binutils:
    """nm and objdump for RISC-V, found the way SConstruct finds the cross tools."""

    def __init__(self, prefix=None):
        prefixes = [prefix] if prefix else CROSS_PREFIXES
        for p in prefixes:
            if shutil.which(p + "nm") and shutil.which(p + "objdump"):
                self.prefix = p
                return
        raise ProfileError("%snm not found: install binutils-riscv64-unknown-elf "
                           "(or pass --cross PREFIX)" % prefixes[0])

    def run(self, tool, *args):
        r = subprocess.run([self.prefix + tool] + list(args), capture_output=True, text=True)
        if r.returncode != 0:
            raise ProfileError("%s%s %s failed: %s" % (self.prefix, tool, " ".join(args),
                                                       r.stderr.strip()))
        return r.stdout

    def symbols(self, path):
        return parse_nm(self.run("nm", "-n", "--defined-only", path))

    def kinds(self, path):
        return parse_objdump(self.run("objdump", "-d", "-M", "no-aliases", path))


# --- from a PC to a function ---------------------------------------------------------

class Image:
    """One ELF file's code: its label ("kernel" or the program's name), its executable
    segments and its sorted code symbols. kinds() disassembles it the first time it is
    asked (only --folded asks), unless the kinds were given."""

    def __init__(self, label, path, segments, symbols, binutils=None, kinds=None):
        self.label = label
        self.path = path
        self.segments = segments
        self.addrs = [a for a, _ in symbols]
        self.names = [n for _, n in symbols]
        self._binutils = binutils
        self._kinds = kinds

    def function(self, pc):
        i = bisect.bisect_right(self.addrs, pc) - 1
        return self.names[i] if i >= 0 else "?"

    def kinds(self):
        if self._kinds is None:
            self._kinds = self._binutils.kinds(self.path) if self._binutils else {}
        return self._kinds


class SymbolMap:
    """Names PCs: `kernel:func`, `<program>:func`, `firmware` or `unknown`. A PC below
    USER_MIN (the boot ROM) or between FIRMWARE_BASE and the kernel's lowest address is
    firmware. info() adds what the call stacks need (disassembling the image the first
    time); both cache their answer per PC."""

    def __init__(self, images):
        self.images = images
        self.ranges = sorted(((lo, hi, image) for image in images for lo, hi in image.segments),
                             key=lambda r: r[:2])
        self.starts = [lo for lo, _, _ in self.ranges]
        kernel = [lo for image in images if image.label == "kernel" for lo, _ in image.segments]
        kernel_low = min(kernel, default=KERNEL_LOAD)
        self.firmware = [(0, USER_MIN), (FIRMWARE_BASE, min(kernel_low, KERNEL_LOAD))]
        self.vectors = set()
        for image in images:
            if image.label == "kernel":
                self.vectors |= {a for a, n in zip(image.addrs, image.names)
                                 if n in TRAP_VECTORS}
        self._names = {}
        self._info = {}

    def image(self, pc):
        i = bisect.bisect_right(self.starts, pc) - 1
        if i >= 0 and pc < self.ranges[i][1]:
            return self.ranges[i][2]
        return None

    def name(self, pc):
        got = self._names.get(pc)
        if got is None:
            got = self._names[pc] = self._name(pc, self.image(pc))
        return got

    def _name(self, pc, image):
        if image is not None:
            return "%s:%s" % (image.label, image.function(pc))
        return "firmware" if any(lo <= pc < hi for lo, hi in self.firmware) else "unknown"

    def info(self, pc):
        """(name, region, kind, return address if a call, is a trap vector), where region
        is kernel, user, firmware or unknown."""
        got = self._info.get(pc)
        if got is None:
            got = self._info[pc] = self._describe(pc)
        return got

    def _describe(self, pc):
        image = self.image(pc)
        name = self.name(pc)
        if image is None:
            return (name, name, OTHER, 0, False)
        region = "kernel" if image.label == "kernel" else "user"
        kind, length = image.kinds().get(pc, (OTHER, 0))
        return (name, region, kind, pc + length, pc in self.vectors)


def load_images(config, binutils):
    """The kernel's and every user program's Image. The programs are the unstripped ELF
    executables under the initrd's folder (build/user/bin, build/user/servers); the
    stripped copies in build/user/initrd have the same addresses and are skipped."""
    if not os.path.exists(config.kernel):
        raise ProfileError("%s not found: run `scons` first" % config.kernel)
    images = [make_image("kernel", config.kernel, binutils)]
    if not config.initrd:
        return images
    top = os.path.dirname(config.initrd)
    seen = {}
    for folder, dirs, files in sorted(os.walk(top)):
        dirs[:] = sorted(d for d in dirs if d != "initrd")
        for f in sorted(files):
            path = os.path.join(folder, f)
            if f.endswith((".o", ".a", ".cpio")) or f in seen:
                continue
            image = make_image(f, path, binutils)
            if image:
                seen[f] = image
    check_no_overlap(list(seen.values()))
    return images + list(seen.values())


def make_image(label, path, binutils):
    segments = exec_segments(path)
    if not segments:
        return None
    return Image(label, path, segments, binutils.symbols(path), binutils)


def check_no_overlap(programs):
    spans = sorted((lo, hi, p.label) for p in programs for lo, hi in p.segments)
    for (lo1, hi1, a), (lo2, hi2, b) in zip(spans, spans[1:]):
        if lo2 < hi1:
            raise ProfileError("programs %s and %s share addresses (%#x): each needs its own "
                               "base; run `scons` to relink them" % (a, b, lo2))


# --- call stacks ---------------------------------------------------------------------

class Frame:
    """A caller waiting for `resume` (a return address), or with trap=True a function
    interrupted by a trap (name None when unknown)."""
    __slots__ = ("name", "resume", "trap")

    def __init__(self, name, resume=None, trap=False):
        self.name, self.resume, self.trap = name, resume, trap


class HartStack:
    __slots__ = ("frames", "current", "region", "prev_kind", "prev_ret", "prefix")

    def __init__(self):
        self.frames = []
        self.current = None
        self.region = None
        self.prev_kind = OTHER
        self.prev_ret = 0
        self.prefix = None      # the frames as "a;b;", rebuilt when they change


class StackBuilder:
    """Rebuilds each hart's call stack from the executed instructions (see the module's
    docstring) and counts instructions per stack, as `a;b;c` strings."""

    def __init__(self, symbols):
        self.symbols = symbols
        self.harts = {}
        self.parked = {}        # function a thread trapped in -> the frames below the trap
        self.folded = collections.Counter()

    def step(self, hart, pc):
        """One instruction executed by hart at pc."""
        name, region, kind, ret, vector = self.symbols.info(pc)
        st = self.harts.get(hart)
        if st is None:
            st = self.harts[hart] = HartStack()
        elif st.region is not None:
            self._move(st, pc, name, region, vector)
        st.current, st.region, st.prev_kind, st.prev_ret = name, region, kind, ret
        if st.prefix is None:
            if len(st.frames) > MAX_DEPTH:
                del st.frames[:len(st.frames) - MAX_DEPTH]
            st.prefix = "".join((f.name or "?") + ";" for f in st.frames)
        self.folded[st.prefix + name] += 1

    def _move(self, st, pc, name, region, vector):
        """Follows the step from the hart's previous instruction to pc: a call, a return,
        a trap (user code, then the kernel; a jump to a trap vector; anything, then the
        firmware) or a return from one (sret; the kernel, then user code; the firmware,
        then anything else)."""
        prev = st.region
        entering = ((region == "kernel" and (prev == "user" or vector)) or
                    (region == "firmware" and prev != "firmware"))
        leaving = (st.prev_kind == SRET or (prev == "firmware" and region != "firmware") or
                   (prev == "kernel" and region == "user"))
        if st.prev_kind == CALL:
            st.frames.append(Frame(st.current, st.prev_ret))
            st.prefix = None
        elif st.prev_kind == RET:
            if entering:
                self._pop_call(st)      # the return's target was interrupted: trust it
            else:
                self._return(st, pc)
        if leaving:
            self._return_from_trap(st, name)
        if entering:
            known = st.prev_kind not in (CALL, RET)
            st.frames.append(Frame(st.current if known else None, trap=True))
            st.prefix = None

    def _pop_call(self, st):
        if st.frames and not st.frames[-1].trap:
            st.frames.pop()
            st.prefix = None

    def _return(self, st, pc):
        """A ret to pc: pop to the caller waiting there. swtch returns into another thread,
        whose callers are unknown (every thread calls it from the same place): keep the
        user side of this one for when it returns to user mode, and start afresh."""
        frames = st.frames
        if st.current in CONTEXT_SWITCHES:
            self._park(st)
            st.frames = []
            st.prefix = None
            return
        for i in range(len(frames) - 1, -1, -1):
            if frames[i].trap:
                break
            if frames[i].resume == pc:
                del frames[i:]
                st.prefix = None
                return
        # Not a caller we saw: it called before the window began. Go on at this depth.

    def _return_from_trap(self, st, name):
        """sret (or the firmware's mret) into function name: back where the last trap
        came from, or, when that was another function, into another thread (the IPC fast
        path switches without swtch), whose user side may have been parked."""
        frames = st.frames
        trap = self._last_trap(frames)
        if trap is not None and frames[trap].name in (name, None):
            del frames[trap:]
        else:
            self._park(st)
            st.frames = self.parked.pop(name, [])
        st.prefix = None

    def _park(self, st):
        """Keeps the user side of the thread leaving this hart, under the function it
        trapped in: it comes back by an sret into that function."""
        trap = self._last_trap(st.frames)
        if trap is not None and st.frames[trap].name:
            self.parked[st.frames[trap].name] = st.frames[:trap]

    @staticmethod
    def _last_trap(frames):
        for i in range(len(frames) - 1, -1, -1):
            if frames[i].trap:
                return i
        return None


# --- reading the trace ---------------------------------------------------------------

class Window:
    def __init__(self, number):
        self.number = number
        self.functions = collections.Counter()
        self.harts = collections.Counter()
        self.folded = None
        self.ended = False

    @property
    def total(self):
        return sum(self.harts.values())


class TraceReader:
    """Reads QEMU's exec log in pieces (feed, then finish) and counts each window.

    Lines are settled once the line after them is known: the last complete line of a
    piece waits for the next piece when it is a Trace line, since a "Stopped" or
    "rewound" line after it would mean it did not run."""

    def __init__(self, symbols, begins, ends, stacks=False):
        self.symbols = symbols
        self.begins = [b"/%016x/" % a for a in sorted(begins)]
        self.ends = [b"/%016x/" % a for a in sorted(ends)]
        self.stacks = stacks
        self.windows = []
        self.window = None      # the open one
        self.builder = None
        self.traced = 0         # instructions in the whole run
        self.rest = b""
        self._names = {}

    def feed(self, data):
        buf = self.rest + data
        last = buf.rfind(b"\n")
        if last < 0:
            self.rest = buf
            return
        last_line = buf.rfind(b"\n", 0, last) + 1
        settled = last_line if buf.startswith(b"Trace ", last_line) else last + 1
        self.rest = buf[settled:]
        self._settled(buf[:settled])

    def finish(self):
        """Call at the end of the log: counts what is left; a window still open stays
        unended."""
        rest, self.rest = self.rest, b""
        if rest:
            self._settled(rest if rest.endswith(b"\n") else rest + b"\n")
        self.window = None

    def _settled(self, text):
        self.traced += (text.count(b"Trace ") - text.count(NOT_RUN[0]) -
                        text.count(NOT_RUN[1]))
        pos = 0
        while pos < len(text):
            if self.window is None:
                pos = self._find_marker(text, pos, self.begins)
                if pos < len(text):
                    self._open()
            else:
                end = self._find_marker(text, pos, self.ends)
                self._count(text[pos:end])
                if end < len(text):
                    self.window.ended = True
                    self.window = None
                pos = end

    def _find_marker(self, text, pos, patterns):
        """The start of the first line at or after pos that runs one of the marker
        addresses (a Trace line not undone by the next line), else len(text)."""
        while True:
            hits = [i for i in (text.find(p, pos) for p in patterns) if i >= 0]
            if not hits:
                return len(text)
            start = text.rfind(b"\n", 0, min(hits)) + 1
            nxt = text.find(b"\n", start) + 1
            if not text.startswith(NOT_RUN, nxt):
                return start
            pos = nxt

    def _open(self):
        self.window = Window(len(self.windows) + 1)
        self.windows.append(self.window)
        if self.stacks:
            self.builder = StackBuilder(self.symbols)
            self.window.folded = self.builder.folded

    def _count(self, block):
        if NOT_RUN[0] in block or NOT_RUN[1] in block:
            block = UNDONE_RE.sub(b"", block)
        pairs = TRACE_RE.findall(block)
        w = self.window
        if self.stacks:
            step = self.builder.step
            for hart, pc in pairs:
                step(int(hart), int(pc, 16))
        for (hart, pc), n in collections.Counter(pairs).items():
            w.functions[self._name(pc)] += n
            w.harts[int(hart)] += n

    def _name(self, pc_hex):
        name = self._names.get(pc_hex)
        if name is None:
            name = self._names[pc_hex] = self.symbols.name(int(pc_hex, 16))
        return name


# --- running QEMU --------------------------------------------------------------------

def marker_addresses(images, symbol):
    """Every program's address of profile_begin (or profile_end)."""
    return {a for image in images if image.label != "kernel"
            for a, n in zip(image.addrs, image.names) if n == symbol}


class Console:
    """QEMU's console output, copied to our stdout unless quiet, with its tail kept."""

    def __init__(self, stream, quiet):
        self.tail = collections.deque(maxlen=30)
        self.thread = threading.Thread(target=self._copy, args=(stream, quiet), daemon=True)
        self.thread.start()

    def _copy(self, stream, quiet):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").replace("\r", "")
            self.tail.append(line.rstrip("\n"))
            if not quiet:
                sys.stdout.write(line)
                sys.stdout.flush()

    def text(self):
        return "\n".join(self.tail)


def run_traced(config, args, reader):
    """Boots QEMU with the exec log on a pipe and feeds the log to reader until QEMU
    exits; returns (QEMU's exit status, Console, seconds)."""
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, getattr(fcntl, "F_SETPIPE_SZ", 1031), READ_SIZE)  # fewer wakeups
    except OSError:
        pass
    log = ["-singlestep", "-d", "exec,nochain", "-D", "/dev/fd/%d" % w]
    cmd = shuttle_qemu.qemu_command(config, args.bootargs, cpus=args.cpus, mem=args.mem,
                                    icount=True, extra_args=log)
    if args.verbose:
        print("profile: %s" % shlex.join(cmd), file=sys.stderr)
    start = time.monotonic()
    try:
        qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, pass_fds=(w,))
    except OSError as e:
        raise ProfileError("cannot start %s: %s" % (cmd[0], e)) from None
    finally:
        os.close(w)
    console = Console(qemu.stdout, args.quiet)
    timer = threading.Timer(args.timeout, qemu.kill)
    timer.start()
    keep = open(args.keep_log, "wb") if args.keep_log else None
    try:
        with os.fdopen(r, "rb", buffering=0) as pipe:
            while True:
                data = pipe.read(READ_SIZE)
                if not data:
                    break
                if keep:
                    keep.write(data)
                reader.feed(data)
        reader.finish()
        status = qemu.wait()
    finally:
        timer.cancel()
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        if keep:
            keep.close()
    console.thread.join(timeout=5)
    if status == -9 and time.monotonic() - start >= args.timeout:
        raise ProfileError("QEMU still ran after %g s and was stopped: the run must power "
                           "off by itself (boot with run=PROGRAM), or pass a longer "
                           "--timeout\n%s" % (args.timeout, console.text()))
    return status, console, time.monotonic() - start


# --- the report ----------------------------------------------------------------------

def format_window(window, top):
    total = window.total
    harts = ", ".join("hart %d: %s" % (h, f"{n:,}") for h, n in sorted(window.harts.items()))
    lines = ["window %d: %s instructions (%s)%s" % (
        window.number, f"{total:,}", harts or "none",
        "" if window.ended else ", did not end: no profile_end() before QEMU exited")]
    ranked = sorted(window.functions.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ranked if top <= 0 else ranked[:top]
    width = max([len(f"{n:,}") for _, n in shown] + [len("instructions")])
    lines.append("  %*s  %6s  %s" % (width, "instructions", "%", "function"))
    for name, n in shown:
        lines.append("  %*s  %5.1f%%  %s" % (width, f"{n:,}", percent(n, total), name))
    rest = ranked[len(shown):]
    if rest:
        n = sum(c for _, c in rest)
        lines.append("  %*s  %5.1f%%  (%d more functions)" % (width, f"{n:,}",
                                                             percent(n, total), len(rest)))
    return "\n".join(lines)


def percent(n, total):
    return 100.0 * n / total if total else 0.0


def write_folded(path, windows):
    """One line per stack, `a;b;c count`: flamegraph.pl and speedscope read it. With
    several windows each stack starts with its window, `window-N`."""
    with open(path, "w", encoding="utf-8") as f:
        for w in windows:
            root = "window-%d;" % w.number if len(windows) > 1 else ""
            for stack, n in sorted(w.folded.items()):
                f.write("%s%s %d\n" % (root, stack, n))


def window_record(window):
    """A window as plain data: {"number", "total", "harts": {hart: instructions},
    "functions": {name: instructions}, "ended"}, named as format_window names them."""
    return {"number": window.number, "total": window.total, "harts": dict(window.harts),
            "functions": dict(window.functions), "ended": window.ended}


def write_json(path, windows):
    """{"windows": [window_record, ...]}; JSON turns the hart numbers into strings."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"windows": [window_record(w) for w in windows]}, f, indent=1)
        f.write("\n")


# --- the command line ----------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="tools/profile.py",
        description="Boot Shuttle under an exact instruction trace and count, per function, "
                    "the instructions between profile_begin() and profile_end().")
    p.add_argument("--bootargs", default="",
                   help="kernel boot arguments; the run must power off, e.g. 'run=ipcbench 200 bench=same'")
    p.add_argument("--cpus", type=int, help="harts (default: build/shuttle.json's, CPUS=)")
    p.add_argument("--mem", help="memory (default: build/shuttle.json's, MEM=)")
    p.add_argument("--window", type=int, metavar="N", help="report only window N (from 1)")
    p.add_argument("--top", type=int, default=25, metavar="N",
                   help="functions shown per window (default 25; 0: all)")
    p.add_argument("--folded", metavar="FILE",
                   help="also write call stacks in folded form (flamegraph.pl, speedscope)")
    p.add_argument("--json", metavar="FILE",
                   help="also write every window's per-function counts to FILE as JSON")
    p.add_argument("--keep-log", metavar="FILE",
                   help="also keep QEMU's whole exec log in FILE (gigabytes)")
    p.add_argument("--timeout", type=float, default=900, metavar="SECONDS",
                   help="stop QEMU after this long (default 900)")
    p.add_argument("--cross", metavar="PREFIX", help="binutils prefix, e.g. riscv64-linux-gnu-")
    p.add_argument("-q", "--quiet", action="store_true", help="do not show the console")
    p.add_argument("-v", "--verbose", action="store_true", help="show the QEMU command")
    args = p.parse_args(argv)
    if not args.bootargs.strip():
        p.error("say what to run with --bootargs, e.g. --bootargs run=ipcbench: the run "
                "must end with init powering off")
    if args.window is not None and args.window < 1:
        p.error("--window counts from 1")
    return args


def profile(args):
    """Runs the whole profile; returns the exit status."""
    reader, status, console, seconds, harts = count_windows(args)
    print("\nprofile: `%s` on %s: %s instructions traced in %.1f s, %s" % (
        args.bootargs, plural(harts, "hart"), f"{reader.traced:,}", seconds,
        plural(len(reader.windows), "window")))
    if status != 0:
        print("profile: QEMU exited with status %d: the run failed (see the console)" % status)
    report(args, reader.windows, console)
    return 0 if status == 0 else 1


def count_windows(args):
    """Boots the run under the exec trace and counts its windows; returns (the
    TraceReader, QEMU's exit status, the Console, seconds, harts)."""
    try:
        config = shuttle_qemu.load_config(REPO_ROOT)
        shuttle_qemu.check_files(config)
    except shuttle_qemu.ConfigError as e:
        raise ProfileError(str(e)) from None
    images = load_images(config, Binutils(args.cross))
    begins = marker_addresses(images, "profile_begin")
    ends = marker_addresses(images, "profile_end")
    if not begins or not ends:
        raise ProfileError("no program under build/user has profile_begin() and "
                           "profile_end(): call them around the code to profile (ulib.h), "
                           "then run `scons`")
    reader = TraceReader(SymbolMap(images), begins, ends, stacks=bool(args.folded))
    status, console, seconds = run_traced(config, args, reader)
    return reader, status, console, seconds, args.cpus or config.cpus


def report(args, windows, console):
    """Prints the windows asked for and writes the folded stacks and the JSON."""
    if not windows:
        raise no_window(console)
    if args.json:
        write_json(args.json, windows)
        print("\nprofile: every window's counts in %s" % args.json)
    if args.window is not None:
        if args.window > len(windows):
            raise ProfileError("no window %d: the run had %d" % (args.window, len(windows)))
        windows = [windows[args.window - 1]]
    for w in windows:
        print("\n" + format_window(w, args.top))
    if args.folded:
        write_folded(args.folded, windows)
        print("\nprofile: call stacks in %s (flamegraph.pl %s > flame.svg, or speedscope)"
              % (args.folded, args.folded))


def no_window(console):
    return ProfileError("no window: the run never called profile_begin(). Call "
                        "profile_begin() and profile_end() around the code to profile "
                        "(ulib.h), and check the boot arguments run it.\n--- last "
                        "console lines ---\n%s" % console.text())


def profile_functions(bootargs, cross=None, cpus=None, timeout=900):
    """Profiles the run bootargs boots without a console or a report, for a caller such
    as tools/bench.py; returns each window as window_record() gives it. Raises
    ProfileError when the run cannot start, fails, has no window, or leaves a window
    open (its counts would be a part of it)."""
    if not bootargs.strip():
        raise ProfileError("no boot arguments: say what to run, e.g. run=ipcbench")
    argv = ["--bootargs=" + bootargs, "--quiet", "--timeout", str(timeout)]
    if cross:
        argv.append("--cross=" + cross)
    if cpus:
        argv.append("--cpus=%d" % cpus)
    args = parse_args(argv)
    reader, status, console, _, _ = count_windows(args)
    if status != 0:
        raise ProfileError("`%s`: QEMU exited with status %d: the run failed\n--- last "
                           "console lines ---\n%s" % (bootargs, status, console.text()))
    if not reader.windows:
        raise no_window(console)
    unended = [w.number for w in reader.windows if not w.ended]
    if unended:
        raise ProfileError("`%s`: window %d did not end: no profile_end() before QEMU "
                           "exited\n--- last console lines ---\n%s"
                           % (bootargs, unended[0], console.text()))
    return [window_record(w) for w in reader.windows]


def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return profile(args)
    except ProfileError as e:
        print("profile: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
