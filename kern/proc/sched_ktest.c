// The scheduler's kernel self-tests (ktest=sched_*), run by boot/ktest.c from a
// kernel thread pinned to the boot hart. Each creates kernel threads, joins them all,
// and checks that no thread or page is left behind.
#include "boot/harts.h"
#include "boot/ktest.h"
#include "dev/timer.h"
#include "lib/console.h"
#include "lib/string.h"
#include "mm/kalloc.h"
#include "proc/sched.h"

#define MAX_WORKERS 32

static uint64_t all_harts_mask(void)
{
    uint64_t mask = 0;
    for (int i = 0; i < nharts; i++)
        if (harts[i].online)
            mask |= 1UL << i;
    return mask;
}

// Busy for ms milliseconds of time without giving up the hart.
static void spin_for_ms(uint64_t ms)
{
    uint64_t end = timer_now() + timer_ms_to_ticks(ms);
    while (timer_now() < end)
        cpu_relax();
}

struct leak_check {
    int threads;
    uint64_t pages;
};

static struct leak_check leak_start(void)
{
    return (struct leak_check){ thread_count(), kalloc_free_count() };
}

static void leak_end(struct leak_check before)
{
    // An exited thread is freed by its hart's scheduler just after the joiner
    // sees it exit: give the last ones a moment.
    int threads = thread_count();
    uint64_t pages = kalloc_free_count();
    for (int i = 0; i < 100 && (threads != before.threads || pages != before.pages); i++) {
        sched_sleep_ns(1000000);
        threads = thread_count();
        pages = kalloc_free_count();
    }
    if (threads != before.threads)
        ktest_fail("%d threads before the test, %d after", before.threads, threads);
    if (pages != before.pages)
        ktest_fail("%lu free pages before the test, %lu after", (unsigned long)before.pages,
                   (unsigned long)pages);
}

// Waits for t, drops the creator's reference, and returns its exit value.
static long join(struct thread *t)
{
    long value = -1;
    if (thread_join(t, &value) != 0)
        ktest_fail("thread_join failed");
    thread_put(t);
    return value;
}

static struct thread *spawn(void (*fn)(void *), void *arg, int priority, uint64_t mask)
{
    struct thread *t = thread_create_kernel(fn, arg, "worker", priority, mask);
    if (!t)
        ktest_fail("could not create a thread");
    return t;
}

// ---- threads spread over all harts, and all finish ---------------------------------

static uint64_t spread_seen;  // union of the harts the workers ran on

static void spread_worker(void *arg)
{
    spin_for_ms(40);
    __atomic_fetch_or(&spread_seen, thread_current()->harts_run_on, __ATOMIC_RELAXED);
    thread_exit((long)(uint64_t)arg);
}

void ktest_sched_spread(void)
{
    struct leak_check before = leak_start();
    int n = 4 * harts_online();
    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    struct thread *workers[MAX_WORKERS];
    spread_seen = 0;
    for (int i = 0; i < n; i++)
        workers[i] = spawn(spread_worker, (void *)(uint64_t)i, PRIORITY_DEFAULT, ~0UL);
    for (int i = 0; i < n; i++) {
        if (!workers[i])
            continue;
        long v = join(workers[i]);
        if (v != i)
            ktest_fail("worker %d exited with %ld", i, v);
    }
    uint64_t seen = __atomic_load_n(&spread_seen, __ATOMIC_RELAXED);
    if (seen != all_harts_mask())
        ktest_fail("workers ran on harts mask %#lx, expected all of %#lx", (unsigned long)seen,
                   (unsigned long)all_harts_mask());
    leak_end(before);
}

// ---- a thread that never yields cannot starve another -------------------------------

static volatile int preempt_flag;

static void preempt_spinner(void *unused)
{
    uint64_t end = timer_now() + timer_ms_to_ticks(2000);
    while (!preempt_flag && timer_now() < end)
        cpu_relax();
    thread_exit(preempt_flag);
}

static void preempt_setter(void *unused)
{
    preempt_flag = 1;
}

void ktest_sched_preempt(void)
{
    struct leak_check before = leak_start();
    // Both on one hart, other than ours where there is one, so only preemption
    // can let the setter run while the spinner spins.
    int target = harts_online() > 1 ? (this_hart()->index + 1) % nharts : this_hart()->index;
    uint64_t mask = 1UL << target;
    preempt_flag = 0;
    struct thread *spinner = spawn(preempt_spinner, NULL, PRIORITY_DEFAULT, mask);
    struct thread *setter = spawn(preempt_setter, NULL, PRIORITY_DEFAULT, mask);
    if (setter)
        join(setter);
    if (spinner && join(spinner) != 1)
        ktest_fail("a spinning thread kept its hart for 2 s: no preemption");
    leak_end(before);
}

// ---- sleep wakes within a tick of its deadline ---------------------------------------

#define SLEEP_NS 30000000ULL  // 30 ms: three ticks
static int64_t sleep_lateness[MAX_HARTS];

static void sleeper(void *arg)
{
    int i = (int)(uint64_t)arg;
    uint64_t start = timer_now();
    sched_sleep_ns(SLEEP_NS);
    uint64_t deadline = start + timer_ns_to_ticks(SLEEP_NS);
    sleep_lateness[i] = (int64_t)(timer_now() - deadline);
}

void ktest_sched_sleep(void)
{
    struct leak_check before = leak_start();
    int n = harts_online();
    struct thread *t[MAX_HARTS];
    for (int i = 0; i < n; i++)
        t[i] = spawn(sleeper, (void *)(uint64_t)i, PRIORITY_DEFAULT, ~0UL);
    for (int i = 0; i < n; i++)
        if (t[i])
            join(t[i]);
    uint64_t tick = timer_ms_to_ticks(1000 / TICK_HZ);
    for (int i = 0; i < n; i++) {
        if (sleep_lateness[i] < 0)
            ktest_fail("a sleep of 30 ms ended %ld ns early",
                       (long)timer_ticks_to_ns((uint64_t)-sleep_lateness[i]));
        else if ((uint64_t)sleep_lateness[i] > tick)
            ktest_fail("a sleep of 30 ms ended %lu ns late, more than a tick (%lu ns)",
                       (unsigned long)timer_ticks_to_ns((uint64_t)sleep_lateness[i]),
                       (unsigned long)timer_ticks_to_ns(tick));
    }
    leak_end(before);
}

// ---- priorities order runnable threads -------------------------------------------------

static volatile int gate_open;
static int order[3], order_count;
static struct spinlock order_lock = SPINLOCK_INIT("ktest", RANK_KTEST);

static void gatekeeper(void *unused)
{
    uint64_t end = timer_now() + timer_ms_to_ticks(2000);
    while (!gate_open && timer_now() < end)
        cpu_relax();
}

static void ranked(void *arg)
{
    spin_lock(&order_lock);
    if (order_count < 3)
        order[order_count++] = (int)(uint64_t)arg;
    spin_unlock(&order_lock);
}

void ktest_sched_priority(void)
{
    struct leak_check before = leak_start();
    struct thread *me = thread_current();
    int target = harts_online() > 1 ? (this_hart()->index + 1) % nharts : this_hart()->index;
    uint64_t mask = 1UL << target;
    // The gatekeeper holds the target hart until all three wait, so the scheduler
    // chooses among them by priority alone.
    thread_set_priority(me, PRIORITY_MAX);
    gate_open = 0;
    order_count = 0;
    struct thread *gate = spawn(gatekeeper, NULL, PRIORITY_MAX, mask);
    struct thread *low = spawn(ranked, (void *)1, PRIORITY_MIN + 1, mask);
    struct thread *mid = spawn(ranked, (void *)2, PRIORITY_DEFAULT, mask);
    struct thread *high = spawn(ranked, (void *)3, PRIORITY_MAX - 1, mask);
    gate_open = 1;
    struct thread *all[] = { gate, low, mid, high };
    for (int i = 0; i < 4; i++)
        if (all[i])
            join(all[i]);
    thread_set_priority(me, PRIORITY_DEFAULT);
    if (order_count != 3 || order[0] != 3 || order[1] != 2 || order[2] != 1)
        ktest_fail("threads of priority high, mid, low ran in the order %d %d %d "
                   "(3 = high, 1 = low)",
                   order[0], order[1], order[2]);
    leak_end(before);
}

// ---- affinity keeps a thread on its harts ----------------------------------------------

static void pinned_worker(void *unused)
{
    struct thread *me = thread_current();
    for (int i = 0; i < 5; i++) {
        spin_for_ms(5);
        sched_yield();
    }
    if (me->harts_run_on & ~me->affinity)
        ktest_fail("a thread pinned to %#lx ran on %#lx", (unsigned long)me->affinity,
                   (unsigned long)me->harts_run_on);
}

void ktest_sched_affinity(void)
{
    struct leak_check before = leak_start();
    struct thread *t[2 * MAX_HARTS];
    int n = 0;
    for (int h = 0; h < nharts; h++)
        if (harts[h].online)
            for (int k = 0; k < 2; k++)
                t[n++] = spawn(pinned_worker, NULL, PRIORITY_DEFAULT, 1UL << h);
    for (int i = 0; i < n; i++)
        if (t[i])
            join(t[i]);
    leak_end(before);
}

// ---- the idle loop's lost-wakeup race, made to happen (lab 4) ----------------------------

#define RACE_ROUNDS 20

static uint64_t race_slowest_ns;  // the longest an injected wakeup waited to run

// Pinned to one hart: RACE_ROUNDS times, sleep with no wake time and have the hart's idle
// loop wake us from inside its race window (sched_inject_wakeup), as a waker on another
// hart could; time how long that wakeup took to run us.
static void race_sleeper(void *unused)
{
    struct thread *self = thread_current();
    for (int i = 0; i < RACE_ROUNDS; i++) {
        spin_lock(&self->lock);
        uint64_t slept = timer_now();
        self->state = T_SLEEPING;
        sched_inject_wakeup(this_hart(), self);  // pinned: this hart is the one to idle
        sched_switch();
        spin_unlock(&self->lock);
        uint64_t ns = timer_ticks_to_ns(timer_now() - slept);
        uint64_t seen = __atomic_load_n(&race_slowest_ns, __ATOMIC_RELAXED);
        while (ns > seen && !__atomic_compare_exchange_n(&race_slowest_ns, &seen, ns, false,
                                                         __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
        }
    }
    thread_exit(0);
}

// With wakeup=ipi the wakeup is an IPI to a hart about to sleep: a correct idle loop
// sleeps through none, so each runs within a hundredth of a tick. With wakeup=tick there
// is no IPI, and the thread runs at the hart's next tick: within two.
void ktest_idle_race(void)
{
    struct leak_check before = leak_start();
    race_slowest_ns = 0;
    for (int i = 0; i < nharts; i++) {
        if (!harts[i].online)
            continue;
        struct thread *t = spawn(race_sleeper, NULL, PRIORITY_DEFAULT, 1UL << i);
        if (t)
            join(t);
    }
    uint64_t tick_ns = 1000000000ULL / TICK_HZ;
    bool ipi = strcmp(sched_wakeup_name(), "ipi") == 0;
    uint64_t bound = ipi ? tick_ns / 100 : 2 * tick_ns;
    printf("ktest: idle_race: %d wakeups sent inside the idle loop's window; the slowest ran "
           "after %lu us (wakeup=%s; bound %lu us)\n",
           RACE_ROUNDS * harts_online(), (unsigned long)(race_slowest_ns / 1000),
           sched_wakeup_name(), (unsigned long)(bound / 1000));
    if (race_slowest_ns >= bound)
        ktest_fail("a wakeup sent between the idle loop's last look and its wfi waited %lu us "
                   "(wakeup=%s): %s",
                   (unsigned long)(race_slowest_ns / 1000), sched_wakeup_name(),
                   ipi ? "the idle loop slept through the IPI (LAB 4 exercise 3)"
                       : "not even the next tick ran it");
    leak_end(before);
}
