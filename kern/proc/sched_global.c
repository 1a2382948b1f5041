// The `global` scheduling policy, the baseline the labs improve on: one run queue
// for every hart under one lock. A FIFO per priority gives round robin within a
// priority; the highest priority with a thread allowed on the asking hart wins.
#include "lib/assert.h"
#include "proc/sched.h"

static struct {
    struct spinlock lock;
    // rq.lock must be held when using these:
    struct thread *head[PRIO_LEVELS], *tail[PRIO_LEVELS];
    int length;
} rq = { .lock = SPINLOCK_INIT("runqueue") };

static void global_init(void)
{
}

static void global_enqueue(struct thread *t)
{
    spin_lock(&rq.lock);
    int p = t->priority;
    t->rq_next = NULL;
    if (rq.tail[p])
        rq.tail[p]->rq_next = t;
    else
        rq.head[p] = t;
    rq.tail[p] = t;
    rq.length++;
    spin_unlock(&rq.lock);
}

// Unlinks t, whose predecessor in its queue is prev (NULL at the head).
static void unlink(struct thread *t, struct thread *prev)
{
    int p = t->priority;
    if (prev)
        prev->rq_next = t->rq_next;
    else
        rq.head[p] = t->rq_next;
    if (rq.tail[p] == t)
        rq.tail[p] = prev;
    t->rq_next = NULL;
    rq.length--;
}

static bool global_dequeue(struct thread *t)
{
    spin_lock(&rq.lock);
    struct thread *prev = NULL;
    bool found = false;
    for (struct thread *q = rq.head[t->priority]; q && !found; prev = q, q = q->rq_next) {
        if (q == t) {
            unlink(t, prev);
            found = true;
        }
    }
    spin_unlock(&rq.lock);
    return found;
}

static struct thread *global_pick_next(struct hart *h)
{
    uint64_t me = 1UL << h->index;
    spin_lock(&rq.lock);
    for (int p = PRIO_MAX; p >= PRIO_MIN; p--) {
        struct thread *prev = NULL;
        for (struct thread *t = rq.head[p]; t; prev = t, t = t->rq_next) {
            if (t->affinity & me) {
                unlink(t, prev);
                spin_unlock(&rq.lock);
                return t;
            }
        }
    }
    spin_unlock(&rq.lock);
    return NULL;
}

// Preempt when a thread of the same or a higher priority waits: round robin within
// a priority, and lower priorities wait. (Affinity is not checked here: a preempted
// thread the waiting one cannot replace simply runs again.)
static bool global_tick(struct hart *h, struct thread *cur)
{
    for (int p = PRIO_MAX; p >= cur->priority; p--)
        if (READ_ONCE(rq.head[p]))
            return true;
    return false;
}

static void global_balance(struct hart *h)
{
    // One queue: nothing to balance.
}

static int global_queue_length(struct hart *h)
{
    return READ_ONCE(rq.length);  // one queue: every hart sees all of it
}

const struct sched_policy sched_global = {
    .name = "global",
    .init = global_init,
    .enqueue = global_enqueue,
    .dequeue = global_dequeue,
    .pick_next = global_pick_next,
    .tick = global_tick,
    .balance = global_balance,
    .queue_length = global_queue_length,
};
