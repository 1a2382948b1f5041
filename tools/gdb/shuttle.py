"""Shuttle's GDB helpers: what every hart, thread, process, run queue and endpoint is
doing, with the machine stopped anywhere (in the kernel, in user mode, or idle).

    shuttle harts            every hart: online, what runs there, where it is, counters
    shuttle threads          every thread: process, state, priority, affinity, what it waits on
    shuttle procs [PID]      processes and their handle tables
    shuttle rq [HART]        the run queues of the scheduling policy, in the order they run
    shuttle ipc              endpoints and their queues; threads waiting for a reply, and whom
    shuttle log [BYTES]      the kernel's recent console output (a ring kept in memory)
    shuttle trap [THREAD]    a thread's trap frame decoded (default: the selected hart's thread)

`scons qemu-gdb` writes .gdbinit, which loads this file; `scons gdb` (or gdb-multiarch
started in the repository, once GDB trusts that .gdbinit) then has the commands. `help
shuttle` lists them; `help shuttle ipc` explains one.

Everything is read through the kernel's own debug information: types, fields and enum
names come from kernel.elf (gdb.lookup_type, gdb.lookup_global_symbol and
gdb.lookup_static_symbols), so a struct that changes changes what these read, and a field
that is renamed fails grade/test_gdb.py, not a student's evening. What the kernel keeps only
in #defines is read from the header it is defined in (the rights, kern/abi/types.h), and
the names of user programs' functions come from their ELF files (build/user).

Extending, for the labs: each command is a class below decorated with @command; a lab
that adds state adds its command the same way. `shuttle rq` finds every hart's queue
through h->waiting (the ready bitmap of the queue that hart takes threads from), which
every policy sets, so `sched=perhart` (lab 3, kern/proc/sched_perhart.c) shows its
per-hart queues with no change here; a policy that keeps threads elsewhere adds a
function to RUNQUEUE_SOURCES. Lab 5's migrating RPC adds `shuttle rpc` (a thread's
activation stack) as one more @command, and what a thread waits on in an RPC to
waits_on(). Symbols a later lab adds are looked up with lookup() first, which returns
None when the kernel does not have them, so these helpers work on every lab's tree.
"""

import os
import re
import shutil
import subprocess

import gdb

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER_DIRS = [os.path.join(ROOT, "build", "user", d) for d in ("bin", "servers")]

# Functions that add run queues `shuttle rq` would not find through the harts: each
# returns [(label, struct runqueue value)] (a lab's policy may add one).
RUNQUEUE_SOURCES = []


# ---- reading the kernel -------------------------------------------------------------------

def lookup(name, file=None):
    """The kernel variable `name` (a global, or a file's static; `file` picks among
    statics of that name by source file), or None when the kernel has none."""
    sym = gdb.lookup_global_symbol(name)
    if sym is not None and (file is None or sym.symtab.filename.endswith(file)):
        return sym.value()
    for sym in gdb.lookup_static_symbols(name):
        if file is None or sym.symtab.filename.endswith(file):
            return sym.value()
    return None


def need(name, file=None):
    v = lookup(name, file)
    if v is None:
        raise gdb.GdbError(f"shuttle: the kernel has no `{name}`: is kernel.elf loaded "
                           "(file build/kern/kernel.elf)?")
    return v


def table(name, file=None):
    """The elements of a fixed table (threads, procs, endpoints), as gdb.Values."""
    arr = need(name, file)
    lo, hi = arr.type.range()
    return [arr[i] for i in range(lo, hi + 1)]


def enum_name(v, prefix=""):
    """T_RUNNING -> "running": an enum's name from the debug info, prefix dropped."""
    s = str(v)
    if prefix and s.startswith(prefix):
        s = s[len(prefix):]
    return s.lower()


def string(v):
    try:
        return v.string(length=v.type.sizeof).split("\0", 1)[0]
    except gdb.error:
        return "?"


def ptr(v):
    return int(v.cast(gdb.lookup_type("unsigned long")))


def offset_of(struct_name, field):
    for f in gdb.lookup_type(struct_name).fields():
        if f.name == field:
            return f.bitpos // 8
    raise gdb.GdbError(f"shuttle: struct {struct_name} has no field {field}")


def index_in(value_ptr, name, file=None):
    """The index of the element value_ptr points at in table `name`, or None."""
    arr = need(name, file)
    base, size = ptr(arr.address), arr[0].type.sizeof
    lo, hi = arr.type.range()
    off = ptr(value_ptr) - base
    # A table declared `extern struct hart harts[];` may come from a file that does not
    # know its length (GDB gives such an array the range 0..0): then only its start is
    # checked.
    known = hi > lo or arr.type.sizeof > 0
    if off < 0 or off % size or (known and off // size > hi - lo):
        return None
    return off // size


# ---- names for things ---------------------------------------------------------------------

def thread_label(t):
    """'thread 7 sh (pid 6)' for a struct thread value."""
    s = f"thread {int(t['id'])} {string(t['name'])}"
    p = t["process"]
    s += f" (pid {int(p['pid'])})" if ptr(p) else " (kernel)"
    return s


def thread_by_id(tid):
    for t in table("threads", "thread.c"):
        if int(t["state"]) != 0 and int(t["id"]) == tid:
            return t
    return None


def current_threads():
    """{address of struct thread: hart index} for every thread on a hart now."""
    return {ptr(h["current"]): i for i, h in enumerate(harts()) if ptr(h["current"])}


def harts():
    n = int(need("nharts"))
    arr = need("harts")
    return [arr[i] for i in range(n)]


def kernel_symbol(addr):
    """'ipc_call+0x1c' for a kernel address, or None."""
    try:
        out = gdb.execute(f"info symbol {addr:#x}", to_string=True).strip()
    except gdb.error:
        return None
    m = re.match(r"(\S+)(?: \+ (\d+))? in section", out)
    if not m:
        return None
    return m.group(1) + (f"+{int(m.group(2)):#x}" if m.group(2) else "")


_user_symbols = {}


def cross_nm():
    for prefix in ("riscv64-unknown-elf-", "riscv64-linux-gnu-"):
        path = shutil.which(prefix + "nm")
        if path:
            return path
    return None


def user_symbol(program, addr):
    """'main+0x10' for an address in a user program (its ELF in build/user/bin or
    build/user/servers: a process is named after its program), or None."""
    if program not in _user_symbols:
        syms = []
        elfs = [os.path.join(d, program) for d in USER_DIRS]
        elf, nm = next((e for e in elfs if os.path.isfile(e)), None), cross_nm()
        if nm and elf:
            out = subprocess.run([nm, "-n", elf], capture_output=True, text=True).stdout
            for line in out.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[1] in "tTwW" and not parts[2].startswith(".L"):
                    syms.append((int(parts[0], 16), parts[2]))
        _user_symbols[program] = syms
    best = None
    for a, name in _user_symbols[program]:
        if a > addr:
            break
        best = (a, name)
    return f"{best[1]}+{addr - best[0]:#x}" if best else None


def code_symbol(addr, program=None):
    """A code address with its function: kernel, or the given user program."""
    name = kernel_symbol(addr) if addr >= 1 << 63 or program is None else None
    if name is None and program and addr < 1 << 63:
        name = user_symbol(program, addr)
        if name:
            name = f"{program}:{name}"
    return f"{addr:#x} <{name}>" if name else f"{addr:#x}"


def header_defines(path, prefix):
    """{value: name} for the `#define PREFIX_NAME (1u << n)` or plain numbers in a header."""
    names = {}
    try:
        text = open(os.path.join(ROOT, path), encoding="utf-8").read()
    except OSError:
        return names
    for m in re.finditer(rf"^#define\s+{prefix}(\w+)\s+\(?(.+?)\)?\s*(//.*)?$", text, re.M):
        expr = re.sub(r"(\d+)u\b", r"\1", m.group(2))
        if re.fullmatch(r"[\d\s<()x]+", expr):
            names[eval(expr)] = m.group(1).lower()  # digits, shifts and parentheses only
    return names


def rights_text(rights):
    names = header_defines("kern/abi/types.h", "RIGHT_")
    names = {v: n for v, n in names.items() if v & (v - 1) == 0}  # single bits, not ALL
    parts = [n for v, n in sorted(names.items()) if rights & v]
    return ",".join(parts) if parts else "-"


def trap_cause(scause):
    """'load page fault' from the kernel's own tables (arch/trap.c)."""
    interrupt = scause >> 63
    code = scause & ~(1 << 63)
    tab = lookup("trap_interrupt_names" if interrupt else "trap_exception_names")
    if tab is not None:
        lo, hi = tab.type.range()
        if code <= hi and ptr(tab[code]):
            return tab[code].string()
    return "unknown interrupt" if interrupt else "unknown exception"


# ---- what a thread waits on ---------------------------------------------------------------

def owner_of(addr):
    """'process 3 (ns)' or 'thread 9 con (pid 4)' when addr lies in that table element."""
    for name, file in (("procs", "process.c"), ("threads", "thread.c"), ("endpoints", None)):
        arr = lookup(name, file)
        if arr is None:
            continue
        base, size = ptr(arr.address), arr[0].type.sizeof
        lo, hi = arr.type.range()
        if base <= addr < base + size * (hi - lo + 1):
            e = arr[(addr - base) // size]
            field = ""
            for f in e.type.fields():
                if f.bitpos // 8 == (addr - base) % size:
                    field = "." + f.name
            if name == "procs":
                return f"process {int(e['pid'])} ({string(e['name'])}){field}"
            if name == "threads":
                return thread_label(e) + field
            return f"endpoint {(addr - base) // size}{field}"
    return handle_object_at(addr)


def handle_object_at(addr):
    """'notify 0x... (con[3] handle 7).waiters' when addr lies in an object some process
    holds a handle to (objects outside the fixed tables: notifications, regions)."""
    for p in live_processes():
        handles = p["handles"]
        lo, hi = handles.type.range()
        for i in range(lo, hi + 1):
            o = handles[i]["obj"]
            if not ptr(o):
                continue
            kind = enum_name(o["type"], "KOBJ_")
            try:
                t = gdb.lookup_type(f"struct {kind}")
            except gdb.error:
                continue
            if ptr(o) <= addr < ptr(o) + t.sizeof:
                field = next((f.name for f in t.fields() if f.bitpos // 8 == addr - ptr(o)), "")
                return (f"{kind} {ptr(o):#x} ({string(p['name'])}[{int(p['pid'])}] handle "
                        f"{i + 1}){'.' + field if field else ''}")
    return None


def reply_from(t, all_threads):
    """The thread that received t's call and owes it the reply, or None."""
    for r in all_threads:
        if int(r["state"]) != 0 and ptr(r["ipc"]["reply_to"]) == ptr(t.address) \
                and int(r["ipc"]["reply_id"]) == int(t["id"]):
            return r
    return None


def waits_on(t, all_threads):
    """What a thread that is not running waits for, in a few words."""
    state = enum_name(t["state"], "T_")
    ipc = t["ipc"]
    phase = enum_name(ipc["phase"], "IPC_")
    if state == "blocked" or phase != "idle":
        if phase in ("send_queued", "recv_queued"):
            ep = index_in(ipc["queued_on"], "endpoints")
            what = "call" if phase == "send_queued" and bool(ipc["is_call"]) else phase[:4]
            return f"ipc: queued to {what} on endpoint {ep}"
        if phase in ("wait_reply", "replying"):
            r = reply_from(t, all_threads)
            return "ipc: waits for the reply from " + (thread_label(r) if r else "(nobody: "
                                                       "being completed)")
        return "ipc: " + phase
    if state == "sleeping":
        parts = []
        if ptr(t["wq"]):
            parts.append("on " + (owner_of(ptr(t["wq"])) or f"{ptr(t['wq']):#x}"))
        if int(t["wake_time"]):
            parts.append(f"until time {int(t['wake_time'])}")
        return "sleeps " + " ".join(parts) if parts else "sleeps"
    if state == "runnable":
        return "on a run queue" if ptr(t["rq"]) else "runnable (being handed a hart)"
    return ""


# ---- the commands -------------------------------------------------------------------------

class Shuttle(gdb.Command):
    """Shuttle kernel helpers: harts, threads, procs, rq, ipc, log, trap.

Each reads the kernel's tables through its debug information, with the machine stopped
anywhere. `help shuttle COMMAND` explains one. They live in tools/gdb/shuttle.py."""

    def __init__(self):
        super().__init__("shuttle", gdb.COMMAND_USER, prefix=True)


Shuttle()
COMMANDS = []


def command(cls):
    """Registers a `shuttle NAME` command (NAME from the class's `name`)."""
    COMMANDS.append(cls)
    cls()
    return cls


PRV_S = 1  # the privilege level's encoding in the RISC-V spec (QEMU's $priv register)


class KernelView:
    """Reads kernel memory even when the selected hart is in user mode or in OpenSBI.

    QEMU's GDB stub reads memory through the selected hart's MMU at its current privilege:
    in user mode the kernel's pages (no U bit) cannot be read, and in M-mode (OpenSBI)
    addresses are not translated at all. For the length of a command the hart's privilege,
    QEMU's virtual $priv register, is set to S, where its page table (every process's
    includes the kernel's half) maps the kernel; then it is put back. The hart does not run
    meanwhile, so it never notices."""

    def __enter__(self):
        self.saved = None
        try:
            priv = int(gdb.parse_and_eval("$priv"))
        except gdb.error:
            return self  # no such register: not QEMU's RISC-V stub, leave it be
        if priv != PRV_S:
            gdb.execute(f"set $priv = {PRV_S}")
            self.saved = priv
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            gdb.execute(f"set $priv = {self.saved}")
        return False


class ShuttleCommand(gdb.Command):
    name = None

    def __init__(self):
        super().__init__("shuttle " + self.name, gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        try:
            with KernelView():
                self.run(arg.strip())
        except gdb.MemoryError as e:
            raise gdb.GdbError(f"shuttle {self.name}: cannot read kernel memory ({e}): "
                               "is the machine stopped in Shuttle's kernel?") from None


@command
class Harts(ShuttleCommand):
    """Every hart: online, the thread it runs, its pc, run queue length, counters.

For each hart: whether it is online, the thread and process it runs (or idle), the length
of the run queue it takes threads from, its counters, and where it is now.

Usage: shuttle harts

Read from the hart table (struct hart, harts[]), not from tp or the stack, so it works
wherever the machine stopped, in user mode too. PC is the hart's program counter, read
from its GDB thread (QEMU's thread N is the hart with hart id N-1), with its function
(user addresses in the running program's symbols, build/user/bin)."""
    name = "harts"

    def run(self, arg):
        pcs = hart_pcs()
        print("HART HARTID ONLINE RUNQ  SWITCHES     TICKS     IPIS  RUNNING / PC")
        for i, h in enumerate(harts()):
            t = h["current"]
            running = thread_label(t.dereference()) if ptr(t) else "idle"
            program = string(t["process"]["name"]) if ptr(t) and ptr(t["process"]) else None
            rq = hart_runqueue(h)
            rqlen = str(int(rq["length"])) if rq is not None else "-"
            print(f"{i:4} {int(h['hartid']):6} {'yes' if bool(h['online']) else 'no':>6} "
                  f"{rqlen:>4} {int(h['context_switches']):9} {int(h['ticks']):9} "
                  f"{int(h['ipis']):8}  {running}")
            pc = pcs.get(int(h["hartid"]))
            if pc is not None:
                mode = "user" if pc < 1 << 63 else "kernel"
                print(f"{'':43}{mode} pc {code_symbol(pc, program)}")


def hart_pcs():
    """{hart id: pc} from QEMU's GDB threads, one per hart."""
    pcs = {}
    selected = gdb.selected_thread()
    try:
        for th in gdb.selected_inferior().threads():
            try:
                th.switch()
                pcs[th.num - 1] = int(gdb.parse_and_eval("$pc")) & (2**64 - 1)
            except gdb.error:
                pass
    finally:
        if selected is not None:
            selected.switch()
    return pcs


def hart_runqueue(h):
    """The struct runqueue hart h takes threads from (h->waiting points at its ready
    bitmap, whatever the policy), or None."""
    waiting = ptr(h["waiting"])
    if not waiting:
        return None
    rq_type = gdb.lookup_type("struct runqueue")
    addr = waiting - offset_of("struct runqueue", "ready")
    return gdb.Value(addr).cast(rq_type.pointer()).dereference()


@command
class Threads(ShuttleCommand):
    """Every thread: process, state, priority, affinity, last hart, what it waits on.

For each thread that exists: its id and name, its process's pid, state, priority,
affinity mask, the hart it last ran on, and what it waits on (an endpoint's queue, a reply
and from whom, a wait queue and whose it is, a timed sleep, a run queue).

Usage: shuttle threads"""
    name = "threads"

    def run(self, arg):
        all_threads = table("threads", "thread.c")
        on_hart = current_threads()
        print("  TID NAME            PID STATE     PRI AFFINITY LAST  WAITS ON")
        for t in all_threads:
            if int(t["state"]) == 0:
                continue
            p = t["process"]
            pid = str(int(p["pid"])) if ptr(p) else "-"
            last = index_in(t["last_hart"], "harts") if ptr(t["last_hart"]) else None
            state = enum_name(t["state"], "T_")
            what = waits_on(t, all_threads)
            if ptr(t.address) in on_hart:
                what = f"on hart {on_hart[ptr(t.address)]}"
            print(f"{int(t['id']):5} {string(t['name']):15} {pid:>3} {state:9} "
                  f"{int(t['priority']):3} {int(t['affinity']) & 0xff:#8x} "
                  f"{'-' if last is None else last:>4}  {what}")


def object_text(o):
    """'endpoint 3', 'process 5 (fs)', 'thread 12 sh (pid 6)', 'region' for a kobject."""
    kind = enum_name(o["type"], "KOBJ_")
    addr = ptr(o.address)
    if kind == "endpoint":
        return f"endpoint {index_in(o.address, 'endpoints')}"
    if kind == "process":
        p = o.address.cast(gdb.lookup_type("struct process").pointer()).dereference()
        return f"process {int(p['pid'])} ({string(p['name'])})"
    if kind == "thread":
        t = o.address.cast(gdb.lookup_type("struct thread").pointer()).dereference()
        return thread_label(t)
    return f"{kind} {addr:#x}"


def live_processes(pid=None):
    for p in table("procs", "process.c"):
        if int(p["state"]) == 0 or (pid is not None and int(p["pid"]) != pid):
            continue
        yield p


@command
class Procs(ShuttleCommand):
    """Processes and their handle tables (all, or the one with pid PID).

For each process: its pid (the kernel's, the one ps shows), name, state and threads; then
its handle table: handle number, the object, its rights and badge.

Usage: shuttle procs [PID]"""
    name = "procs"

    def run(self, arg):
        pid = int(arg) if arg else None
        found = False
        for p in live_processes(pid):
            found = True
            flags = [f for f in ("exiting", "torn_down") if bool(p[f])]
            print(f"pid {int(p['pid'])} {string(p['name'])}: {enum_name(p['state'], 'P_')}, "
                  f"{int(p['live_threads'])} threads"
                  + (f", {', '.join(flags)}" if flags else "")
                  + (f", exit status {int(p['exit_status']):#x}" if bool(p["exiting"]) else ""))
            handles = p["handles"]
            lo, hi = handles.type.range()
            for i in range(lo, hi + 1):
                e = handles[i]
                if not ptr(e["obj"]):
                    continue
                badge = int(e["badge"])
                print(f"  handle {i + 1:2}  {object_text(e['obj'].dereference()):32} "
                      f"rights {rights_text(int(e['rights']))}"
                      + (f"  badge {badge:#x}" if badge else ""))
        if not found:
            print(f"no process with pid {pid}" if pid is not None else "no processes")


def runqueues():
    """[(label, struct runqueue)] of the active policy: one per distinct queue the harts
    take from, then whatever RUNQUEUE_SOURCES add."""
    seen, out = {}, []
    for i, h in enumerate(harts()):
        rq = hart_runqueue(h)
        if rq is None:
            continue
        addr = ptr(rq.address)
        if addr not in seen:
            seen[addr] = []
            out.append((seen[addr], rq))
        seen[addr].append(i)
    result = [("harts " + ",".join(map(str, hs)), rq) for hs, rq in out]
    for source in RUNQUEUE_SOURCES:
        result += source()
    return result


def queue_threads(rq):
    """rq's threads in the order they will run: highest priority first, FIFO within."""
    heads = rq["head"]
    lo, hi = heads.type.range()
    for prio in range(hi, lo - 1, -1):
        t, n = heads[prio], 0
        while ptr(t) and n < 512:
            yield prio, t.dereference()
            t, n = t["rq_next"], n + 1


@command
class Rq(ShuttleCommand):
    """The run queues of the scheduling policy, threads in the order they will run.

sched=global has one queue for all harts; sched=perhart one per hart. Each queue's
threads are listed highest priority first, first come first served within one. With
HART, only the queue that hart takes threads from.

Usage: shuttle rq [HART]"""
    name = "rq"

    def run(self, arg):
        policy = lookup("policy", "sched.c")
        name = policy.dereference()["name"].string() if policy is not None and ptr(policy) \
            else "(not chosen yet)"
        print(f"policy: {name}")
        queues = runqueues()
        if arg:
            h = harts()[int(arg)]
            rq = hart_runqueue(h)
            queues = [(f"hart {int(arg)}", rq)] if rq is not None else []
        if not queues:
            print("no run queue yet (the scheduler is not initialised)")
        for label, rq in queues:
            lock = rq["lock"]
            held = ""
            if int(lock["locked"]):
                owner = index_in(lock["owner"], "harts") if ptr(lock["owner"]) else "?"
                held = f", locked by hart {owner}"
            print(f"run queue of {label}: {int(rq['length'])} threads{held}")
            for prio, t in queue_threads(rq):
                print(f"  prio {prio}  {thread_label(t)}")


@command
class Ipc(ShuttleCommand):
    """Endpoints and their queues; threads waiting for a reply, and from whom.

Every endpoint in use: its state, who holds it (a process with the right to receive
serves it), its queue of waiting senders or receivers in order, and its message count.
Then every thread waiting for a reply: the thread that owes it, and what that thread is
doing. A client stuck in ipc_call shows up in this second list.

Usage: shuttle ipc"""
    name = "ipc"

    def run(self, arg):
        all_threads = table("threads", "thread.c")
        holders = {}
        for p in live_processes():
            handles = p["handles"]
            lo, hi = handles.type.range()
            for i in range(lo, hi + 1):
                o = handles[i]["obj"]
                if ptr(o) and enum_name(o["type"], "KOBJ_") == "endpoint":
                    recv = int(handles[i]["rights"]) & rights_bit("RECV")
                    holders.setdefault(ptr(o), []).append(
                        (bool(recv), f"{string(p['name'])}[{int(p['pid'])}]"))
        for i, ep in enumerate(table("endpoints")):
            if not int(ep["in_use"]):
                continue
            held = holders.get(ptr(ep.address), [])
            servers = sorted({h for r, h in held if r})
            clients = sorted({h for r, h in held if not r})
            state = enum_name(ep["state"], "EP_")
            print(f"endpoint {i}: {state}{', closed' if bool(ep['closed']) else ''}, "
                  f"{int(ep['messages'])} messages; served by {', '.join(servers) or 'nobody'}"
                  + (f"; clients {', '.join(clients)}" if clients else ""))
            t, n = ep["head"], 0
            while ptr(t) and n < 512:
                t = t.dereference()
                phase = enum_name(t["ipc"]["phase"], "IPC_")
                print(f"  queued: {thread_label(t)} ({phase.replace('_queued', '')})")
                t, n = t["ipc"]["next"], n + 1
        print("waiting for a reply:")
        on_hart = current_threads()
        any_waiting = False
        for t in all_threads:
            if int(t["state"]) == 0 or enum_name(t["ipc"]["phase"], "IPC_") not in (
                    "wait_reply", "replying"):
                continue
            any_waiting = True
            r = reply_from(t, all_threads)
            if r is None:
                print(f"  {thread_label(t)}: its reply is being delivered")
                continue
            doing = f"running on hart {on_hart[ptr(r.address)]}" if ptr(r.address) in on_hart \
                else waits_on(r, all_threads) or enum_name(r["state"], "T_")
            print(f"  {thread_label(t)} waits for {thread_label(r)}, which {doing}")
        if not any_waiting:
            print("  (none)")


def rights_bit(name):
    for v, n in header_defines("kern/abi/types.h", "RIGHT_").items():
        if n == name.lower():
            return v
    raise gdb.GdbError(f"shuttle: RIGHT_{name} not found in kern/abi/types.h")


@command
class Log(ShuttleCommand):
    """The kernel's recent console output, from a ring in memory (after a hang).

Everything the kernel's printf and panic printed, oldest first, from console_log
(kern/lib/console.c). User programs' output through the console server goes straight to
the UART and is not in it. With BYTES, only the last BYTES bytes.

Usage: shuttle log [BYTES]"""
    name = "log"

    def run(self, arg):
        ring = need("console_log")
        size = ring.type.sizeof
        total = int(need("console_log_bytes"))
        want = min(total, size, int(arg) if arg else size)
        start = total - want
        data = bytes(gdb.selected_inferior().read_memory(ptr(ring.address), size))
        out = bytes(data[(start + i) % size] for i in range(want))
        if total > size and not arg:
            print(f"(the first {total - size} bytes are gone from the ring)")
        print(out.decode("utf-8", "replace"), end="" if out.endswith(b"\n") else "\n")


@command
class Trap(ShuttleCommand):
    """A thread's trap frame decoded: scause named, sepc with its function, stval.

How the thread entered the kernel, where from, and its registers. With no argument, the
thread running on the hart GDB has selected (`thread N` selects hart N-1); else the
thread with that id (see shuttle threads).

A thread on a hart shows that hart's CSRs (the last trap taken there). A thread that is
not running shows its trap frame: a thread blocked in IPC entered through an ecall whose
number (a7) names the call; scause and stval in the frame are those of its last interrupt
or fault (system calls do not record theirs, to keep their path short).

Usage: shuttle trap [THREAD_ID]"""
    name = "trap"

    def run(self, arg):
        on_hart = current_threads()
        if arg:
            t = thread_by_id(int(arg))
            if t is None:
                raise gdb.GdbError(f"no thread with id {arg} (see shuttle threads)")
        else:
            hartid = gdb.selected_thread().num - 1
            h = next((h for h in harts() if int(h["hartid"]) == hartid), None)
            if h is None or not ptr(h["current"]):
                print(f"hart {hartid} runs no thread (boot, or the idle loop)")
                return
            t = h["current"].dereference()
        program = string(t["process"]["name"]) if ptr(t["process"]) else None
        print(f"{thread_label(t)}, {enum_name(t['state'], 'T_')}")
        if ptr(t.address) in on_hart:
            hart = on_hart[ptr(t.address)]
            regs = hart_csrs(int(harts()[hart]["hartid"]))
            if regs:
                print(f"  on hart {hart} now; its last trap: scause {regs['scause']:#x} "
                      f"({trap_cause(regs['scause'])}), sepc "
                      f"{code_symbol(regs['sepc'], program)}, stval {regs['stval']:#x}")
        if not ptr(t["tf"]):
            print("  a kernel thread: no trap frame")
            return
        tf = t["tf"].dereference()
        x = tf["x"]
        print(f"  trap frame at {ptr(t['tf']):#x}: sepc {code_symbol(int(tf['sepc']), program)}")
        state = enum_name(t["state"], "T_")
        if state in ("blocked", "sleeping"):
            # Threads wait only inside system calls. The number (a7) is not kept (the IPC
            # calls write their results over it), but the user stub sepc is in names it:
            # sys_<name> (generated from syscalls.list), or ipc_<name> (user/lib/ipc.S).
            print("  entered by an ecall from U-mode: the system call of the user function "
                  "at sepc")
        scause = int(tf["scause"])
        if scause:
            print(f"  last interrupt or fault: scause {scause:#x} ({trap_cause(scause)}), "
                  f"stval {int(tf['stval']):#x}")
        print("  ra {} sp {:#x}".format(code_symbol(int(x[1]), program), int(x[2])))
        print("  " + " ".join(f"a{i} {int(x[10 + i]):#x}" for i in range(8)))


def hart_csrs(hartid):
    """{scause, sepc, stval} of a hart, read through its GDB thread, or None."""
    selected = gdb.selected_thread()
    try:
        for th in gdb.selected_inferior().threads():
            if th.num - 1 == hartid:
                th.switch()
                return {r: int(gdb.parse_and_eval("$" + r)) & (2**64 - 1)
                        for r in ("scause", "sepc", "stval")}
    except gdb.error:
        return None
    finally:
        if selected is not None:
            selected.switch()
    return None
