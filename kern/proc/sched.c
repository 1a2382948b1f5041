// The scheduler core (see sched.h): switching, the idle loop, timed sleep, yielding and
// preemption. The policy decides only which thread runs next.
#include "proc/sched.h"
#include "abi/errno.h"
#include "dev/ipi.h"
#include "dev/timer.h"
#include "lib/assert.h"
#include "lib/string.h"
#include "proc/process.h"
#include "proc/usertrap.h"

static const struct sched_policy *policy;
static uint64_t quantum = 1;  // ticks a thread runs before the policy may preempt it
static bool check;            // schedcheck: the invariant check at every idle tick
static bool stealing = true;  // steal=0 turns work stealing off (a test hook)
static enum sched_wakeup wakeup = WAKEUP_TICK;

static const struct sched_policy *const policies[] = { &sched_global, &sched_perhart };

// Timed sleepers, one queue per hart ordered by wake time, so a tick looks only at
// what expires: the head.
static struct sleepq {
    struct spinlock lock;
    // sleepq->lock must be held when using this:
    struct thread *head;  // linked by sleep_next, earliest first
} sleepqs[MAX_HARTS];

bool sched_init(const struct sched_config *config)
{
    for (int i = 0; i < MAX_HARTS; i++) {
        spin_init(&sleepqs[i].lock, "sleepq", RANK_SLEEPQ);
        harts[i].wake_above = PRIORITY_MAX;  // not asleep: it looks before it sleeps
    }
    for (size_t i = 0; i < ARRAY_SIZE(policies); i++) {
        if (strcmp(policies[i]->name, config->policy) == 0) {
            policy = policies[i];
            quantum = config->quantum_ticks ? config->quantum_ticks : 1;
            check = config->check;
            stealing = config->steal;
            wakeup = config->wakeup;
            policy->init();
            return true;
        }
    }
    return false;
}

const char *sched_wakeup_name(void)
{
    return wakeup == WAKEUP_IPI ? "ipi" : "tick";
}

const char *sched_policy_name(void)
{
    return policy ? policy->name : "none";
}

const char *sched_policy_names(void)
{
    return "global, perhart";
}

bool sched_stealing(void)
{
    return stealing;
}

int sched_queue_length(struct hart *h)
{
    return policy ? policy->queue_length(h) : 0;
}

// ---- making threads runnable ------------------------------------------------------------

struct hart *sched_hart_to_wake(uint64_t mask, int priority)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);  // the thread queued before the reads (see tell)
    struct hart *best = NULL;
    int lowest = priority;
    for (int i = 0; i < nharts; i++) {
        int above = READ_ONCE(harts[i].wake_above);
        if ((mask & harts[i].mask) && above < lowest) {
            best = &harts[i];
            lowest = above;
        }
    }
    return best;
}

// LAB 4 exercise 2: tell h that t was queued for it. Send h an IPI asking it to reschedule
// (IPI_RESCHED) when t outranks what h is doing: h->wake_above says what that is (the
// running thread's priority; -1 when h sleeps in its idle loop). The fence first: it
// orders the queued thread before the read of h->wake_above, as the idle loop orders
// its store of -1 there before its last look at the queue; so either h sees t, or this
// hart sees h asleep and wakes it. A hart with an IPI pending gets no second one
// (ipi_send coalesces).
static void tell(struct hart *h, struct thread *t)
{
#if SOL >= 4
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (t->priority > READ_ONCE(h->wake_above))
        ipi_send(h, IPI_RESCHED);
#else
    (void)h, (void)t;  // the hart notices at its next tick
#endif
}

// Puts t on a run queue, and with wakeup=ipi tells the hart that should notice; returns
// that hart, or NULL when any may take it. Caller holds t->lock.
static struct hart *enqueue(struct thread *t)
{
    assert(holding(&t->lock));
    struct hart *h = policy->enqueue(t);
    if (wakeup == WAKEUP_IPI && h)
        tell(h, t);
    return h;
}

void sched_wake(struct thread *t)
{
    assert(holding(&t->lock));
    assert(t->state != T_RUNNING && t->state != T_RUNNABLE && t->state != T_ZOMBIE);
    t->state = T_RUNNABLE;
    struct hart *to = enqueue(t);
    trace(TRACE_WAKEUP, to ? (uint32_t)to->index : 0xff, (uint32_t)t->id);
}

void sched_requeue(struct thread *t, int priority, uint64_t affinity)
{
    assert(holding(&t->lock));
    // A runnable thread on no queue has been picked, or handed a hart: it is about
    // to run, and only its fields change.
    bool queued = t->state == T_RUNNABLE && policy->dequeue(t);
    t->priority = priority;
    t->affinity = affinity;
    if (queued)
        enqueue(t);
}

bool sched_should_preempt(struct hart *h, struct thread *cur, bool tick)
{
    int waiting = sched_highest_waiting(h);
    return tick ? waiting >= cur->priority : waiting > cur->priority;
}

// ---- switching --------------------------------------------------------------------------

void sched_save_fp(struct hart *h, struct thread *prev)
{
    fp_save(prev->tf);
    h->fp_owner = prev;
    prev->fp_hart = h;
}

// What the hart holds across a switch, for whoever resumes to release.
static void switch_prepare(struct hart *h, struct thread *prev, struct spinlock *release)
{
    h->switch_prev = prev;
    h->switch_release = release;
}

void sched_finish_switch(void)
{
    struct hart *h = this_hart();
    struct thread *prev = h->switch_prev;
    struct spinlock *release = h->switch_release;
    h->switch_prev = NULL;
    h->switch_release = NULL;
    if (release)
        spin_unlock(release);
    if (!prev)
        return;
    thread_check_stack(prev);
    bool exited = prev->state == T_ZOMBIE;
    if (prev->state == T_RUNNABLE)
        enqueue(prev);  // it yielded: off the hart now, others may take it
    spin_unlock(&prev->lock);
    if (exited)
        thread_put(prev);  // its running reference: its stack is no longer in use
}

// The next thread for h, locked, or NULL. prev (locked, giving up the hart, or NULL
// from the idle loop) is on no queue, so it is never picked here. Only a hart that would
// otherwise go idle balances: a thread that yields and may stay keeps its hart.
static struct thread *pick_locked(struct hart *h, struct thread *prev)
{
    struct thread *next = policy->pick_next(h);
    bool stays = prev && prev->state == T_RUNNABLE && (prev->affinity & h->mask);
    if (!next && !stays && policy->balance(h))
        next = policy->pick_next(h);
    if (next) {
        spin_lock_at(&next->lock, RANK_THREAD_NEXT);
        assert(next->state == T_RUNNABLE);
    }
    return next;
}

// Switches h from prev (locked) to next (locked), or to the idle loop when next is NULL,
// saving prev's registers in save. Returns when prev runs again from there.
static void switch_from(struct hart *h, struct thread *prev, struct thread *next,
                        struct spinlock *release, struct context *save)
{
    if (prev->process)
        sched_switch_out_fp(h, prev);
    if (prev->state == T_ZOMBIE && h->fp_owner == prev)
        h->fp_owner = NULL;  // the slot may be a new thread's before long
    switch_prepare(h, prev, release);
    bool intena = h->intena;  // it belongs to prev's kernel execution, not to the hart
    if (next) {
        sched_switch_in(h, next);
        swtch(save, &next->context);
    } else {
        h->current = NULL;
        trace_on_hart(h, TRACE_SWITCH, 0, 0);
        WRITE_ONCE(h->wake_above, PRIORITY_MAX);  // its idle loop looks before it sleeps
        swtch(save, &h->idle);
    }
    sched_finish_switch();
    this_hart()->intena = intena;  // possibly another hart now
}

void sched_switch(void)
{
    struct hart *h = this_hart();
    struct thread *prev = h->current;
    assert(prev && holding(&prev->lock));
    assert(h->noff == 1);  // prev->lock only: sleeping with another lock held deadlocks
    assert(prev->state != T_RUNNING && !intr_get());
    struct thread *next = pick_locked(h, prev);
    if (!next && prev->state == T_RUNNABLE && (prev->affinity & h->mask)) {
        prev->state = T_RUNNING;  // it yielded, and nothing else wants the hart
        return;
    }
    switch_from(h, prev, next, NULL, &prev->context);
}

// A blocked thread resumes here (its context after sched_block), at the top of its
// stack, and goes straight back to user mode: its result is in its trapframe.
void sched_resume_in_user_mode(void)
{
    struct thread *t = thread_current();
    sched_finish_switch();
    spin_unlock(&t->lock);
    user_return();
}

void sched_block(struct thread *handoff, struct spinlock *release)
{
    struct hart *h = this_hart();
    struct thread *prev = h->current;
    assert(prev && holding(&prev->lock) && prev->state == T_BLOCKED);
    assert(h->noff == (release ? 2 : 1) && !intr_get());
    // Nothing on this stack is needed again: the thread resumes at the top of it.
    sched_set_continuation(prev);
    struct thread *next = NULL;
    if (handoff) {
        spin_lock_at(&handoff->lock, RANK_THREAD_NEXT);
        assert(handoff->state == T_BLOCKED);
        bool here = (handoff->affinity & h->mask) && handoff->priority >= sched_highest_waiting(h);
        if (here) {
            next = handoff;
        } else {
            sched_wake(handoff);
            spin_unlock(&handoff->lock);
        }
    }
    if (!next)
        next = pick_locked(h, prev);
    // Saved where nothing reads it: prev resumes from the context set above.
    switch_from(h, prev, next, release, &h->discarded);
    panic("sched: a blocked thread resumed in the kernel");
}

void sched_yield(void)
{
    struct thread *t = thread_current();
    spin_lock(&t->lock);
    t->state = T_RUNNABLE;
    sched_switch();
    spin_unlock(&t->lock);
}

// ---- timed sleep ------------------------------------------------------------------------

// Caller holds t->lock; h is this hart, whose timer it programs.
static void sleepq_insert(struct hart *h, struct thread *t)
{
    assert(holding(&t->lock));
    struct sleepq *q = &sleepqs[h->index];
    spin_lock(&q->lock);
    struct thread **link = &q->head;
    while (*link && (*link)->wake_time <= t->wake_time)
        link = &(*link)->sleep_next;
    t->sleep_next = *link;
    *link = t;
    t->sleep_hart = h;
    if (q->head == t)
        timer_wake_at(t->wake_time);
    spin_unlock(&q->lock);
}

void sched_cancel_sleep(struct thread *t)
{
    assert(holding(&t->lock));
    struct hart *h = t->sleep_hart;
    if (!h)
        return;
    struct sleepq *q = &sleepqs[h->index];
    spin_lock(&q->lock);
    for (struct thread **link = &q->head; *link; link = &(*link)->sleep_next) {
        if (*link == t) {
            *link = t->sleep_next;
            break;
        }
    }
    t->sleep_hart = NULL;
    spin_unlock(&q->lock);
}

long sched_sleep_ns(uint64_t ns)
{
    struct thread *t = thread_current();
    uint64_t ticks = timer_ns_to_ticks(ns);
    spin_lock(&t->lock);
    if (t->killed) {  // a kill that came first must not be slept through
        spin_unlock(&t->lock);
        return E_DEAD;
    }
    t->wake_time = timer_now() + (ticks ? ticks : 1);
    t->state = T_SLEEPING;
    sleepq_insert(this_hart(), t);
    sched_switch();
    t->wake_time = 0;
    bool killed = t->killed;
    spin_unlock(&t->lock);
    return killed ? E_DEAD : 0;
}

// Wakes h's sleepers whose time has come. The queue's lock comes after t->lock, so a
// sleeper is taken off first and woken under its own lock after; its wake time tells
// whether it is still the same sleep (a kill may have woken it, and it slept again).
//
// h->next_wake, the wake time h's timer was set for, is never later than the head's, but
// may be earlier: a kill on another hart takes a sleeper off this queue and cannot touch
// this hart's timer. So once it has passed the queue is looked at, and the timer set
// again from what is there, even when nothing is due; else the timer would fire at the
// stale time again and again, and the hart do nothing else.
static void wake_expired(struct hart *h, uint64_t now)
{
    struct sleepq *q = &sleepqs[h->index];
    if (h->next_wake > now)
        return;  // the usual case: no sleeper due
    for (;;) {
        struct thread *t;
        spin_lock(&q->lock);
        t = q->head;
        uint64_t when = t ? t->wake_time : 0;
        if (t && when <= now) {
            q->head = t->sleep_next;
            t->sleep_hart = NULL;
        }
        timer_wake_at(q->head ? q->head->wake_time : UINT64_MAX);
        spin_unlock(&q->lock);
        if (!t || when > now)
            return;
        spin_lock(&t->lock);
        if (t->state == T_SLEEPING && t->wake_time == when && !t->sleep_hart)
            sched_wake(t);
        spin_unlock(&t->lock);
    }
}

// ---- the tick and the idle loop ---------------------------------------------------------

// schedcheck, at each periodic tick of an idle hart h: panics when h has been idle
// through two whole ticks (three ticks in a row found it idle, with no switch between)
// while a thread it may run waited where the policy says it should have been taken.
// A tick counts only if h looked for work since the one before: a hart whose host
// thread was stopped (QEMU runs harts as host threads, and the host may run others for
// longer than a tick) takes the next tick without having had the chance to steal.
static void check_neglect(struct hart *h)
{
    uint64_t switches = h->context_switches;
    // Both the tick and the hart's last look must see the neglect: at the tick alone, a
    // busy hart's own tick-time preemption (its thread queued for a moment, load 2 with
    // one thread) looked like work to steal, and the look just after found none.
    if (switches != h->neglect_switches || !h->neglected_at_look || !policy->neglected(h)) {
        h->neglect_ticks = 0;
        h->neglect_switches = switches;
        return;
    }
    if (h->neglect_ticks > 0 && h->idle_looks == h->neglect_looks)
        return;  // it has not run since the last tick: not the policy's doing
    h->neglect_looks = h->idle_looks;
    if (++h->neglect_ticks >= 3)
        panic("sched: invariant: hart %d idle for two ticks while a thread it may run "
              "waits on a busy hart (sched=%s)",
              h->index, policy->name);
}

// From the timer interrupt, with interrupts off.
void sched_tick(bool periodic)
{
    if (!policy)
        return;
    struct hart *h = this_hart();
    wake_expired(h, timer_now());
    struct thread *t = h->current;
    if (!periodic)
        return;
    if (!t) {
        if (check)
            check_neglect(h);
        return;
    }
    if (policy->tick && stealing)
        policy->tick(h);
    if (++h->slice_ticks >= quantum && sched_should_preempt(h, t, true)) {
        h->preemptions++;
        sched_yield();
    }
}

void sched_ipi_resched(void)
{
    struct hart *h = this_hart();
    struct thread *t = h->current;
    if (!t || !sched_should_preempt(h, t, false))
        return;  // idle (its loop looks again), or nothing better came
    h->wakeup_preemptions++;
    sched_yield();
}

void sched_inject_wakeup(struct hart *h, struct thread *t)
{
    __atomic_store_n(&h->inject, t, __ATOMIC_RELEASE);
}

// ktest=idle_race: inside the window, wake the thread a test left for this hart, as a
// waker on another hart could at this instant.
static void inject_wakeup(struct hart *h)
{
    struct thread *t = __atomic_exchange_n(&h->inject, NULL, __ATOMIC_ACQUIRE);
    if (!t)
        return;
    spin_lock(&t->lock);
    assert(t->state == T_SLEEPING && !t->sleep_hart);
    sched_wake(t);  // wakeup=ipi: an IPI to this very hart, which is asleep (-1)
    spin_unlock(&t->lock);
}

// LAB 4 exercise 3: the idle loop's sleep, without a lost wakeup. It looked for work
// and found none (interrupts off since before it read seen, the policy's count of
// arrivals for h). A waker on another hart that queues a thread for h now sends an IPI
// only if it sees h asleep (wake_above -1); h sleeps in wfi only if nothing arrived.
// Order it so that no wakeup can fall between the two:
//   1. mark h asleep: WRITE_ONCE(h->wake_above, -1);
//   2. a full fence: that store before the loads of step 3 (it pairs with the fence in
//      tell(): either the waker sees -1, or h sees the arrival);
//   3. look again: if policy->arrivals(h) moved since seen, do not sleep;
//   4. wfi with interrupts still off: an interrupt pending ends it, taken or not, so an
//      IPI sent after step 1 cannot be missed (inject_wakeup(h) goes just before it:
//      the test hook that sends one exactly there);
//   5. mark h looking again (PRIORITY_MAX), then interrupts on and off: take what ended
//      the wait.
static void idle_wait(struct hart *h, uint64_t seen)
{
#if SOL >= 4
    WRITE_ONCE(h->wake_above, -1);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (policy->arrivals(h) == seen) {
        inject_wakeup(h);
        trace_on_hart(h, TRACE_IDLE_ENTER, 0, 0);
        wfi();
        trace_on_hart(h, TRACE_IDLE_EXIT, 0, 0);
    }
    WRITE_ONCE(h->wake_above, PRIORITY_MAX);
    intr_on();
    intr_off();
#else
    (void)seen;
    intr_on();  // the interrupt that brings work may come now, and be taken now ...
    WRITE_ONCE(h->wake_above, -1);
    inject_wakeup(h);
    wfi();  // ... and then this sleeps until the next one: a lost wakeup
    WRITE_ONCE(h->wake_above, PRIORITY_MAX);
    intr_off();
#endif
}

#define IDLE_RETRIES 8  // looks in a row while work shows that h could not take

void sched_idle_loop(void)
{
    struct hart *h = this_hart();
    int retries = 0;
    assert(policy && h->noff == 0);
    for (;;) {
        // Off here, whatever the thread that switched to idle last had: the wait
        // below needs them off from the look at the queue to the wfi.
        intr_off();
        ipi_run_pending_call();
        kobj_reap();
        uint64_t seen = policy->arrivals(h);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        h->idle_looks++;
        struct thread *next = pick_locked(h, NULL);
        if (!next) {
            // A thread another hart was switching out (between its queue and the hart) is
            // invisible to a steal, and back a moment later. If work h could take shows
            // now, look again at once, a few times, rather than sleep until the tick: one
            // look a tick, each meeting such a moment, left a hart idle for ticks.
            bool neglected = policy->neglected(h);
            if (neglected && ++retries < IDLE_RETRIES)
                continue;
            h->neglected_at_look = check && neglected;
            retries = 0;
            idle_wait(h, seen);
            continue;
        }
        retries = 0;
        switch_prepare(h, NULL, NULL);
        sched_switch_in(h, next);
        swtch(&h->idle, &next->context);
        sched_finish_switch();
    }
}
