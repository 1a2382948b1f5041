// Spinlocks, and the nesting of interrupt disabling they rely on.
//
// Lock order, outermost first. A hart holding a lock may take only locks below it.
// Each lock is created with its rank (enum lock_rank, the same order); debug builds
// check every acquisition against the locks the hart holds and panic, naming both,
// the moment a lock is taken out of order or twice. Every new lock class is added here
// in the same change that adds it.
//
//    1. ktest_lock         kernel self-tests' shared state (boot/ktest.c,
//                          proc/sched_ktest.c)
//    2. procs_lock         process table slots (proc/process.c)
//    3. threads_lock       thread table slots; the condition lock of thread_join()
//    4. ep->lock           one endpoint's state and queue (ipc/endpoint.c), and its RPC
//                          registration and callers waiting for an activation
//                          (ipc/rpc.c); never two at once (receiver counts are atomic
//                          for that reason)
//    5. n->lock            one notification's bits and waiters (ipc/notify.c)
//    6. p->lock            one process's state and handle table (proc/process.h);
//                          the condition lock of process_wait()
//    7. badges_lock        the table of watched badges (ipc/badges.c): counted as a
//                          handle is installed, under p->lock
//    8. t->lock            one thread's state (proc/thread.h), its RPC depth and domain
//                          (the RPC fast path takes its own with nothing else held);
//                          held across a context switch (proc/sched.h), where the
//                          thread switched to is
//    9. t->lock (next)     locked as well, one rank further in
//   10. sleepq->lock       one hart's queue of timed sleepers (proc/sched.c)
//   11. rq->lock           a run queue (proc/runqueue.h); sched=perhart's steal holds
//   12. rq->lock (second)  two (lock_pair in proc/sched_perhart.c): the lower hart
//                          index's first, the higher's second, one rank further in
//   13. p->vm_lock         the user half of one process's page table (mm/uvm.c)
//   14. irq_lock           the IRQ objects by line (ipc/irq.c)
//   15. kalloc_lock        the free page list (mm/kalloc.c)
//   16. console_lock       kernel console output (lib/console.c); printf may be
//                          called with any lock above held, so it comes last
//
// A spinlock disables interrupts on its hart while held (push_off), so an interrupt
// handler on the same hart can never spin on a lock its own hart holds. The fast paths
// (acquiring a free lock, releasing) are inline: the IPC fast path takes two locks and
// a call to each would cost as much as the locking itself.
#pragma once

#include "arch/hart.h"
#include "lib/types.h"

enum lock_rank {
    RANK_NONE,  // not a lock: rank 0 is never used
    RANK_KTEST,
    RANK_PROCS,
    RANK_THREADS,
    RANK_ENDPOINT,
    RANK_NOTIFY,
    RANK_PROCESS,
    RANK_BADGES,
    RANK_THREAD,
    RANK_THREAD_NEXT,
    RANK_SLEEPQ,
    RANK_RUNQUEUE,
    RANK_RUNQUEUE_SECOND,
    RANK_VM,
    RANK_IRQ,
    RANK_KALLOC,
    RANK_CONSOLE,
    RANK_COUNT,
};
_Static_assert(RANK_COUNT <= HART_LOCK_RANKS, "struct hart tracks one held lock per rank");

struct spinlock {
    uint32_t locked;     // 0 or 1; changed only by atomic swaps
    uint8_t rank;        // its place in the lock order
    uint8_t held_rank;   // the rank it was taken at (rank, or one further in when nested)
    const char *name;    // for panics
    struct hart *owner;  // the hart holding it, for holding()
    uint64_t spins;      // times an acquire found it taken (a contention counter)
};

#define SPINLOCK_INIT(n, r)                                                                        \
    {                                                                                              \
        .locked = 0, .rank = (r), .name = (n), .owner = NULL, .spins = 0                           \
    }

void spin_init(struct spinlock *lk, const char *name, enum lock_rank rank);
// The name of a rank in the lock order above: "ep->lock".
const char *lock_rank_name(enum lock_rank rank);

// Out of line: the slow parts.
void spin_wait(struct spinlock *lk);  // spins until the lock is ours
__attribute__((noreturn)) void lock_order_panic(struct spinlock *lk, enum lock_rank rank);
__attribute__((noreturn)) void lock_release_panic(struct spinlock *lk);
__attribute__((noreturn)) void lock_held_panic(void);

// Interrupts off, nestably: as many pop_off() as push_off() turn them back on, and
// only when they were on at the first push_off().
ALWAYS_INLINE void push_off(void)
{
    uint64_t was = intr_off_and_get();
    struct hart *h = this_hart();
    if (h->noff++ == 0)
        h->intena = was != 0;
}

ALWAYS_INLINE void pop_off(void)
{
    struct hart *h = this_hart();
    if (h->noff < 1)
        lock_release_panic(NULL);
    if (--h->noff == 0 && h->intena)
        intr_on();
}

// True when this hart holds lk.
ALWAYS_INLINE bool holding(struct spinlock *lk)
{
    return READ_ONCE(lk->locked) && lk->owner == this_hart();
}

// Panics when this hart taking lk at rank would break the lock order: before it waits,
// so a mistake is a message naming both locks, not a deadlock.
ALWAYS_INLINE void lock_order_check(struct spinlock *lk, enum lock_rank rank)
{
#ifdef KERNEL_DEBUG
    if (this_hart()->held_ranks >> rank)
        lock_order_panic(lk, rank);  // this rank, or one further in, is held
#else
    if (holding(lk))
        lock_order_panic(lk, rank);
#endif
}

// Records that this hart holds lk, taken at rank. Only once the lock is ours: until
// then its held_rank belongs to the hart that holds it.
ALWAYS_INLINE void lock_order_acquired(struct spinlock *lk, enum lock_rank rank)
{
#ifdef KERNEL_DEBUG
    struct hart *h = this_hart();
    h->held_ranks |= 1u << rank;
    h->held_lock[rank] = lk;
#endif
    lk->held_rank = (uint8_t)rank;
}

ALWAYS_INLINE void lock_order_release(struct spinlock *lk)
{
#ifdef KERNEL_DEBUG
    struct hart *h = this_hart();
    h->held_ranks &= ~(1u << lk->held_rank);
    h->held_lock[lk->held_rank] = NULL;
#endif
}

// Takes lk with interrupts already off: the lock without push_off's bookkeeping.
ALWAYS_INLINE void spin_lock_irqs_off(struct spinlock *lk, enum lock_rank rank)
{
    lock_order_check(lk, rank);
    // Acquire semantics: nothing after the swap is seen before it.
    if (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0)
        spin_wait(lk);
    lk->owner = this_hart();
    lock_order_acquired(lk, rank);
}

// Takes lk at a rank other than its own: the second of two locks of one class.
ALWAYS_INLINE void spin_lock_at(struct spinlock *lk, enum lock_rank rank)
{
    push_off();
    spin_lock_irqs_off(lk, rank);
}

ALWAYS_INLINE void spin_lock(struct spinlock *lk)
{
    spin_lock_at(lk, (enum lock_rank)lk->rank);
}

// Takes the lock only when it is free right now; true when it did.
static inline bool spin_trylock(struct spinlock *lk)
{
    push_off();
    if (holding(lk) || __atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0) {
        pop_off();
        return false;
    }
    lk->owner = this_hart();
    lock_order_acquired(lk, (enum lock_rank)lk->rank);
    return true;
}

// The IPC fast path's locks (ipc/fastpath.c), with nothing but the lock itself. The fast
// path runs with interrupts off, checks once on entry that the hart holds no lock, and
// takes an endpoint's lock, then a thread's, in the order above, inside one function: so
// it does without the per-acquisition checks, which would cost it a quarter of its
// instructions in a debug build. Its locks are also taken elsewhere, with the checks.
ALWAYS_INLINE void spin_lock_fast(struct spinlock *lk)
{
    if (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0)
        spin_wait(lk);
    lk->owner = this_hart();
}

ALWAYS_INLINE void spin_unlock_fast(struct spinlock *lk)
{
    lk->owner = NULL;
    __atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
}

// Everything a release does but the store that frees the lock and the pop_off():
// spin_unlock() does those.
ALWAYS_INLINE void spin_forget(struct spinlock *lk)
{
    if (!holding(lk))
        lock_release_panic(lk);
    lock_order_release(lk);
    lk->owner = NULL;
}

// Releases a lock taken with spin_lock_irqs_off(); interrupts stay off.
ALWAYS_INLINE void spin_unlock_irqs_off(struct spinlock *lk)
{
    spin_forget(lk);
    // Release semantics: everything before is seen before the lock looks free.
    __atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
}

ALWAYS_INLINE void spin_unlock(struct spinlock *lk)
{
    spin_unlock_irqs_off(lk);
    pop_off();
}

// Panics unless this hart holds no lock: for a function its callers must call without
// one (it takes locks that come first in the order, or runs destructors).
ALWAYS_INLINE void assert_no_lock_held(void)
{
    push_off();
    if (this_hart()->noff != 1)
        lock_held_panic();
    pop_off();
}
