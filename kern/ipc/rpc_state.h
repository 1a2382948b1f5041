// A thread's part in migrating-thread RPC (struct thread embeds one; ipc/rpc.h says how
// the calls work).
//
// The activation stack. A thread that calls rpc_call leaves its own domain (the process
// whose address space and handles it used) for the server's; a frame records what it
// needs to come back: the caller's callee-saved registers, its pc, the domain, and the
// activation it took. Frames nest (A calls B, whose entry calls C) up to RPC_DEPTH_MAX:
//
//     t->domain = C ------------------------------+   running C's entry, on C's stack
//     frames[1]: in B: s0-s11 gp ra sp tp pc  ep(C) server(C) activation window
//     frames[0]: in A: s0-s11 gp ra sp tp pc  ep(B) server(B) activation window
//     t->process = A (home: accounting and kill follow it; depth 0 runs here)
//
// Only the thread itself pushes and pops its frames. depth changes under t->lock, which
// is what a kill reads it under (a kill of the home waits for depth 0; a kill of the
// domain unwinds the top frame).
#pragma once

#include "abi/types.h"
#include "arch/asm.h"  // RPC_FRAME_*: arch/uservec.S saves s0-s11 and gp straight
                       // into the frame
#include "lib/types.h"

// proc/thread.h includes this after it defines struct waitq, which the state uses.

struct endpoint;
struct process;
struct thread;

struct rpc_frame {
    uint64_t s[12];               // s0-s11 (uservec.S)
    uint64_t gp;                  // (uservec.S)
    uint64_t ra, sp, tp, pc;      // the rest of what the caller keeps, from its trapframe
    struct endpoint *ep;          // the endpoint called (a reference: its activations)
    struct process *server;       // the domain entered (counted as its visitor)
    struct process *domain;       // the caller's domain, to return to
    int activation;               // the one taken on ep
    uint64_t window, window_len;  // the part of the caller's memory rpc_copy may reach
    bool fp_saved;                // the caller had FP state: fs0-fs11 and fcsr below
    uint64_t fs[12], fcsr;
};

struct rpc_state {
    int depth;  // frames in use (t->lock); 0: the thread runs in its home process
    struct rpc_frame frames[RPC_DEPTH_MAX];
    // Waiting for an activation (the endpoint's lock):
    struct thread *wait_next;
    struct waitq wq;  // a wait queue of its own, for a wakeup of this thread alone
};

// An endpoint's RPC registration (struct endpoint embeds one). ep->lock guards it and
// the queue. The fast path reads it without the lock, through gen (a sequence count: odd
// while entry, stacks and server change), and takes and frees activations with atomics.
struct rpc_server {
    uint32_t gen;                // bumped before and after each change of the three below
    uint64_t entry;              // the server's entry pc; 0 while nothing is registered
    uint64_t stacks;             // activation i's stack top: stacks + (i+1) * RPC_STACK_SIZE
    struct process *server;      // the registering process (a reference, until destroy)
    bool orphaned;               // the server that registered ended: calls get E_DEAD, not
                                 // E_NOENT, until a new incarnation registers
    uint32_t free;               // atomic: bit i set when activation i is free
    uint32_t waiting;            // atomic: callers queued for an activation
    struct thread *head, *tail;  // those callers, first come first served
};
