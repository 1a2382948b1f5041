// Per-hart state. Each hart reaches its own struct hart through the tp register,
// which the kernel sets at entry and never changes (user tp is saved on traps).
//
// harts[] is indexed by position in the device tree (0 .. nharts-1); hartid is what
// SBI calls the hart. They often agree on QEMU, but nothing relies on it.
#pragma once

#include "arch/context.h"
#include "arch/riscv.h"
#include "lib/types.h"

struct thread;

struct hart {
    // Read by entry.S before C runs: keep at offset 0 (checked in harts.c).
    uint64_t stack_top;

    // Set before the hart starts, then read-only:
    uint64_t hartid;
    int index;
    bool sstc;          // this hart has stimecmp
    int plic_context;   // its S-mode PLIC context, or -1

    // Written only by this hart (others may read, for statistics):
    int noff;           // push_off() depth
    bool intena;        // were interrupts on before the first push_off()?
    volatile bool online;
    uint64_t ticks;     // timer interrupts taken
    uint64_t ipis;      // software interrupts taken
    uint64_t next_tick; // time of the next timer interrupt
    uint64_t call_seen; // the last harts_run_on_all() generation it ran

    // The scheduler (proc/sched.c), this hart only:
    struct thread *current;     // the thread running here, or NULL
    uint64_t satp;              // the address space loaded (mm/vm.c)
    struct process *loaded;     // whose page table satp holds; holds a reference
    struct process *to_put;     // a reference to drop once back in sched_loop
    struct thread *fp_owner;    // whose user FP registers the f registers hold
    struct context scheduler;   // sched_loop()'s registers while a thread runs
    uint64_t slice_ticks;       // ticks the current thread has run this turn
    uint64_t context_switches;  // threads switched to
    uint64_t preemptions;       // threads the timer took the hart from
};

extern struct hart harts[];
extern int nharts;

static inline struct hart *this_hart(void)
{
    return (struct hart *)r_tp();
}
