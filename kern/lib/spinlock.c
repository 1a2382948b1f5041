// Spinlocks: the slow parts (see spinlock.h for the lock order and the fast paths).
#include "lib/spinlock.h"
#include "dev/ipi.h"
#include "lib/assert.h"

static const char *const rank_names[RANK_COUNT] = {
    [RANK_KTEST] = "ktest_lock",
    [RANK_PROCS] = "procs_lock",
    [RANK_THREADS] = "threads_lock",
    [RANK_ENDPOINT] = "ep->lock",
    [RANK_BADGES] = "badges_lock",
    [RANK_NOTIFY] = "n->lock",
    [RANK_PROCESS] = "p->lock",
    [RANK_THREAD] = "t->lock",
    [RANK_THREAD_NEXT] = "t->lock (next)",
    [RANK_SLEEPQ] = "sleepq->lock",
    [RANK_RUNQUEUE] = "rq->lock",
    [RANK_RUNQUEUE_SECOND] = "rq->lock (second)",
    [RANK_VM] = "p->vm_lock",
    [RANK_IRQ] = "irq_lock",
    [RANK_KALLOC] = "kalloc_lock",
    [RANK_CONSOLE] = "console_lock",
};

void spin_init(struct spinlock *lk, const char *name, enum lock_rank rank)
{
    assert(rank > RANK_NONE && rank < RANK_COUNT);
    *lk = (struct spinlock)SPINLOCK_INIT(name, rank);
}

#define SPINS_BEFORE_NAP 64

void spin_wait(struct spinlock *lk)
{
    __atomic_fetch_add(&lk->spins, 1, __ATOMIC_RELAXED);
    do {
        // Read until it looks free, then try again: spinning on a plain load keeps
        // the line shared instead of bouncing it with swaps. Now and then give the
        // hart up for a moment (ipi_wait_turn): under icount the holder may be a hart
        // that QEMU runs only once this one stops.
        for (int n = 1; READ_ONCE(lk->locked); n++) {
            cpu_relax();
            if (n % SPINS_BEFORE_NAP == 0)
                ipi_wait_turn();
        }
    } while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0);
}

const char *lock_rank_name(enum lock_rank rank)
{
    return rank < RANK_COUNT && rank_names[rank] ? rank_names[rank] : "?";
}

void lock_order_panic(struct spinlock *lk, enum lock_rank rank)
{
    if (holding(lk))
        panic("spinlock: %s (%s) acquired twice by one hart", lk->name, lock_rank_name(rank));
#ifdef KERNEL_DEBUG
    struct hart *h = this_hart();
    for (int r = RANK_COUNT - 1; r >= (int)rank; r--) {
        struct spinlock *held = h->held_lock[r];
        if (held)
            panic("spinlock: lock order: taking %s (%s, rank %d) while holding %s (%s, "
                  "rank %d); see the order in lib/spinlock.h",
                  lk->name, lock_rank_name(rank), rank, held->name, lock_rank_name(r), r);
    }
#endif
    panic("spinlock: %s: bad acquisition at rank %d", lk->name, rank);
}

void lock_release_panic(struct spinlock *lk)
{
    if (!lk)
        panic("spinlock: pop_off without push_off");
    panic("spinlock: %s released by a hart that does not hold it", lk->name);
}

void lock_held_panic(void)
{
    struct hart *h = this_hart();
    for (int r = RANK_COUNT - 1; r > RANK_NONE; r--) {
        struct spinlock *held = h->held_lock[r];
        if (held)
            panic("spinlock: %s (%s) is held where no lock may be", held->name, lock_rank_name(r));
    }
    panic("spinlock: a lock is held where no lock may be (%d)", h->noff - 1);
}
