// The scheduler core and its policy interface.
//
// Each hart runs sched_loop() on its boot stack: ask the policy for a thread, switch
// to it, and take over again when the thread gives up the hart (sched_switch). What
// to run next is the policy's business: `global` (one run queue under one lock, the
// baseline) is chosen with the boot argument sched=global; later labs add others.
//
// A thread's t->lock is held across every switch, from the hart that gives it up to
// the one that takes it, so no second hart can run a thread whose registers are not
// saved yet (as in xv6).
#pragma once

#include "arch/hart.h"
#include "proc/thread.h"

#define PRIO_MIN 0
#define PRIO_MAX 7
#define PRIO_DEFAULT 4
#define PRIO_LEVELS (PRIO_MAX + 1)

struct sched_policy {
    const char *name;
    void (*init)(void);
    // t became runnable. Caller holds t->lock.
    void (*enqueue)(struct thread *t);
    // Take t off its run queue; false when it was not on one (a hart has just picked
    // it to run). Caller holds t->lock.
    bool (*dequeue)(struct thread *t);
    // A runnable thread allowed on h, removed from its queue, or NULL.
    struct thread *(*pick_next)(struct hart *h);
    // A timer tick on h while cur runs: true when cur should give up the hart.
    bool (*tick)(struct hart *h, struct thread *cur);
    // h is idle: move work toward it if the policy does that.
    void (*balance)(struct hart *h);
    // Threads waiting that h could run (statistics).
    int (*queue_length)(struct hart *h);
};

extern const struct sched_policy sched_global;

// Picks the policy by name; false when there is none of that name.
bool sched_init(const char *policy_name, uint64_t quantum_ticks);
const char *sched_policy_name(void);
int sched_queue_length(struct hart *h);

// Put t on / take t off the policy's run queue. Caller holds t->lock.
void sched_enqueue(struct thread *t);
bool sched_dequeue(struct thread *t);
// Make t runnable (it must be T_RUNNING-free: new, or waking). Caller holds t->lock.
void sched_make_runnable(struct thread *t);
// Give up the hart; the thread's state says why. Caller holds t->lock and nothing else.
void sched_switch(void);
void sched_yield(void);
void sched_sleep_ns(uint64_t ns);
// From the timer interrupt: wake sleepers whose time came; maybe preempt.
void sched_tick(void);
// The per-hart loop; never returns.
__attribute__((noreturn)) void sched_loop(void);
