// System call dispatch. The table itself is generated from kern/abi/syscalls.list
// (build/gen/kern/syscall_table.c); each sys_<name> lives with its subsystem.
#pragma once

#include "abi/errno.h"
#include "abi/sysnum.h"
#include "abi/types.h"
#include "kern/sys_decls.h"
#include "mm/uvm.h"

#include <stdint.h>

struct syscall_entry {
    long (*call)(uint64_t *regs);  // a0..a7; @raw calls may write a1..a5 back
    const char *name;
};

extern const struct syscall_entry syscall_table[SYS_COUNT];

struct trapframe;
// Runs the call in a7 with a0..a5; the result goes to a0.
void syscall_dispatch(struct trapframe *tf);
