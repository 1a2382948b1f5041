// Run queues (see runqueue.h): doubly linked FIFOs, so a thread leaves from anywhere in
// constant time (a priority change, a steal, a kill).
#include "proc/runqueue.h"
#include "lib/assert.h"
#include "proc/thread.h"

#define B1(n) n, n
#define B2(n) B1(n), B1(n)
#define B3(n) B2(n), B2(n)
#define B4(n) B3(n), B3(n)
#define B5(n) B4(n), B4(n)
#define B6(n) B5(n), B5(n)
#define B7(n) B6(n), B6(n)
const int8_t highest_bit[1 << PRIO_LEVELS] = {
    -1, 0, B1(1), B2(2), B3(3), B4(4), B5(5), B6(6), B7(7),
};
_Static_assert(PRIO_LEVELS == 8, "highest_bit[] is written out for 8 priorities");

void rq_init(struct runqueue *rq, const char *name)
{
    *rq = (struct runqueue){ 0 };
    spin_init(&rq->lock, name, RANK_RUNQUEUE);
}

void rq_lock(struct runqueue *rq, enum lock_rank rank)
{
    struct spinlock *lk = &rq->lock;
    push_off();
    lock_order_check(lk, rank);
    // Acquire semantics: nothing after the swap is seen before it.
    if (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0) {
        this_hart()->rq_spins++;
        spin_wait(lk);
    }
    struct hart *h = this_hart();
    lk->owner = h;
    // A queue taken from another hart: its lock's and its queues' cache lines move. A
    // count of the sharing itself, whether or not the harts ever met at the lock.
    if (rq->last_hart != h) {
        h->rq_handoffs += rq->last_hart != NULL;
        rq->last_hart = h;
    }
    lock_order_acquired(lk, rank);
}

void rq_unlock(struct runqueue *rq)
{
    spin_unlock(&rq->lock);
}

void rq_push(struct runqueue *rq, struct thread *t)
{
    assert(holding(&rq->lock) && t->rq == NULL);
    int p = t->priority;
    t->rq_next = NULL;
    t->rq_prev = rq->tail[p];
    if (rq->tail[p])
        rq->tail[p]->rq_next = t;
    else
        rq->head[p] = t;
    rq->tail[p] = t;
    rq->ready |= (uint8_t)(1u << p);
    rq->length++;
    WRITE_ONCE(rq->pushes, rq->pushes + 1);
    t->rq = rq;
}

void rq_unlink(struct runqueue *rq, struct thread *t)
{
    assert(holding(&rq->lock) && t->rq == rq);
    int p = t->priority;
    if (t->rq_prev)
        t->rq_prev->rq_next = t->rq_next;
    else
        rq->head[p] = t->rq_next;
    if (t->rq_next)
        t->rq_next->rq_prev = t->rq_prev;
    else
        rq->tail[p] = t->rq_prev;
    if (!rq->head[p])
        rq->ready &= (uint8_t) ~(1u << p);
    t->rq_next = t->rq_prev = NULL;
    t->rq = NULL;
    rq->length--;
}

struct thread *rq_pick(struct runqueue *rq, struct hart *h)
{
    assert(holding(&rq->lock));
    for (uint32_t ready = rq->ready; ready;) {
        int p = highest_bit[ready];
        for (struct thread *t = rq->head[p]; t; t = t->rq_next) {
            if (t->affinity & h->mask) {
                rq_unlink(rq, t);
                return t;
            }
        }
        ready &= ~(1u << p);
    }
    return NULL;
}

bool rq_holds_for(struct runqueue *rq, struct hart *h)
{
    assert(holding(&rq->lock));
    for (uint32_t ready = rq->ready; ready; ready &= ~(1u << highest_bit[ready]))
        for (struct thread *t = rq->head[highest_bit[ready]]; t; t = t->rq_next)
            if (t->affinity & h->mask)
                return true;
    return false;
}
