// Lab 4's tests from user space: what a wakeup across harts costs, in IPIs and in time.
// init runs it for `run=wakeuptests` (all) or `run=wakeuptests wakeuptests=NAME,...`; it
// reads wakeup=... from the boot words (tick when absent), since the verdicts differ: with
// wakeup=tick a thread queued for another hart waits for that hart's tick and no IPI is
// sent; with wakeup=ipi it runs at once. The times are meant for ICOUNT=1, where a
// nanosecond of the time CSR is one guest instruction and nothing on the host can stretch
// it (the grader runs it so); without icount the host's scheduling can.
//
//   round_trip_ipis  call/reply between two threads pinned to two harts: at most two IPIs a
//                    round trip with wakeup=ipi (one each way), none with wakeup=tick
//   coalesce         K threads pinned to one busy hart, woken back to back from another
//                    hart within a tick: one IPI for all of them (ipi), and the first runs
//                    within a hundredth of a tick
//   priority         a high-priority thread woken onto a hart that runs a low-priority
//                    spinner runs within a hundredth of a tick (ipi), or at that hart's
//                    tick (tick); on its own hart too, woken by its timer
//   stress           100,000 call/reply round trips in all, between threads pinned to every
//                    pair of harts in turn: none may take a tenth of a tick (a lost wakeup
//                    waits a whole one), and none may hang
//
// round_trip_ipis, coalesce and stress need two harts; on one they fail and say so (the
// grader runs them at 2 harts or more). priority on one hart is its own-hart part alone.
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ipc.h"
#include "testsuite.h"
#include "ulib.h"
#include "uthread.h"

#define TICK_NS         10000000ULL  // the kernel's tick (TICK_HZ 100)
#define FAST_NS         (TICK_NS / 100)
#define LOST_NS         (TICK_NS / 10)
#define ROUND_TRIPS     200
#define COALESCE_K      8
#define PRIORITY_ROUNDS 10
#define STRESS_TOTAL    100000
#define STRESS_MIN      500  // round trips per pair at least
#define MAX_SHOWN       8    // slow round trips printed, at most
#define PRIO_LOW        1
#define PRIO_HIGH       6

static bool ipi;  // wakeup=ipi

// ---- counters -------------------------------------------------------------------------

struct ipi_counts {
    uint64_t sent, coalesced;
};

static struct ipi_counts ipi_counts_now(void)
{
    struct ipi_counts c = { 0 };
    int n = test_nharts();
    for (int i = 0; i < n; i++) {
        struct hart_stats h;
        if (sys_hart_stats(i, &h) < 0) {
            test_fail("sys_hart_stats(%d) failed", i);
            continue;
        }
        c.sent += h.ipis_sent;
        c.coalesced += h.ipis_coalesced;
    }
    return c;
}

static bool two_harts(void)
{
    if (test_nharts() >= 2)
        return true;
    test_fail("needs two harts or more (boot with CPUS=2)");
    return false;
}

static void pin(int hart)
{
    if (test_pin_self(hart) != 0)
        test_fail("cannot pin a thread to hart %d", hart);
}

// ---- an echo server on its own hart ----------------------------------------------------

struct echo {
    handle_t ep;
    int hart;
    volatile uint64_t got;
};

// Both ends of a pair run above every server's priority, so no other thread on their
// harts can hold a woken one back until a tick: a slow round trip is a lost wakeup.
static long echo_server(void *arg)
{
    struct echo *e = arg;
    pin(e->hart);
    sys_thread_set_priority(H_SELF_THREAD, PRIO_HIGH);
    struct ipc_msg m;
    long err = ipc_recv(e->ep, &m, NULL, 0);
    while (err == 0 && m.w[0] != 0) {
        e->got = time_now();
        err = ipc_reply_recv(e->ep, &m, NULL);
    }
    if (err == 0)
        ipc_reply(&m, NULL);  // the 0 that says stop
    return err;
}

struct pair {
    struct echo echo;
    struct uthread server;
};

// Starts an echo server pinned to server_hart and pins the caller to client_hart.
static bool pair_start(struct pair *p, int client_hart, int server_hart)
{
    long ep = sys_endpoint_create();
    if (ep < 0) {
        test_fail("endpoint_create: %s", abi_strerror(ep));
        return false;
    }
    p->echo = (struct echo){ .ep = (handle_t)ep, .hart = server_hart };
    if (uthread_start(&p->server, echo_server, &p->echo, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot start the server thread");
        sys_handle_close((handle_t)ep);
        return false;
    }
    pin(client_hart);
    sys_thread_set_priority(H_SELF_THREAD, PRIO_HIGH);
    return true;
}

// One round trip; false (with a failure) when it did not come back right.
static bool round_trip(struct pair *p, uint64_t word)
{
    struct ipc_msg m = { .w = { word } };
    long err = ipc_call(p->echo.ep, &m, NULL);
    if (err < 0 || m.w[0] != word) {
        test_fail("ipc_call: %s, word %lu came back as %lu", abi_strerror(err), (unsigned long)word,
                  (unsigned long)m.w[0]);
        return false;
    }
    return true;
}

static void pair_stop(struct pair *p)
{
    struct ipc_msg m = { .w = { 0 } };
    ipc_call(p->echo.ep, &m, NULL);
    long value = -1;
    uthread_join(&p->server, &value);
    if (value != 0)
        test_fail("the server thread ended with %s", abi_strerror(value));
    sys_handle_close(p->echo.ep);
    sys_thread_set_priority(H_SELF_THREAD, PRIORITY_DEFAULT);
}

// ---- round_trip_ipis ------------------------------------------------------------------

static void test_round_trip_ipis(void)
{
    if (!two_harts())
        return;
    struct pair p;
    if (!pair_start(&p, 0, 1))
        return;
    round_trip(&p, 1);  // the server is waiting now
    struct ipi_counts before = ipi_counts_now();
    for (uint64_t i = 1; i <= ROUND_TRIPS && !test_failed(); i++)
        round_trip(&p, i);
    struct ipi_counts after = ipi_counts_now();
    pair_stop(&p);
    uint64_t sent = after.sent - before.sent;
    printf("wakeuptests: round_trip_ipis: %d round trips between harts 0 and 1 sent %lu IPIs "
           "(%lu coalesced)\n",
           ROUND_TRIPS, (unsigned long)sent, (unsigned long)(after.coalesced - before.coalesced));
    // A few more than two a trip would be other work's (a server's console line).
    if (ipi && sent > 2 * ROUND_TRIPS + 4)
        test_fail("%lu IPIs for %d round trips: more than two a trip", (unsigned long)sent,
                  ROUND_TRIPS);
    if (ipi && sent < ROUND_TRIPS)
        test_fail("%lu IPIs for %d round trips: a trip across harts woke nobody",
                  (unsigned long)sent, ROUND_TRIPS);
    if (!ipi && sent > 4)
        test_fail("%lu IPIs for %d round trips with wakeup=tick, which sends none",
                  (unsigned long)sent, ROUND_TRIPS);
}

// ---- coalesce ---------------------------------------------------------------------------

static struct {
    handle_t notify[COALESCE_K];
    volatile int running;                       // spinner and waiters that started
    volatile int woken;                         // waiters that ran after their signal
    volatile bool all_sent;                     // the waker signalled every waiter
    volatile bool stop;                         // the spinner may stop
    volatile uint64_t first_signal, first_run;  // time CSR
} co;

static long co_spinner(void *arg)
{
    pin(1);
    sys_thread_set_priority(H_SELF_THREAD, PRIO_LOW);
    __atomic_fetch_add(&co.running, 1, __ATOMIC_RELEASE);
    uint64_t end = time_now() + time_from_ms(5000);
    while (!co.stop && time_now() < end) {
    }
    return 0;
}

// Waits for its signal, then keeps the hart until every waiter was signalled, so the
// busy hart never goes back to the spinner in between (which would earn another IPI).
static long co_waiter(void *arg)
{
    int i = (int)(uintptr_t)arg;
    pin(1);
    sys_thread_set_priority(H_SELF_THREAD, PRIO_HIGH);
    __atomic_fetch_add(&co.running, 1, __ATOMIC_RELEASE);
    long bits = sys_notify_wait(co.notify[i], 0);
    uint64_t now = time_now();
    uint64_t none = 0;
    __atomic_compare_exchange_n(&co.first_run, &none, now, false, __ATOMIC_RELAXED,
                                __ATOMIC_RELAXED);
    __atomic_fetch_add(&co.woken, 1, __ATOMIC_RELEASE);
    uint64_t end = now + time_from_ms(100);
    while (!co.all_sent && time_now() < end) {
    }
    return bits;
}

static void test_coalesce(void)
{
    if (!two_harts())
        return;
    memset((void *)&co, 0, sizeof co);
    for (int i = 0; i < COALESCE_K; i++) {
        long n = sys_notify_create();
        if (n < 0) {
            test_fail("notify_create: %s", abi_strerror(n));
            return;
        }
        co.notify[i] = (handle_t)n;
    }
    pin(0);
    struct uthread spinner, waiters[COALESCE_K];
    uthread_start(&spinner, co_spinner, NULL, UTHREAD_STACK_DEFAULT);
    test_start_threads(waiters, COALESCE_K, co_waiter, NULL);
    // Every waiter blocked in notify_wait (it counted itself just before), the spinner on
    // hart 1 alone: the hart is busy, and each waiter outranks what it runs.
    uint64_t ready_by = time_now() + time_from_ms(2000);
    while (co.running < COALESCE_K + 1 && time_now() < ready_by)
        sys_sleep(1000000);
    sys_sleep(2000000);
    struct ipi_counts before = ipi_counts_now();
    co.first_signal = time_now();
    for (int i = 0; i < COALESCE_K; i++)
        sys_notify_signal(co.notify[i], 1);
    uint64_t signalled = time_now() - co.first_signal;
    co.all_sent = true;
    struct ipi_counts after = ipi_counts_now();
    test_join_threads(waiters, COALESCE_K, NULL);
    co.stop = true;
    uthread_join(&spinner, NULL);
    for (int i = 0; i < COALESCE_K; i++)
        sys_handle_close(co.notify[i]);

    uint64_t sent = after.sent - before.sent, latency = time_ns(co.first_run - co.first_signal);
    printf("wakeuptests: coalesce: %d wakeups for busy hart 1 in %lu ns sent %lu IPIs "
           "(%lu coalesced); the first ran after %lu ns\n",
           COALESCE_K, (unsigned long)time_ns(signalled), (unsigned long)sent,
           (unsigned long)(after.coalesced - before.coalesced), (unsigned long)latency);
    if (co.woken != COALESCE_K)
        test_fail("%d of %d waiters ran", co.woken, COALESCE_K);
    if (time_ns(signalled) >= TICK_NS)
        return;  // not within a tick (a slow host without icount): no verdict on the count
    if (ipi && sent != 1)
        test_fail("%d wakeups for one busy hart within a tick sent %lu IPIs, not one", COALESCE_K,
                  (unsigned long)sent);
    if (ipi && latency >= FAST_NS)
        test_fail("the first waiter ran %lu ns after its signal: not within a hundredth of a tick",
                  (unsigned long)latency);
    if (!ipi && sent != 0)
        test_fail("wakeup=tick sent %lu IPIs", (unsigned long)sent);
}

// ---- priority ---------------------------------------------------------------------------

static struct {
    handle_t notify;
    volatile bool ready, stop;
    volatile uint64_t signalled, ran;
} pr;

static long pr_spinner(void *arg)
{
    pin((int)(uintptr_t)arg);
    sys_thread_set_priority(H_SELF_THREAD, PRIO_LOW);
    uint64_t end = time_now() + time_from_ms(10000);
    while (!pr.stop && time_now() < end) {
    }
    return 0;
}

static long pr_woken(void *arg)
{
    pin((int)(uintptr_t)arg);
    sys_thread_set_priority(H_SELF_THREAD, PRIO_HIGH);
    for (int i = 0; i < PRIORITY_ROUNDS; i++) {
        pr.ready = true;
        if (sys_notify_wait(pr.notify, 0) < 0)
            return -1;
        pr.ran = time_now();
    }
    return 0;
}

// Another hart signals a thread pinned to a busy hart; the slowest wakeup, in ns.
static uint64_t woken_from_another_hart(void)
{
    uint64_t slowest = 0;
    struct uthread spinner, woken;
    pin(0);
    uthread_start(&spinner, pr_spinner, (void *)1, UTHREAD_STACK_DEFAULT);
    uthread_start(&woken, pr_woken, (void *)1, UTHREAD_STACK_DEFAULT);
    for (int i = 0; i < PRIORITY_ROUNDS && !test_failed(); i++) {
        uint64_t by = time_now() + time_from_ms(1000);
        while (!pr.ready && time_now() < by)
            sys_sleep(1000000);
        sys_sleep(3000000);  // it is in notify_wait now; hart 1 runs the spinner
        pr.ready = false;
        pr.ran = 0;
        pr.signalled = time_now();
        sys_notify_signal(pr.notify, 1);
        while (!pr.ran && time_now() < pr.signalled + time_from_ms(1000))
            sys_sleep(1000000);
        if (!pr.ran)
            test_fail("a woken high-priority thread did not run within a second");
        else if (time_ns(pr.ran - pr.signalled) > slowest)
            slowest = time_ns(pr.ran - pr.signalled);
    }
    uthread_join(&woken, NULL);
    pr.stop = true;
    uthread_join(&spinner, NULL);
    return slowest;
}

static long own_hart_sleeper(void *arg)
{
    pin(0);
    sys_thread_set_priority(H_SELF_THREAD, PRIO_HIGH);
    uint64_t slowest = 0;
    for (int i = 0; i < PRIORITY_ROUNDS; i++) {
        uint64_t due = time_now() + time_from_ms(3);
        sys_sleep(3000000);
        uint64_t late = time_ns(time_now() - due);
        if (late > slowest)
            slowest = late;
    }
    return (long)slowest;
}

// A timed sleeper on a busy hart, woken by its own timer: slowest lateness, in ns.
static uint64_t woken_by_own_timer(void)
{
    pr.stop = false;
    struct uthread spinner, sleeper;
    pin(0);
    uthread_start(&spinner, pr_spinner, (void *)0, UTHREAD_STACK_DEFAULT);
    uthread_start(&sleeper, own_hart_sleeper, NULL, UTHREAD_STACK_DEFAULT);
    long slowest = -1;
    uthread_join(&sleeper, &slowest);
    pr.stop = true;
    uthread_join(&spinner, NULL);
    return slowest < 0 ? 0 : (uint64_t)slowest;
}

static void check_latency(const char *what, uint64_t slowest)
{
    printf("wakeuptests: priority: %s: the slowest of %d ran after %lu ns\n", what, PRIORITY_ROUNDS,
           (unsigned long)slowest);
    if (ipi && slowest >= FAST_NS)
        test_fail("%s: a high-priority thread woken onto a busy hart waited %lu ns: not within "
                  "a hundredth of a tick",
                  what, (unsigned long)slowest);
    if (!ipi && slowest >= 2 * TICK_NS)
        test_fail("%s: a woken high-priority thread waited %lu ns: not even at the next tick", what,
                  (unsigned long)slowest);
}

static void test_priority(void)
{
    long n = sys_notify_create();
    if (n < 0) {
        test_fail("notify_create: %s", abi_strerror(n));
        return;
    }
    memset((void *)&pr, 0, sizeof pr);
    pr.notify = (handle_t)n;
    check_latency("woken by its own timer", woken_by_own_timer());
    if (test_nharts() >= 2) {
        pr.stop = false;
        check_latency("woken from another hart", woken_from_another_hart());
    }
    sys_handle_close(pr.notify);
}

// ---- stress -----------------------------------------------------------------------------

// n round trips between hart a (the caller) and hart b; returns how many were slow.
static int stress_pair(int a, int b, int n)
{
    struct pair p;
    if (!pair_start(&p, a, b))
        return 0;
    int slow = 0;
    round_trip(&p, 1);
    for (int i = 0; i < n && !test_failed(); i++) {
        uint64_t start = time_now();
        if (!round_trip(&p, (uint64_t)i + 2))
            break;
        uint64_t ns = time_ns(time_now() - start);

        if (ns >= LOST_NS && ++slow <= MAX_SHOWN)
            printf("wakeuptests: stress: round trip %d between harts %d and %d took %lu ns (the "
                   "call's leg %lu ns)\n",
                   i, a, b, (unsigned long)ns, (unsigned long)time_ns(p.echo.got - start));
        if (slow > MAX_SHOWN)
            break;  // no need to wait out the rest (with wakeup=tick every trip is a tick)
    }
    pair_stop(&p);
    return slow;
}

static void test_stress(void)
{
    if (!two_harts())
        return;
    int harts = test_nharts(), pairs = harts * (harts - 1) / 2;
    int per_pair = STRESS_TOTAL / pairs > STRESS_MIN ? STRESS_TOTAL / pairs : STRESS_MIN;
    int slow = 0;
    for (int a = 0; a < harts && slow <= MAX_SHOWN; a++)
        for (int b = a + 1; b < harts && slow <= MAX_SHOWN; b++)
            slow += stress_pair(a, b, per_pair);
    printf("wakeuptests: stress: %d round trips on each of %d pairs of harts; %d took a tenth of "
           "a tick or more\n",
           per_pair, pairs, slow);
    if (slow)
        test_fail("%s%d round trips across harts took a tenth of a tick or more: lost wakeups",
                  slow > MAX_SHOWN ? "more than " : "", slow > MAX_SHOWN ? MAX_SHOWN : slow);
}

static const struct test_case tests[] = {
    { "round_trip_ipis", test_round_trip_ipis, 0 },
    { "coalesce", test_coalesce, 0 },
    { "priority", test_priority, 0 },
    { "stress", test_stress, 0 },
};

static const struct test_suite suite = {
    .name = "wakeuptests",
    .tests = tests,
    .ntests = sizeof(tests) / sizeof(tests[0]),
};

int main(int argc, char *argv[])
{
    const char *wakeup = arg_value(argc, argv, "wakeup");
    ipi = wakeup && strcmp(wakeup, "ipi") == 0;
    return test_suite_main(&suite, argc, argv);
}
