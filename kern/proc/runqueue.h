// A run queue: the runnable threads one lock guards, a FIFO per priority (round robin
// within a priority), and a bitmap of the priorities that hold a thread, so the
// highest one is found with one load. The scheduling policies share it: `global` has
// one for every hart, `perhart` (lab 3) one per hart.
//
//   rq_push(rq, t)        t at the tail of its priority's FIFO
//   rq_unlink(rq, t)      t out of rq, wherever it is
//   rq_pick(rq, h)        the first thread of the highest priority allowed on h, unlinked
//   rq_holds_for(rq, h)   whether a thread allowed on h is queued
//   rq_highest(rq)        the highest priority waiting, or -1 (a racy read is fine for hints)
//   rq_lock(rq, rank)     spin_lock_at that also counts, per hart (h->rq_spins), the
//   rq_unlock(rq)         acquisitions that found the lock taken: the contention the
//                         policies are compared on
//
// A thread on a queue has t->rq pointing at it; t->rq is NULL when it is on none.
#pragma once

#include "abi/types.h"
#include "lib/spinlock.h"

// The priorities are the system interface's (PRIORITY_MIN .. PRIORITY_MAX, abi/types.h).
#define PRIO_LEVELS (PRIORITY_MAX + 1)

struct thread;
struct hart;

struct runqueue {
    struct spinlock lock;
    // rq->lock must be held when using these:
    struct thread *head[PRIO_LEVELS], *tail[PRIO_LEVELS];
    uint8_t ready;           // bit p set: head[p] holds a thread (a byte: one load reads it)
    int length;              // threads queued
    uint64_t pushes;         // threads ever queued: an idle hart compares readings (no lock
                             // needed to read) to tell whether work came since it looked
    struct hart *last_hart;  // the hart that took the lock last (rq_handoffs)
};

// highest_bit[m]: the highest bit set in m, or -1 for 0 (the ISA has no clz without
// the Zbb extension, and a table is one load).
extern const int8_t highest_bit[1 << PRIO_LEVELS];

void rq_init(struct runqueue *rq, const char *name);
void rq_lock(struct runqueue *rq, enum lock_rank rank);
void rq_unlock(struct runqueue *rq);
// Caller holds rq->lock for all of these.
void rq_push(struct runqueue *rq, struct thread *t);
void rq_unlink(struct runqueue *rq, struct thread *t);
struct thread *rq_pick(struct runqueue *rq, struct hart *h);
// True when rq holds a thread allowed on h (it stays queued).
bool rq_holds_for(struct runqueue *rq, struct hart *h);
// The highest priority with a thread queued, or -1; readable without the lock.
static inline int rq_highest(const struct runqueue *rq)
{
    return highest_bit[READ_ONCE(rq->ready)];
}
// Threads queued, read without the lock (a hint: it may change at once).
static inline int rq_length(const struct runqueue *rq)
{
    return READ_ONCE(rq->length);
}
