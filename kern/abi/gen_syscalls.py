"""Generates the system call numbers, the kernel's dispatch table and the user stubs
from syscalls.list, so the three can never disagree.

    gen_syscalls.py LIST SYSNUM_H KERNEL_TABLE_C USER_STUBS_C
"""

import re
import sys

LINE = re.compile(r"^(\d+)\s+(\w+)\((.*)\)\s*(@raw|@rpc)?\s*$")
ARG = re.compile(r"^(.*?)(\w+)$")
RAW = "raw"
RPC = "rpc"  # dispatched by the trap entry itself (uservec.S), like @raw hand-stubbed


def parse(text):
    calls = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        m = LINE.match(line)
        if not m:
            raise SystemExit(f"syscalls.list:{n}: cannot parse: {raw}")
        number, name, args = int(m.group(1)), m.group(2), m.group(3).strip()
        if m.group(4):  # registers in, registers out: see syscalls.list
            calls.append((number, name, RAW if m.group(4) == "@raw" else RPC))
            continue
        params = []
        for a in (x.strip() for x in args.split(",") if x.strip()):
            am = ARG.match(a)
            params.append((am.group(1).strip(), am.group(2)))
        if len(params) > 6:
            raise SystemExit(f"syscalls.list:{n}: {name} has more than 6 arguments")
        calls.append((number, name, params))
    numbers = [c[0] for c in calls]
    names = [c[1] for c in calls]
    if len(set(numbers)) != len(numbers) or len(set(names)) != len(names):
        raise SystemExit("syscalls.list: a number or a name is used twice")
    return calls


def kernel_type(ctype):
    # The kernel sees user pointers as numbers it must check and copy, never deref.
    return "uaddr_t" if "*" in ctype else ctype


def raw_range(calls, kind=RAW):
    """(first, count) of the @raw (or @rpc) calls, which must be numbered one after
    another: the trap entry (kern/arch/uservec.S) tells them from the rest with one
    comparison."""
    raw = sorted(number for number, _, params in calls if params == kind)
    if raw and raw != list(range(raw[0], raw[0] + len(raw))):
        raise SystemExit(f"syscalls.list: the @{kind} calls must have consecutive numbers")
    return (raw[0], len(raw)) if raw else (0, 0)


def sysnum_h(calls):
    first, count = raw_range(calls)
    rpc_first, rpc_count = raw_range(calls, RPC)
    if rpc_count and rpc_first + rpc_count != max(c[0] for c in calls) + 1:
        raise SystemExit("syscalls.list: the @rpc calls must have the highest numbers "
                         "(uservec.S tests a7 >= SYS_RPC_FIRST)")
    out = ["// Generated from kern/abi/syscalls.list by gen_syscalls.py: do not edit.",
           "#pragma once", ""]
    out += [f"#define SYS_{name} {number}" for number, name, _ in calls]
    out += ["", f"#define SYS_COUNT {max(c[0] for c in calls) + 1}",
            f"#define SYS_RAW_FIRST {first}  // the @raw calls: SYS_RAW_FIRST ..",
            f"#define SYS_RAW_COUNT {count}  // SYS_RAW_FIRST + SYS_RAW_COUNT - 1",
            f"#define SYS_RPC_FIRST {rpc_first}  // the @rpc calls, likewise",
            f"#define SYS_RPC_COUNT {rpc_count}", ""]
    return "\n".join(out)


def kernel_decls_h(calls):
    out = ["// Generated from kern/abi/syscalls.list by gen_syscalls.py: do not edit.",
           "// The kernel's sys_<name> functions, as the dispatch table calls them.",
           "#pragma once", "", "#include <stdint.h>", '#include "abi/types.h"', "",
           "typedef uint64_t uaddr_t;  // a user address: a number to check, never a pointer",
           ""]
    for number, name, params in calls:
        if params == RPC:
            continue  # no C entry point of that name: uservec.S takes them (ipc/rpc.h)
        if params == RAW:
            decl = "uint64_t *regs"
        else:
            decl = ", ".join(f"{kernel_type(t)} {n}" for t, n in params) or "void"
        out.append(f"long sys_{name}({decl});")
    out.append("")
    return "\n".join(out)


def kernel_table_c(calls):
    out = ["// Generated from kern/abi/syscalls.list by gen_syscalls.py: do not edit.",
           "// Each wrapper casts the argument registers to the declared types (a 32-bit",
           "// argument is cut to 32 bits here, whatever the upper half of its register);",
           "// this file is built with -O2, which makes each wrapper a tail call.",
           '#include "proc/syscall.h"', ""]
    for number, name, params in calls:
        if params in (RAW, RPC):
            continue  # called with the registers themselves: no wrapper
        casts = ", ".join(f"({kernel_type(t)})a{i}" for i, (t, _) in enumerate(params))
        args = ", ".join(f"uint64_t a{i}" for i in range(6))
        out += [f"static long call_{name}({args})", "{",
                f"    return sys_{name}({casts});", "}", ""]
    out.append("const syscall_fn syscall_calls[SYS_COUNT] = {")
    out += [f"    [SYS_{name}] = call_{name}," for _, name, params in calls
            if params not in (RAW, RPC)]
    out += ["};", "", "const syscall_raw_fn syscall_raw_calls[SYS_COUNT] = {"]
    out += [f"    [SYS_{name}] = sys_{name}," for _, name, params in calls if params == RAW]
    out += ["};", "", "const char *const syscall_names[SYS_COUNT] = {"]
    out += [f'    [SYS_{name}] = "{name}",' for _, name, _ in calls]
    out += ["};", ""]
    return "\n".join(out)


def user_stubs_c(calls):
    out = ["// Generated from kern/abi/syscalls.list by gen_syscalls.py: do not edit.",
           "// One stub per system call: arguments in a0-a5, the number in a7, ecall. A",
           "// system call is a function call: the result comes back in a0, and every other",
           "// caller-saved register (a1-a7, t0-t6) comes back zeroed.",
           "#include <shuttle/syscalls.h>", ""]
    temps = ["t0", "t1", "t2", "t3", "t4", "t5", "t6"]
    for number, name, params in calls:
        if params in (RAW, RPC):
            continue  # written by hand in user/lib/ipc.S and rpc_calls.S
        decl = ", ".join(f"{t} {n}" for t, n in params) or "void"
        used = max(len(params), 1)  # a0 carries the result even when no argument
        regs = [f'    register long a{i} asm("a{i}") = (long)({params[i][1]});'
                for i in range(len(params))]
        if not params:
            regs.append('    register long a0 asm("a0");')
        outs = ", ".join(f'"{"+r" if params else "=r"}"(a0)' if i == 0 else f'"+r"(a{i})'
                         for i in range(used))
        clobbers = ", ".join(f'"{r}"' for r in [f"a{i}" for i in range(used, 7)] + temps)
        out += [f"long sys_{name}({decl})", "{"] + regs + [
            f'    register long a7 asm("a7") = SYS_{name};',
            '    asm volatile("ecall"',
            f'                 : {outs}, "+r"(a7)',
            "                 :",
            f'                 : {clobbers}, "memory");',
            "    return a0;", "}", ""]
    return "\n".join(out)


def user_decls_h(calls):
    out = ["// Generated from kern/abi/syscalls.list by gen_syscalls.py: do not edit.",
           "// The system calls, as user programs call them. Each returns a value >= 0 or a",
           "// negative E_* from <abi/errno.h>.",
           "#pragma once", "", "#include <stdint.h>", "#include <abi/types.h>",
           "#include <abi/errno.h>", "#include <abi/sysnum.h>", ""]
    for number, name, params in calls:
        if params in (RAW, RPC):
            continue  # declared by user/lib/ipc.h and rpc.h with their own signatures
        decl = ", ".join(f"{t} {n}" for t, n in params) or "void"
        out.append(f"long sys_{name}({decl});")
    out.append("")
    return "\n".join(out)


def generate(list_path, outputs):
    with open(list_path) as f:
        calls = parse(f.read())
    makers = {"sysnum.h": sysnum_h, "syscall_table.c": kernel_table_c,
              "sys_decls.h": kernel_decls_h,
              "syscall_stubs.c": user_stubs_c, "syscalls.h": user_decls_h}
    for path in outputs:
        name = path.replace("\\", "/").rsplit("/", 1)[-1]
        with open(path, "w") as f:
            f.write(makers[name](calls))


if __name__ == "__main__":
    generate(sys.argv[1], sys.argv[2:])
