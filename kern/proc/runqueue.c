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
