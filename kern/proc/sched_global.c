// The `global` scheduling policy, the baseline the labs improve on: one run queue for
// every hart under one lock. The highest priority with a thread allowed on the asking
// hart wins; round robin within a priority.
#include "proc/sched.h"

static struct runqueue rq;
// arrived[i]: threads queued that harts[i] may run. An idle hart sleeps only when its count
// has not moved since it looked, so it neither misses a thread it may run nor spins while
// other harts queue threads pinned elsewhere. rq.lock must be held to change these.
static uint64_t arrived[MAX_HARTS];

static void global_init(void)
{
    rq_init(&rq, "runqueue");
    for (int i = 0; i < MAX_HARTS; i++)
        harts[i].waiting = &rq.ready;
}

static struct hart *global_enqueue(struct thread *t)
{
    rq_lock(&rq, RANK_RUNQUEUE);
    rq_push(&rq, t);
    for (int i = 0; i < nharts; i++)
        if (t->affinity & harts[i].mask)
            WRITE_ONCE(arrived[i], arrived[i] + 1);
    rq_unlock(&rq);
    // Any hart t may run on could take it: the one doing the least.
    return sched_hart_to_wake(t->affinity, t->priority);
}

static bool global_dequeue(struct thread *t)
{
    rq_lock(&rq, RANK_RUNQUEUE);
    bool queued = t->rq == &rq;
    if (queued)
        rq_unlink(&rq, t);
    rq_unlock(&rq);
    return queued;
}

static struct thread *global_pick_next(struct hart *h)
{
    if (rq_highest(&rq) < 0)
        return NULL;  // nothing queued: no need for the lock
    rq_lock(&rq, RANK_RUNQUEUE);
    struct thread *t = rq_pick(&rq, h);
    rq_unlock(&rq);
    return t;
}

static bool global_balance(struct hart *h)
{
    return false;  // one queue: nothing to balance
}

static int global_queue_length(struct hart *h)
{
    return rq_length(&rq);  // one queue: every hart sees all of it
}

static uint64_t global_arrivals(struct hart *h)
{
    return READ_ONCE(arrived[h->index]);
}

// Never: with one queue, a hart that looks takes any thread it may run (rq_pick and
// rq_holds_for ask the same question under the same lock), and check_neglect counts only
// ticks after which the hart looked. Asking at the tick itself saw threads that the busy
// harts' own tick-time preemptions had queued and took back before the idle hart's look:
// a panic in scons test (sched=global, 4 harts), about nothing.
static bool global_neglected(struct hart *h)
{
    return false;
}

const struct sched_policy sched_global = {
    .name = "global",
    .init = global_init,
    .enqueue = global_enqueue,
    .dequeue = global_dequeue,
    .pick_next = global_pick_next,
    .balance = global_balance,
    .tick = NULL,
    .queue_length = global_queue_length,
    .arrivals = global_arrivals,
    .neglected = global_neglected,
};
