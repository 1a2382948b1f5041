// Traps from user mode, and the way back (proc/usertrap.c, arch/uservec.S).
//
//   user_trap(tf)     from uservec: a system call, an interrupt or a fault
//   user_syscall(tf)  the system call in tf (its sepc already past the ecall), then
//                     user_return()
//   user_return()     back to user mode in the running thread, through userret; a
//                     killed thread exits instead
//   userret(tf)       uservec.S: restores every register from tf and srets
#pragma once

#include "arch/trapframe.h"

void user_trap(struct trapframe *tf);
__attribute__((noreturn)) void user_syscall(struct trapframe *tf);
__attribute__((noreturn)) void user_return(void);
// The end of every system call that returns through C, interrupts off: reaps objects,
// and ends a killed thread (or its RPC: ipc/rpc.h), which then does not return.
void syscall_exit_checks(void);
__attribute__((noreturn)) void userret(struct trapframe *tf);
