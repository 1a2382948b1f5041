// Migrating-thread RPC, beside message IPC (Lab 5).
//
// A message call moves words between two threads: the client blocks, the server's own
// thread wakes (maybe on another hart) and later wakes the client. An RPC moves the
// thread instead: the client's thread itself enters the server's address space and runs
// its entry, on a stack the server lent for it (an activation), then returns. Priority,
// affinity, time slice and hart stay the thread's: no run queue, no wakeup, no IPI.
//
//   rpc_register(ep, entry, stacks, n)  the server lends n activation stacks on ep
//   rpc_call(ep, w[4])                  enter: push a frame (ipc/rpc_state.h), switch to
//                                       the server's domain, start entry
//   rpc_return(w0..w3)                  pop the frame, resume the caller with the words
//
// A thread belongs to its home process (t->process: accounting, kill) and runs in its
// domain (t->domain: address space, handles), the server while it is in an RPC.
//
// What can go wrong, and what the caller sees in a0:
// - no activation free: the call waits, first come first served (a kill ends the wait);
// - the entry faults: E_FAULT, its activation is free again, the server lives on;
// - the server ends (exit, kill, or its endpoint closes): new calls get E_DEAD; threads
//   inside it leave at their next kernel boundary (one running it on another hart is
//   interrupted by an IPI) and their calls return E_DEAD; one inside a deeper server
//   finishes there first, then unwinds past the dead one;
// - the caller's process is killed while its thread is in a server: the thread finishes
//   the call (the server's work is never cut short by a client's kill), then dies as it
//   comes home.
// A server is not torn down while threads of other processes run in it
// (process_visit).
//
// The trap entry (arch/uservec.S) takes SYS_rpc_call and SYS_rpc_return itself, before
// any other system call, and calls the functions below with interrupts off: the fast
// half, then the slow half when the fast one gives up (NULL). They return the frame the
// assembly saves the caller's s0-s11 and gp into (rpc_call) or restores them from
// (rpc_return), with the rest of the registers in the trapframe; or NULL, with the error
// in the trapframe's a0, to return as a system call does. The unusual cases leave
// through user_return and never come back.
#pragma once

#include "arch/trapframe.h"
#include "proc/thread.h"  // and through it ipc/rpc_state.h
#include "kern/sys_decls.h"

struct endpoint;

struct rpc_frame *rpc_call_fast(uint64_t endpoint, struct trapframe *tf);
struct rpc_frame *rpc_call_slow(struct trapframe *tf);
// The frame, with what is left to do in its low bits (then rpc_return_finish does it).
uint64_t rpc_return_fast(struct trapframe *tf);
struct rpc_frame *rpc_return_finish(uint64_t frame_and_after);
struct rpc_frame *rpc_return_slow(struct trapframe *tf);

// From user_return and the syscall exit: t (depth > 0) must leave the server it is in
// (it was killed there, or the server is exiting). Its call returns err; never returns.
__attribute__((noreturn)) void rpc_unwind(struct thread *t, long err);
// From user_trap: t (depth > 0) runs its first FP instruction in a server since the
// call: what its caller keeps of its f registers goes into the frame, the rest is zeroed.
void rpc_fp_first_use(struct thread *t);
// From user_trap: t faulted in a server's entry (depth > 0): reported, and the call
// returns E_FAULT. Never returns.
__attribute__((noreturn)) void rpc_fault(struct thread *t, uint64_t scause);

// p's teardown: the endpoints it registered take a new registration (a restarted server
// serves the same endpoint), and callers queued on them get E_DEAD.
void rpc_server_gone(struct process *p);
// The endpoint closed (its last receive handle went): waiting callers get E_DEAD. Caller
// holds ep->lock.
void rpc_endpoint_closed(struct endpoint *ep);
// The endpoint is being destroyed: its registration lets the server go.
void rpc_endpoint_destroyed(struct endpoint *ep);
