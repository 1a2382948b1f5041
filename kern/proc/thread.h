// Threads: the unit the scheduler runs. A kernel thread runs a C function; a user
// thread belongs to a process and runs its code in user mode, entering the kernel
// through traps (its registers then sit in the trapframe at the top of its stack).
//
// A thread is a kernel object: its handles and its own running each hold a
// reference, and the last reference frees it. It exits once (thread_exit), becoming
// a zombie whose exit value thread_join can collect.
//
//   thread_create_kernel(fn, arg, ...)  a runnable kernel thread calling fn(arg)
//   thread_create_user(p, pc, sp, a0, ...) a runnable user thread in process p
//   thread_exit(value)                  end the calling thread
//   thread_join(t, &value)              wait for t to exit and get its value
//   thread_put(t)                       drop a reference (the creator's, after join)
//   thread_sleep_on(wq, lk)             block until thread_wakeup(wq); lk is released
//                                       while asleep and held again on return
#pragma once

#include "arch/context.h"
#include "arch/trapframe.h"
#include "ipc/ipc_state.h"
#include "lib/spinlock.h"
#include "lib/types.h"
#include "proc/object.h"

#define NTHREAD       256
#define KSTACK_SIZE   4096                   // one page per kernel stack, trapframe included
#define KSTACK_CANARY 0x5afe57ac4ca11e57ULL  // at the bottom: overwritten = overflow

enum thread_state {
    T_UNUSED,
    T_EMBRYO,    // being set up by its creator
    T_RUNNABLE,  // on a run queue, or handed a hart directly
    T_RUNNING,   // on a hart
    T_SLEEPING,  // on a wait queue, or the timed-sleep queue; its kernel frames wait
    T_BLOCKED,   // in IPC (ipc/ipc_state.h): no kernel frame; it resumes in user mode
    T_ZOMBIE,    // exited, not yet freed
};

struct process;
struct runqueue;
struct hart;

// Threads sleeping until something happens. A wait queue is guarded by the lock of the
// condition it waits for (thread_sleep_on takes that lock as its argument).
struct waitq {
    struct thread *head;
};

#include "ipc/rpc_state.h"

struct thread {
    struct kobject obj;
    struct spinlock lock;

    // t->lock must be held when using these:
    enum thread_state state;
    struct waitq *wq;           // the wait queue a T_SLEEPING thread is on (also needs
    struct thread *wq_next;     // ... the queue's lock), or NULL
    uint64_t wake_time;         // time CSR value at which a timed sleep ends, or 0
    struct hart *sleep_hart;    // whose timed-sleep queue it is on (also needs that queue's
    struct thread *sleep_next;  // lock), or NULL
    long exit_value;
    bool killed;           // leave at the next kernel boundary
    struct waitq joiners;  // threads in thread_join on it (guarded by threads_lock)

    // Scheduler state, guarded by the policy's run queue lock (priority and affinity
    // change only with t->lock held as well, off any queue):
    struct runqueue *rq;  // the run queue holding it, or NULL
    struct thread *rq_next, *rq_prev;
    int priority;       // PRIORITY_MIN .. PRIORITY_MAX, larger runs first
    uint64_t affinity;  // bit i set: may run on harts[i]

    // Owned by the thread itself (or its creator before it runs):
    struct context context;   // saved by swtch() when it is not running
    uint8_t *kstack;          // KSTACK_SIZE bytes
    struct trapframe *tf;     // user threads: at the top of kstack
    struct process *process;  // home: NULL for kernel threads; holds a reference
    struct process *domain;   // the process whose address space and handles it uses now:
                              // process, or the server of an RPC it is in (rpc.depth > 0;
                              // the frame's endpoint pins it). Changes under t->lock
    void (*fn)(void *arg);
    void *arg;
    int id;
    char name[16];
    struct ipc_state ipc;    // message passing (ipc/ipc_state.h says who guards what)
    struct rpc_state rpc;    // migrating-thread RPC (ipc/rpc_state.h)
    struct hart *last_hart;  // where it ran last
    uint64_t harts_run_on;   // bit i set: it has run on harts[i]
    struct hart *fp_hart;    // the hart whose f registers held its user FP values last
                             // (they still do if that hart's fp_owner is this thread)
};

void thread_init(void);
struct thread *thread_create_kernel(void (*fn)(void *), void *arg, const char *name, int priority,
                                    uint64_t affinity);
struct thread *thread_create_user(struct process *p, uint64_t pc, uint64_t sp, uint64_t a0,
                                  int priority, uint64_t affinity);
__attribute__((noreturn)) void thread_exit(long value);
// 0 with t's exit value, E_DEADLK for oneself, E_DEAD when the caller is killed.
long thread_join(struct thread *t, long *value);
void thread_put(struct thread *t);
void thread_destroy(struct thread *t);  // from kobj_put: the last reference went
// Sleeps on wq until thread_wakeup(wq) or a kill. Caller holds lk, the lock that guards
// wq and the condition; it is released while asleep and held again on return. A killed
// thread does not sleep: callers check their condition and thread_killed() in a loop.
void thread_sleep_on(struct waitq *wq, struct spinlock *lk);
// Wakes every thread asleep on wq. Caller holds lk, the lock that guards wq.
void thread_wakeup(struct waitq *wq, struct spinlock *lk);
// 0, or -1 for a priority out of range / an empty mask. A thread moved off its hart
// by its new mask moves at once when it is the caller, at its next switch otherwise.
int thread_set_priority(struct thread *t, int priority);
int thread_set_affinity(struct thread *t, uint64_t affinity);
bool thread_killed(struct thread *t);
void thread_kill_process(struct process *p);  // every thread of p: killed, woken
void thread_check_stack(struct thread *t);    // panics on a smashed canary
int thread_count(void);                       // threads not T_UNUSED, for leak checks
