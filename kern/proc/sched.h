// The scheduler core and its policy interface.
//
// A hart runs threads; when the running thread gives the hart up (it blocks, sleeps,
// yields, exits or is preempted) the core asks the policy for the next one and switches
// to it directly. With nothing to run, the hart switches to its idle loop
// (sched_idle_loop, on the hart's boot stack), which waits for work in wfi.
//
// What to run next is the policy's business, chosen at boot with sched=NAME: `global`
// (one run queue under one lock, the baseline: sched_global.c) or `perhart` (a run queue
// and a lock per hart, with work stealing: sched_perhart.c, lab 3). A policy keeps
// runnable threads in struct runqueue (proc/runqueue.h).
//
// The boot argument schedcheck turns on an invariant check (after Lozi et al., "The
// Linux Scheduler: a Decade of Wasted Cores", EuroSys 2016): a hart that stays idle for
// two whole ticks while a thread it may run waits elsewhere, on a hart that has two or
// more to run, panics with "sched: invariant". The tests boot with it.
//
// Switching holds two thread locks: the one giving the hart up (prev) and the one taking
// it (next, locked one rank further in). Whoever resumes in next releases prev's lock
// (sched_finish_switch), so no second hart can run prev before its registers are saved
// and its stack is free (as in xv6, without xv6's second switch through a scheduler).
// A thread that yields goes back on a run queue only then, once it is off the hart.
#pragma once

#include "arch/hart.h"
#include "lib/trace.h"
#include "proc/process.h"
#include "proc/runqueue.h"
#include "proc/thread.h"

struct sched_policy {
    const char *name;
    void (*init)(void);
    // t became runnable: queue it. Returns the hart that should notice (one that may
    // run t; wakeup=ipi sends it an IPI when t outranks what it runs), or NULL when
    // none needs telling.
    // Caller holds t->lock.
    struct hart *(*enqueue)(struct thread *t);
    // Take t off its run queue; false when it was on none. Caller holds t->lock.
    bool (*dequeue)(struct thread *t);
    // A runnable thread allowed on h, taken off its queue, or NULL.
    struct thread *(*pick_next)(struct hart *h);
    // h has nothing to run: move work toward it if the policy does that. True when it
    // found some, so h picks again at once instead of sleeping until its next tick.
    bool (*balance)(struct hart *h);
    // At h's periodic tick while a thread runs there (interrupts off, no lock held):
    // room for a periodic balance. May be NULL.
    void (*tick)(struct hart *h);
    // Threads waiting that h could run (statistics).
    int (*queue_length)(struct hart *h);
    // A count that changes whenever a thread arrives where h takes threads from: an idle
    // hart that read it before looking for work sleeps only if it has not changed since.
    uint64_t (*arrivals)(struct hart *h);
    // For schedcheck, with h idle: true when a thread h may run waits on a queue whose
    // hart has two or more threads to run (global: any thread h may run waits).
    bool (*neglected)(struct hart *h);
    // init also points each hart's h->waiting at the ready bitmap of the run queue it
    // takes threads from (struct runqueue's ready), which sched_highest_waiting() reads.
};

extern const struct sched_policy sched_global;
extern const struct sched_policy sched_perhart;

// How a hart learns that a thread was queued for it: at its next tick (the baseline),
// or at once, through an IPI (lab 4).
enum sched_wakeup { WAKEUP_TICK, WAKEUP_IPI };

struct sched_config {
    const char *policy;        // sched=NAME: "global" or "perhart"
    uint64_t quantum_ticks;    // quantum=N: ticks a thread runs before it may be preempted
    enum sched_wakeup wakeup;  // wakeup=tick|ipi
    bool check;                // schedcheck: the invariant check
    bool steal;  // steal=0 makes it false: no work stealing (a test hook: the check must
                 // then catch the idle harts)
};

// Picks the policy by name; false when there is none of that name.
bool sched_init(const struct sched_config *config);
const char *sched_wakeup_name(void);
const char *sched_policy_name(void);
// The policies there are, for a message: "global, perhart".
const char *sched_policy_names(void);
// Whether a policy may move threads between harts' queues (steal=0 says no).
bool sched_stealing(void);
int sched_queue_length(struct hart *h);

// The highest priority of a thread waiting that h might run, or -1. Read without locks:
// it decides preemption and hand-overs, which a stale answer only delays or repeats.
ALWAYS_INLINE int sched_highest_waiting(struct hart *h)
{
    return highest_bit[READ_ONCE(*h->waiting)];
}

// Makes t runnable: T_SLEEPING or T_BLOCKED (or new) to T_RUNNABLE, on a run queue.
// Caller holds t->lock.
void sched_wake(struct thread *t);
// Takes t off its run queue and puts it back (its priority or affinity changed).
// Caller holds t->lock.
void sched_requeue(struct thread *t, int priority, uint64_t affinity);

// Gives up the hart; the thread's state says why (T_RUNNABLE: it yields). Caller holds
// its own t->lock and no other lock; it holds it again on return.
void sched_switch(void);
// For a thread blocking in IPC (T_BLOCKED, caller holds its t->lock): gives up the hart
// for good. It resumes in user mode (ipc/endpoint.c: its partner writes the result into
// its trapframe), never here. handoff, when not NULL, is a blocked thread whose IPC this
// one just completed: it runs next, here, if it may and should; else it is woken.
// release, when not NULL, is a lock held that must stay held until this thread's stack
// is free (the endpoint it is queued on): it is released after the switch.
__attribute__((noreturn)) void sched_block(struct thread *handoff, struct spinlock *release);
// Makes a thread about to block in IPC resume, when switched to, at the top of its stack
// and straight into user mode (sched_block does it; so does the IPC fast path).
void sched_resume_in_user_mode(void);
ALWAYS_INLINE void sched_set_continuation(struct thread *t)
{
    t->context.ra = (uint64_t)sched_resume_in_user_mode;
    t->context.sp = (uint64_t)t->tf;
}
// Whoever resumes after a switch calls this first: it releases the thread that ran
// before (and requeues it when it yielded). Caller is the thread now running.
void sched_finish_switch(void);
void sched_yield(void);
// Sleeps ns nanoseconds; 0, or E_DEAD when the thread is killed (it then does not
// sleep, or stops sleeping at once).
long sched_sleep_ns(uint64_t ns);
// Takes t off the timed-sleep queue it is on, if any. Caller holds t->lock.
void sched_cancel_sleep(struct thread *t);
// True when cur should give up h to a waiting thread: one of a higher priority, or at a
// tick (tick = true) one of the same priority (round robin).
bool sched_should_preempt(struct hart *h, struct thread *cur, bool tick);
// From the timer interrupt (arch/trap.c): wake sleepers whose time came; at a periodic
// tick (periodic true), maybe preempt.
void sched_tick(bool periodic);
// From an IPI asking this hart to reschedule (wakeup=ipi): preempt the running thread
// if a thread queued meanwhile outranks it. Interrupts off.
void sched_ipi_resched(void);
// The hart among mask's that a thread of the given priority, just queued where all of
// them may take it, should wake: the one whose wake_above is lowest (an idle one first),
// or NULL when none is below priority (sched=global's enqueue).
struct hart *sched_hart_to_wake(uint64_t mask, int priority);
// The idle-loop race, made to happen (ktest=idle_race): the next time h's idle loop is
// about to sleep, in the window between its last look for work and its wfi, it makes t
// (a thread pinned to h, asleep with no wake time) runnable, as a waker on another hart
// could. Caller holds no lock.
void sched_inject_wakeup(struct hart *h, struct thread *t);
// Per hart, once: the idle loop. Never returns.
__attribute__((noreturn)) void sched_idle_loop(void);
// ---- switching threads in and out, for the core and the IPC fast path ----------------

void sched_save_fp(struct hart *h, struct thread *prev);

// The user FP state of prev, which gives up h, is saved if user code changed it. (A
// user thread's f registers are loaded lazily: sstatus.FS says, while it runs, whether
// the hart's f registers hold its values (Clean, or Dirty once user code changed them)
// or not (Off: its first FP instruction traps, and user_trap loads them).)
ALWAYS_INLINE void sched_switch_out_fp(struct hart *h, struct thread *prev)
{
    if ((r_sstatus() & SSTATUS_FS) == SSTATUS_FS_DIRTY)
        sched_save_fp(h, prev);
}

// Puts p's address space on h. Without ASIDs, a change of satp flushes the whole TLB.
ALWAYS_INLINE void sched_load_address_space(struct hart *h, struct process *p)
{
    if (!(READ_ONCE(p->harts_used) & h->mask))
        __atomic_fetch_or(&p->harts_used, h->mask, __ATOMIC_RELEASE);  // for shootdowns
    if (h->satp != p->satp) {
        h->satp = p->satp;
        w_satp(p->satp);
        sfence_vma();  // after: it flushes what the old satp cached (no ASIDs)
    }
}

// Everything a hart does as t starts running on it, before the switch itself: state,
// statistics, address space, trapframe and the sstatus bits for the way back to user
// mode (sret to U with interrupts on there; a thread resuming inside a kernel trap puts
// its own bits back when it returns from it).
// The part of switching in that every thread needs.
ALWAYS_INLINE void sched_switch_in_common(struct hart *h, struct thread *t)
{
    t->state = T_RUNNING;
    h->current = t;
    WRITE_ONCE(h->wake_above, t->priority);
    h->slice_ticks = 0;
    h->context_switches++;
    if (t->last_hart != h) {
        if (t->last_hart)
            h->migrations++;
        t->last_hart = h;
        t->harts_run_on |= h->mask;
    }
}

// The sstatus.FS that says whether the hart's f registers hold t's user FP state.
ALWAYS_INLINE uint64_t sched_fp_state(struct hart *h, struct thread *t)
{
    return h->fp_owner == t && t->fp_hart == h ? SSTATUS_FS_CLEAN : SSTATUS_FS_OFF;
}

// Switching in a user thread that goes straight back to user mode from a trap taken in
// user mode (the IPC fast path), whose sstatus SPP and SPIE are right already.
ALWAYS_INLINE void sched_switch_in_user(struct hart *h, struct thread *t)
{
    sched_switch_in_common(h, t);
    sched_load_address_space(h, t->domain);
    t->tf->kernel_tp = (uint64_t)h;
    uint64_t s = r_sstatus(), fs = sched_fp_state(h, t);
    if ((s & SSTATUS_FS) != fs)
        w_sstatus((s & ~SSTATUS_FS) | fs);
}

// (The IPC fast path, the one user of sched_switch_in_user, is off while tracing: it
// records no switch.)
ALWAYS_INLINE void sched_switch_in(struct hart *h, struct thread *t)
{
    sched_switch_in_common(h, t);
    trace_on_hart(h, TRACE_SWITCH, (uint32_t)t->id, t->process ? (uint32_t)t->process->pid : 0);
    if (!t->process)
        return;
    sched_load_address_space(h, t->domain);
    t->tf->kernel_tp = (uint64_t)h;
    w_sstatus((r_sstatus() & ~(SSTATUS_SPP | SSTATUS_FS)) | SSTATUS_SPIE | sched_fp_state(h, t));
}
