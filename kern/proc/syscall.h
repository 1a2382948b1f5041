// System call dispatch. The table itself is generated from kern/abi/syscalls.list
// (build/gen/kern/syscall_table.c); each sys_<name> lives with its subsystem.
#pragma once

#include "abi/errno.h"
#include "abi/sysnum.h"
#include "abi/types.h"
#include "kern/sys_decls.h"
#include "mm/uvm.h"

#include <stdint.h>

// By number, in three tables: a call that takes its arguments in registers, or an @raw
// call that takes them (a0..a7, in the trapframe, written back) by address; and names.
typedef long (*syscall_fn)(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                           uint64_t a5);
typedef long (*syscall_raw_fn)(uint64_t *regs);
extern const syscall_fn syscall_calls[SYS_COUNT];
extern const syscall_raw_fn syscall_raw_calls[SYS_COUNT];
extern const char *const syscall_names[SYS_COUNT];

struct trapframe;
// The system calls that return through C, from uservec.S: a0..a5 are the arguments,
// number the call, tf the thread's trapframe. Interrupts are off on entry and on return.
long syscall_entry(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
                   struct trapframe *tf, uint64_t number);
// Runs the @raw call in tf's a7 with the registers in tf; its status goes to a0.
void syscall_dispatch(struct trapframe *tf);
