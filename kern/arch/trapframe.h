// What a user thread's registers look like while it is in the kernel: saved by
// uservec.S at the top of the thread's kernel stack, restored by userret.
// Offsets are pinned for the assembly (TF_* in asm.h).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arch/asm.h"

// It sits at the top of the thread's kernel stack: the stack ends where it starts, so
// uservec finds the kernel stack pointer in sscratch too.
struct trapframe {
    uint64_t kernel_tp;  // the hart it will trap into: where it returned to user mode
    uint64_t sepc;       // the user pc to return to
    uint64_t x[32];      // x[i] = register xi; x[0] unused. After a system call that
                         // returned through C only ra, sp, tp, a0-a7 are up to date
    uint64_t f[32];      // floating-point registers, saved only when user code used them
    uint64_t fcsr;
    // The last interrupt or fault from user mode (user_trap writes them; system calls do
    // not, to keep their path short): for debuggers (tools/gdb) and fault reports.
    uint64_t scause;
    uint64_t stval;
    uint64_t pad;
};

_Static_assert(offsetof(struct trapframe, kernel_tp) == TF_KERNEL_TP, "uservec.S");
_Static_assert(offsetof(struct trapframe, sepc) == TF_SEPC, "uservec.S");
_Static_assert(offsetof(struct trapframe, x) == TF_X, "uservec.S");
_Static_assert(offsetof(struct trapframe, f) == TF_F, "fp.S");
_Static_assert(offsetof(struct trapframe, fcsr) == TF_FCSR, "fp.S");
_Static_assert(sizeof(struct trapframe) % 16 == 0, "the kernel stack below stays aligned");

// Argument and result registers, by name.
#define TF_A(tf, i) ((tf)->x[10 + (i)])
#define TF_A7(tf)   ((tf)->x[17])
#define TF_SP(tf)   ((tf)->x[2])

void fp_save(struct trapframe *tf);     // fp.S
void fp_restore(struct trapframe *tf);  // fp.S
