// Per-hart state. Each hart reaches its own struct hart through the tp register,
// which the kernel sets at entry and never changes (user tp is saved on traps).
//
// harts[] is indexed by position in the device tree (0 .. nharts-1); hartid is what
// SBI calls the hart. They often agree on QEMU, but nothing relies on it.
//
// this_hart() is only meaningful while the thread cannot move to another hart
// (interrupts off, or a lock held); thread_current() is one load through tp, which no
// interrupt can split, so it is right wherever it is called.
#pragma once

#include "arch/context.h"
#include "arch/riscv.h"
#include "lib/types.h"

#include <stddef.h>

struct thread;
struct process;
struct spinlock;
struct kobject;

#define HART_LOCK_RANKS 24  // at least RANK_COUNT (checked in lib/spinlock.h)

struct hart {
    // Read by entry.S before C runs: keep at offset 0 (checked in harts.c).
    uint64_t stack_top;

    // Set before the hart starts, then read-only:
    uint64_t hartid;
    int index;
    uint64_t mask;            // 1 << index: this hart's bit in affinity masks
    bool sstc;                // this hart has stimecmp
    int plic_context;         // its S-mode PLIC context, or -1
    volatile uint32_t *sswi;  // its ACLINT SSWI register (mapped), or NULL (dev/ipi.c)

    // Locking (lib/spinlock.h), this hart only:
    int noff;             // push_off() depth
    bool intena;          // were interrupts on before the first push_off()?
    uint32_t held_ranks;  // debug builds: bit r set while a lock of rank r is held
    struct spinlock *held_lock[HART_LOCK_RANKS];  // ... and which lock that is

    // Written only by this hart (others may read, for statistics):
    volatile bool online;
    uint64_t ticks;               // timer interrupts taken
    uint64_t ipis;                // software interrupts taken
    uint64_t next_tick;           // time of the next periodic tick
    uint64_t next_wake;           // the earliest timed sleeper's wake time here, or UINT64_MAX
    uint64_t timer_late_max;      // the longest its timer interrupt came after it was due
                                  // (time CSR ticks): how long interrupts were held off
    uint64_t call_seen;           // the last ipi_run_on_all() generation it ran
    uint64_t ipis_sent;           // IPIs it sent (dev/ipi.c)
    uint64_t ipis_coalesced;      // IPIs it did not send: the target had one pending already
    uint64_t resched_ipis;        // IPIs taken that asked it to reschedule (wakeup=ipi)
    uint64_t wakeup_preemptions;  // ... after which its thread gave way to the one woken
    uint64_t rpc_calls;           // RPC calls that entered a server here (ipc/rpc.c)
    uint64_t rpc_slow;            // ... of those, the ones the slow path took

    // Written by other harts, with atomics (dev/ipi.c):
    uint32_t ipi_pending;  // why it was sent IPIs it has not taken yet (enum ipi_reason);
                           // not 0 means one is on its way, so no other is sent
    uint64_t tlb_asked;    // TLB flushes asked of it (ipi_flush_tlbs); it flushes, then
                           // sets its tlb_done (written by it alone) to the count it saw
    uint64_t tlb_done;

    // Written by this hart, read by wakers without a lock (proc/sched.c):
    int wake_above;  // a thread queued for it is worth an IPI only above this priority:
                     // the running thread's; -1 while it sleeps in its idle loop; and
                     // PRIORITY_MAX while that loop looks for work (it will look again)

    // Written by other harts, under this hart's run queue lock (sched=perhart):
    uint64_t pushed;  // threads another hart stole from its run queue

    // The scheduler (proc/sched.c), this hart only:
    struct thread *current;           // the thread running here, or NULL (idle)
    struct thread *switch_prev;       // the thread whose lock the next one to run releases
    struct spinlock *switch_release;  // a lock it released along with it, or NULL
    struct context idle;              // the idle loop's registers while a thread runs
    struct context discarded;         // where a blocked thread's last registers go (unread)
    uint64_t satp;                    // the address space loaded (mm/vm.c)
    uint8_t *waiting;                 // the ready bitmap of the run queue it takes from
    struct thread *fp_owner;          // whose user f registers the hart's f registers hold
    struct thread *inject;            // ktest=idle_race: the thread its idle loop wakes
                                      // in its race window (sched_inject_wakeup)
    uint64_t slice_ticks;             // ticks the current thread has run this turn
    uint64_t context_switches;        // threads switched to
    uint64_t preemptions;             // threads the timer took the hart from
    uint64_t migrations;              // threads switched to that ran last on another hart
    uint64_t steals;                  // threads it took from another hart's run queue
    uint64_t rq_spins;                // run-queue lock acquisitions that found it taken
    uint64_t rq_handoffs;             // ... that took it from another hart (rq->last_hart)
    uint64_t idle_looks;              // times its idle loop looked for work
    uint64_t neglect_ticks;           // schedcheck: ticks idle while another hart has
    uint64_t neglect_switches;        // ... work for it, and context_switches and
    uint64_t neglect_looks;           // ... idle_looks at the last of them
    bool neglected_at_look;           // schedcheck: its last look found nothing, yet the
                                      // policy said then that it could have taken work
    bool ipc_fastpath;                // the IPC fast path is on (ipc/fastpath.h)
    uint64_t ipc_fast;                // IPC calls and replies the fast path completed
    uint64_t ipc_slow;                // ... and those it handed to the general path
    struct kobject *reap;             // objects whose last reference went, to destroy
    struct process *teardowns;        // processes to tear down (proc/process.c)
    uint32_t notices;                 // closing notices to post (ipc/badges.c): a record
                                      // number + 1, or 0

    // Tracing (lib/trace.h): set at boot when `trace` is given, cleared at power-off.
    bool tracing;
    uint32_t trace_flow;  // the flow id of the last IPI raised here (its sender wrote it)
};

extern struct hart harts[];
extern int nharts;

static inline struct hart *this_hart(void)
{
    return (struct hart *)r_tp();
}

static inline struct thread *thread_current(void)
{
    struct thread *t;
    // One instruction: a thread preempted and moved between computing &h->current
    // and loading it would read another hart's thread.
    asm volatile("ld %0, %1(tp)" : "=r"(t) : "i"(offsetof(struct hart, current)));
    return t;
}
