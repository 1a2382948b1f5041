// Spinlocks (see spinlock.h for the lock order).
#include "lib/spinlock.h"
#include "arch/hart.h"
#include "lib/assert.h"

void spin_init(struct spinlock *lk, const char *name)
{
    *lk = (struct spinlock)SPINLOCK_INIT(name);
}

bool holding(struct spinlock *lk)
{
    return READ_ONCE(lk->locked) && lk->owner == this_hart();
}

bool spin_trylock(struct spinlock *lk)
{
    push_off();
    if (holding(lk))
        panic("spinlock: %s acquired twice by one hart", lk->name);
    // Acquire semantics: nothing after the swap is seen before it.
    if (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0) {
        pop_off();
        return false;
    }
    lk->owner = this_hart();
    return true;
}

void spin_lock(struct spinlock *lk)
{
    push_off();
    if (holding(lk))
        panic("spinlock: %s acquired twice by one hart", lk->name);
    while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0) {
        __atomic_fetch_add(&lk->spins, 1, __ATOMIC_RELAXED);
        while (READ_ONCE(lk->locked))
            cpu_relax();
    }
    lk->owner = this_hart();
}

void spin_unlock(struct spinlock *lk)
{
    if (!holding(lk))
        panic("spinlock: %s released by a hart that does not hold it", lk->name);
    lk->owner = NULL;
    // Release semantics: everything before is seen before the lock looks free.
    __atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
    pop_off();
}

void push_off(void)
{
    int was_on = intr_get();
    intr_off();
    struct hart *h = this_hart();
    if (h->noff == 0)
        h->intena = was_on;
    h->noff++;
}

void pop_off(void)
{
    struct hart *h = this_hart();
    if (intr_get())
        panic("spinlock: pop_off with interrupts on");
    if (h->noff < 1)
        panic("spinlock: pop_off without push_off");
    h->noff--;
    if (h->noff == 0 && h->intena)
        intr_on();
}
