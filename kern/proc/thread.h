// Threads: the unit the scheduler runs. For now every thread runs in the kernel;
// user threads (a process, a trap frame) come with user mode.
//
//   thread_create_kernel(fn, arg, ...)   a runnable thread that calls fn(arg)
//   thread_exit(value)                   end the calling thread
//   thread_join(t, &value)               wait for t to exit, collect its value, free it
//   thread_current()                     the thread running on this hart, or NULL
//   thread_sleep_on(chan, lk)            block until thread_wakeup(chan); lk is released
//                                        while asleep and held again on return
#pragma once

#include "arch/context.h"
#include "lib/spinlock.h"
#include "lib/types.h"

#define NTHREAD 128
#define KSTACK_SIZE 4096  // one page per kernel stack

enum thread_state {
    T_UNUSED,
    T_RUNNABLE,  // on a run queue
    T_RUNNING,   // on a hart
    T_SLEEPING,  // waiting for a wakeup on chan, or for wake_time
    T_ZOMBIE,    // exited, not yet joined
};

struct thread {
    struct spinlock lock;

    // t->lock must be held when using these:
    enum thread_state state;
    const void *chan;        // what a T_SLEEPING thread waits for (NULL: a timed sleep)
    uint64_t wake_time;      // time CSR value at which a timed sleep ends, or 0
    long exit_value;
    bool joined;             // someone is in thread_join() for it

    // Scheduler state, guarded by the policy's run queue lock:
    struct thread *rq_next;  // link in a run queue
    int priority;            // PRIO_MIN .. PRIO_MAX, larger runs first
    uint64_t affinity;       // bit i set: may run on harts[i]

    // Owned by the thread itself (or its creator before it runs):
    struct context context;  // saved by swtch() when it is not running
    uint8_t *kstack;         // KSTACK_SIZE bytes
    void (*fn)(void *arg);
    void *arg;
    int id;
    char name[16];
    struct hart *last_hart;  // where it ran last (statistics, tests)
    uint64_t harts_run_on;   // bit i set: it has run on harts[i]
};

void thread_init(void);
// priority PRIO_MIN..PRIO_MAX; affinity a mask of harts[] indexes. NULL when out of
// threads or memory, or the arguments are out of range.
struct thread *thread_create_kernel(void (*fn)(void *), void *arg, const char *name,
                                    int priority, uint64_t affinity);
// 0, or -1 for a priority out of range / an empty mask. A thread moved off its hart
// by its new mask moves at once when it is the caller, at its next switch otherwise.
int thread_set_priority(struct thread *t, int priority);
int thread_set_affinity(struct thread *t, uint64_t affinity);
__attribute__((noreturn)) void thread_exit(long value);
long thread_join(struct thread *t);
struct thread *thread_current(void);
void thread_sleep_on(const void *chan, struct spinlock *lk);
void thread_wakeup(const void *chan);
int thread_count(void);  // threads not T_UNUSED, for leak checks
