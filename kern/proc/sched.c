// The scheduler core (see sched.h): the per-hart loop, switching, yielding,
// sleeping and preemption. The policy decides only which thread runs next.
#include "proc/sched.h"
#include "boot/harts.h"
#include "dev/timer.h"
#include "lib/assert.h"
#include "lib/console.h"
#include "lib/string.h"
#include "mm/vm.h"
#include "proc/process.h"

static const struct sched_policy *policy;
static uint64_t quantum = 1;  // ticks a thread runs before the policy may preempt it

static const struct sched_policy *const policies[] = { &sched_global };

void thread_wake_expired(uint64_t now);

bool sched_init(const char *name, uint64_t quantum_ticks)
{
    for (size_t i = 0; i < ARRAY_SIZE(policies); i++) {
        if (strcmp(policies[i]->name, name) == 0) {
            policy = policies[i];
            quantum = quantum_ticks ? quantum_ticks : 1;
            policy->init();
            return true;
        }
    }
    return false;
}

const char *sched_policy_name(void)
{
    return policy ? policy->name : "none";
}

int sched_queue_length(struct hart *h)
{
    return policy ? policy->queue_length(h) : 0;
}

void sched_enqueue(struct thread *t)
{
    assert(holding(&t->lock));
    policy->enqueue(t);
}

bool sched_dequeue(struct thread *t)
{
    assert(holding(&t->lock));
    return policy->dequeue(t);
}

void sched_make_runnable(struct thread *t)
{
    assert(holding(&t->lock));
    assert(t->state != T_RUNNING && t->state != T_RUNNABLE);
    t->state = T_RUNNABLE;
    t->chan = NULL;
    policy->enqueue(t);
}

void sched_switch(void)
{
    struct hart *h = this_hart();
    struct thread *t = h->current;
    assert(t && holding(&t->lock));
    assert(h->noff == 1);  // t->lock only: sleeping with another lock held deadlocks
    assert(t->state != T_RUNNING);
    assert(!intr_get());
    // intena belongs to this thread's kernel execution, not to the hart.
    bool intena = h->intena;
    swtch(&t->context, &h->scheduler);
    this_hart()->intena = intena;  // possibly another hart now
}

void sched_yield(void)
{
    struct thread *t = thread_current();
    spin_lock(&t->lock);
    t->state = T_RUNNABLE;
    sched_enqueue(t);
    sched_switch();
    spin_unlock(&t->lock);
}

void sched_sleep_ns(uint64_t ns)
{
    struct thread *t = thread_current();
    uint64_t ticks = timer_ns_to_ticks(ns);
    spin_lock(&t->lock);
    t->wake_time = timer_now() + (ticks ? ticks : 1);
    t->chan = NULL;
    t->state = T_SLEEPING;
    sched_switch();
    spin_unlock(&t->lock);
}

// From the timer interrupt, with interrupts off.
void sched_tick(void)
{
    if (!policy)
        return;
    thread_wake_expired(timer_now());
    struct hart *h = this_hart();
    struct thread *t = h->current;
    if (!t)
        return;
    h->slice_ticks++;
    if (h->slice_ticks >= quantum && policy->tick(h, t)) {
        h->slice_ticks = 0;
        h->preemptions++;
        sched_yield();
    }
}

// Puts p's page table in satp unless it is there already. The hart keeps a
// reference to the process whose root it has loaded, so the root page cannot be
// freed and reused under it; the old one is dropped back in sched_loop, where no
// thread lock is held (dropping it may destroy a process).
static void load_address_space(struct hart *h, struct process *p)
{
    __atomic_fetch_or(&p->harts_used, 1UL << h->index, __ATOMIC_RELEASE);
    if (h->loaded == p) {
        vm_switch(p->root);  // after the hart left it for the kernel's table
        return;
    }
    kobj_get(&p->obj);
    assert(!h->to_put);
    h->to_put = h->loaded;
    h->loaded = p;
    vm_switch(p->root);
}

// Runs t on this hart until it gives the hart up. Caller holds t->lock.
static void run(struct hart *h, struct thread *t)
{
    t->state = T_RUNNING;
    h->current = t;
    h->slice_ticks = 0;
    h->context_switches++;
    t->last_hart = h;
    t->harts_run_on |= 1UL << h->index;
    if (t->process)
        load_address_space(h, t->process);
    swtch(&h->scheduler, &t->context);
    h = this_hart();
    h->current = NULL;
    thread_check_stack(t);
}

void sched_loop(void)
{
    struct hart *h = this_hart();
    assert(policy);
    for (;;) {
        // Interrupts on between threads, so an idle hart takes ticks and IPIs.
        intr_on();
        harts_run_pending_call();
        struct thread *t = policy->pick_next(h);
        if (!t) {
            policy->balance(h);
            wfi();  // the next tick (always armed) or an IPI ends it
            continue;
        }
        spin_lock(&t->lock);
        assert(t->state == T_RUNNABLE);
        run(h, t);
        bool exited = t->state == T_ZOMBIE;
        spin_unlock(&t->lock);
        if (exited)
            thread_put(t);  // its running reference: its stack is no longer in use
        h = this_hart();
        if (h->to_put) {
            kobj_put(&h->to_put->obj);
            h->to_put = NULL;
        }
    }
}
