// The `perhart` scheduling policy (lab 3): a run queue and a lock per hart. Harts that
// schedule at the same time take different locks, and a thread goes back to the hart it
// ran on last, where the state it left behind (cache lines, TLB entries, its f registers)
// may still be.
//
// Placement (enqueue): the hart the thread ran on last, when its affinity allows; a new
// thread (it never ran) its creator's hart; else the least loaded hart it may run on.
//
// Stealing (balance): a hart with nothing to run takes one thread from the busiest hart
// that has two or more threads to run (the one running counts) and one queued that the
// thief may run (FreeBSD ULE's threshold: a hart with one thread is busy, not
// overloaded), and runs it at once. Every BALANCE_TICKS ticks a busy hart does the same
// toward a hart with at least two more threads than itself, so loads end up within one
// of each other, and equal loads never move a thread (no thrash). A pinned thread is
// never moved: only a thread allowed on the thief is taken (rq_pick).
//
// Lock order: a steal holds two run-queue locks, the lower hart index's first
// (RANK_RUNQUEUE) and the higher's second (RANK_RUNQUEUE_SECOND), as lib/spinlock.h
// says. Any order all harts agree on would do; two harts stealing from each other that
// each took its own queue's lock first would wait for each other for ever.
//
// Counters (struct hart, shown by `harts`): h->steals on the thief, h->pushed on the
// hart stolen from, h->rq_spins for every run-queue lock acquisition that found the
// lock taken (proc/runqueue.c).
#include "proc/sched.h"
#include "lib/assert.h"

#define BALANCE_TICKS 4  // a busy hart looks for an imbalance every this many ticks

// One per hart, each on cache lines of its own: harts that schedule at once then touch
// different lines. (QEMU models no caches; a real machine would bounce shared ones.)
static struct hart_queue {
    struct runqueue rq;
} __attribute__((aligned(64))) queues[MAX_HARTS];

static struct runqueue *rq_of(struct hart *h)
{
    return &queues[h->index].rq;
}

// Threads h has to run, read without locks: those queued and the one running. A hint:
// whoever acts on it looks again under the lock.
static int load(struct hart *h)
{
    return rq_length(rq_of(h)) + (READ_ONCE(h->current) != NULL);
}

static inline bool may_run(struct thread *t, struct hart *h)
{
    return (t->affinity & h->mask) && h->online;
}

static void perhart_init(void)
{
    for (int i = 0; i < MAX_HARTS; i++) {
        rq_init(&queues[i].rq, "runqueue");
        harts[i].waiting = &queues[i].rq.ready;
    }
}

// LAB 3 exercise 1: placement. Return the hart whose queue t goes on: t->last_hart when
// t may run there (may_run), this hart (the creator's) for a new thread (no last_hart)
// that may run here, else the online hart allowed by t->affinity with the least load().
#if SOL >= 3
static struct hart *least_loaded(struct thread *t)
{
    struct hart *best = NULL;
    int best_load = 0;
    for (int i = 0; i < nharts; i++) {
        struct hart *h = &harts[i];
        int l = load(h);
        if (may_run(t, h) && (!best || l < best_load)) {
            best = h;
            best_load = l;
        }
    }
    return best ? best : this_hart();  // no allowed hart online yet: boot only
}

static struct hart *place(struct thread *t)
{
    struct hart *h = t->last_hart ? t->last_hart : this_hart();
    return may_run(t, h) ? h : least_loaded(t);
}
#else
static struct hart *place(struct thread *t)
{
    panic("sched: perhart: placement is not written yet (LAB 3 exercise 1)");
}
#endif

// Caller holds t->lock.
static struct hart *perhart_enqueue(struct thread *t)
{
    assert(holding(&t->lock));
    struct hart *h = place(t);
    struct runqueue *rq = rq_of(h);
    rq_lock(rq, RANK_RUNQUEUE);
    rq_push(rq, t);
    rq_unlock(rq);
    return h;
}

// A steal may move t from one queue to another while we wait for the lock (it holds
// both queue locks, not t->lock): so look again once the lock is ours.
static bool perhart_dequeue(struct thread *t)
{
    assert(holding(&t->lock));
    for (;;) {
        struct runqueue *rq = READ_ONCE(t->rq);
        if (!rq)
            return false;
        rq_lock(rq, RANK_RUNQUEUE);
        bool here = t->rq == rq;
        if (here)
            rq_unlink(rq, t);
        rq_unlock(rq);
        if (here)
            return true;
    }
}

// LAB 3 exercise 2: pick. Return the thread h runs next from h's own queue (the highest
// priority allowed on h, first come first served within it, taken off the queue), or
// NULL. Take the queue's lock with rq_lock() only when rq_highest() says it holds one.
static struct thread *perhart_pick_next(struct hart *h)
{
#if SOL >= 3
    struct runqueue *rq = rq_of(h);
    if (rq_highest(rq) < 0)
        return NULL;  // nothing queued: no need for the lock
    rq_lock(rq, RANK_RUNQUEUE);
    struct thread *t = rq_pick(rq, h);
    rq_unlock(rq);
    return t;
#else
    panic("sched: perhart: pick is not written yet (LAB 3 exercise 2)");
#endif
}

// LAB 3 exercise 3: the lock-order rule. Lock the run queues of two different harts in
// the order lib/spinlock.h gives: the lower index at RANK_RUNQUEUE, the higher at
// RANK_RUNQUEUE_SECOND (rq_lock takes the rank). unlock_pair releases both.
static inline void lock_pair(struct hart *a, struct hart *b)
{
    assert(a != b);
#if SOL >= 3
    if (a->index > b->index) {
        struct hart *first = b;
        b = a;
        a = first;
    }
    rq_lock(rq_of(a), RANK_RUNQUEUE);
    rq_lock(rq_of(b), RANK_RUNQUEUE_SECOND);
#else
    panic("sched: perhart: lock_pair is not written yet (LAB 3 exercise 3)");
#endif
}

static inline void unlock_pair(struct hart *a, struct hart *b)
{
    rq_unlock(rq_of(a));
    rq_unlock(rq_of(b));
}

// LAB 3 exercise 4: stealing, in two parts.
// busiest(): the online hart other than thief, not in the mask tried, with the largest
// load() of at least min_load and a thread queued; NULL when there is none.
// steal_one(): with both queues locked (lock_pair), take from victim's queue the best
// thread thief may run (rq_pick does it), if victim's load is still at least min_load,
// put it on thief's queue, and count it (thief->steals, victim->pushed). True when a
// thread moved.
#if SOL >= 3
static struct hart *busiest(struct hart *thief, int min_load, uint64_t tried)
{
    struct hart *best = NULL;
    int best_load = min_load - 1;
    for (int i = 0; i < nharts; i++) {
        struct hart *v = &harts[i];
        if (v == thief || (v->mask & tried) || !v->online || rq_length(rq_of(v)) == 0)
            continue;
        int l = load(v);
        if (l > best_load) {
            best = v;
            best_load = l;
        }
    }
    return best;
}

static bool steal_one(struct hart *victim, struct hart *thief, int min_load)
{
    lock_pair(victim, thief);
    struct thread *t = load(victim) >= min_load ? rq_pick(rq_of(victim), thief) : NULL;
    if (t) {
        rq_push(rq_of(thief), t);
        thief->steals++;
        trace_on_hart(thief, TRACE_STEAL, (uint32_t)victim->index, (uint32_t)t->id);
        victim->pushed++;  // under victim's queue lock: thieves take turns
    }
    unlock_pair(victim, thief);
    return t != NULL;
}
#else
static struct hart *busiest(struct hart *thief, int min_load, uint64_t tried)
{
    return NULL;  // no stealing yet: each hart runs only what is placed on it
}

static bool steal_one(struct hart *victim, struct hart *thief, int min_load)
{
    return false;
}
#endif

// Takes one thread thief may run from the busiest hart with at least min_load threads to
// run; a hart whose queued threads are all pinned elsewhere is passed over. True when
// one came: it is on thief's queue.
static bool steal(struct hart *thief, int min_load)
{
    uint64_t tried = 0;
    for (struct hart *v; (v = busiest(thief, min_load, tried)) != NULL; tried |= v->mask)
        if (steal_one(v, thief, min_load))
            return true;
    return false;
}

static bool perhart_balance(struct hart *h)
{
    return sched_stealing() && steal(h, 2);
}

// The periodic balance, from h's tick while a thread runs on h (the core checks that
// stealing is on). Harts look at different ticks, so they rarely contend for a queue.
static void perhart_tick(struct hart *h)
{
    if ((h->ticks + (uint64_t)h->index) % BALANCE_TICKS == 0)
        steal(h, load(h) + 2);
}

static int perhart_queue_length(struct hart *h)
{
    return rq_length(rq_of(h));
}

static uint64_t perhart_arrivals(struct hart *h)
{
    return READ_ONCE(rq_of(h)->pushes);
}

// schedcheck: idle h could steal from some hart (the condition balance acts on).
static bool perhart_neglected(struct hart *h)
{
    for (int i = 0; i < nharts; i++) {
        struct hart *v = &harts[i];
        if (v == h || !v->online || rq_length(rq_of(v)) == 0 || load(v) < 2)
            continue;
        rq_lock(rq_of(v), RANK_RUNQUEUE);
        bool found = load(v) >= 2 && rq_holds_for(rq_of(v), h);
        rq_unlock(rq_of(v));
        if (found)
            return true;
    }
    return false;
}

const struct sched_policy sched_perhart = {
    .name = "perhart",
    .init = perhart_init,
    .enqueue = perhart_enqueue,
    .dequeue = perhart_dequeue,
    .pick_next = perhart_pick_next,
    .balance = perhart_balance,
    .tick = perhart_tick,
    .queue_length = perhart_queue_length,
    .arrivals = perhart_arrivals,
    .neglected = perhart_neglected,
};
