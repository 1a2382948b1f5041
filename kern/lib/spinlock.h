// Spinlocks, and the nesting of interrupt disabling they rely on.
//
// Lock order, outermost first. A hart holding a lock may take only locks below it;
// every new lock class is added here in the same change that adds it.
//
//    1. ktest_lock         kernel self-tests' shared state (boot/ktest.c,
//                          proc/sched_ktest.c)
//    2. procs_lock         process table slots (proc/process.c)
//    3. threads_lock       thread table slots; the condition lock of thread_join()
//    4. ep->lock           one endpoint's state and queue (ipc/endpoint.c); never two
//                          at once (receiver counts are atomic for that reason)
//    5. n->lock            one notification's bits (ipc/notify.c)
//    6. p->lock            one process's state and handle table (proc/process.h);
//                          the condition lock of process_wait()
//    7. t->lock            one thread's state (proc/thread.h); at most one at a time,
//                          held across a context switch (proc/sched.h)
//    8. runqueue_lock      the global policy's run queue (proc/sched_global.c)
//    9. p->vm_lock         the user half of one process's page table (mm/uvm.c)
//   10. irq_lock           the IRQ objects by line (ipc/irq.c)
//   11. kalloc_lock        the free page list (mm/kalloc.c)
//   12. console_lock       kernel console output (lib/console.c); printf may be
//                          called with any lock above held, so it comes last
//
// A spinlock disables interrupts on its hart while held (push_off), so an interrupt
// handler on the same hart can never spin on a lock its own hart holds.
#pragma once

#include "lib/types.h"

struct hart;

struct spinlock {
    uint32_t locked;       // 0 or 1; changed only by atomic swaps
    const char *name;      // for panics
    struct hart *owner;    // the hart holding it, for holding()
    uint64_t spins;        // times an acquire found it taken (a contention counter)
};

#define SPINLOCK_INIT(n) { .locked = 0, .name = (n), .owner = NULL, .spins = 0 }

void spin_init(struct spinlock *lk, const char *name);
void spin_lock(struct spinlock *lk);
void spin_unlock(struct spinlock *lk);
// Takes the lock only when it is free right now; true when it did.
bool spin_trylock(struct spinlock *lk);
// True when this hart holds lk.
bool holding(struct spinlock *lk);

// Interrupts off, nestably: as many pop_off() as push_off() turn them back on,
// and only when they were on at the first push_off().
void push_off(void);
void pop_off(void);
