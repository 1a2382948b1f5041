// The IPC fast path: a null call, and a null reply followed by a receive, handed from
// one user thread straight to the other on this hart, with interrupts off throughout.
// uservec.S jumps here for SYS_ipc_call and SYS_ipc_reply_recv, before anything else;
// when a guard fails the general path (user_syscall, then ipc/endpoint.c) takes over.
// Neither returns.
#pragma once

#include "arch/trapframe.h"
#include "proc/thread.h"

// On at boot (boot argument ipcfast=0 turns it off); each hart keeps the flag.
void ipc_fastpath_enable(bool on);

__attribute__((noreturn)) void ipc_fastpath_call(struct trapframe *tf);
__attribute__((noreturn)) void ipc_fastpath_reply_recv(struct trapframe *tf);
