// schedbench: what a scheduling policy costs and does, in two workloads (Lab 3), for
// `scons bench` (tools/bench.py), which boots it under icount with sched=global and
// sched=perhart at 1, 2, 4 and 8 harts:
//
//   pairs   one client-server pair per hart, none pinned, all made on one hart: each
//           client does a little work, then a null call to its own server, which does a
//           little work and replies; PAIR_CALLS calls per client
//   storm   two threads per hart, none pinned, all made on one hart, each yielding
//           STORM_YIELDS times
//
// Both let the threads settle for five ticks before they start (idle harts take work at
// their ticks), so what is measured is where the policy keeps threads, not how fast it
// spreads them. The threads wait for the start yielding, so that they are runnable and
// can be taken, and they leave at a time on the clock, not when the main thread says so:
// under icount QEMU may give one hart far fewer instructions than another, and a hart
// spinning on a flag that a starved hart must set spun for hundreds of ticks.
//
// For each it prints the instructions per operation (under icount rdinstret reads the one
// virtual clock every hart advances, so this is the work of all harts, plus any time they
// all waited for a tick) and the kernel's counters over the run, summed over the harts:
//
//   schedbench: pairs: N instructions per round trip
//   schedbench: pairs counts: ops N switches N steals N migrations N spins N
//   schedbench: done (status 0)
//
// `bench=pairs` or `bench=storm` runs one of them. Without icount the instruction counts
// mean nothing; the counters still do.
#include <stdio.h>
#include <string.h>

#include "ipc.h"
#include "ulib.h"
#include "uthread.h"

#define MAX_HARTS    8
#define PAIR_CALLS   4000
#define STORM_YIELDS 4000
#define SETTLE_MS    50   // five ticks: idle harts take work first
#define WORK         400  // loop turns of work around each call
#define BENCH_EXIT   1

static void work(int turns)
{
    for (volatile int i = 0; i < turns; i++)
        ;
}

static int nharts(void)
{
    struct sys_stats s;
    if (sys_stats(&s) < 0 || s.nharts < 1)
        return 1;
    return s.nharts > MAX_HARTS ? MAX_HARTS : (int)s.nharts;
}

struct counts {
    uint64_t switches, steals, migrations, spins;
};

static struct counts counts_now(int harts)
{
    struct counts c = { 0 };
    for (int i = 0; i < harts; i++) {
        struct hart_stats h;
        if (sys_hart_stats(i, &h) < 0)
            continue;
        c.switches += h.context_switches;
        c.steals += h.steals;
        c.migrations += h.migrations;
        c.spins += h.rq_spins;
    }
    return c;
}

static int bench_harts;  // harts whose counters the run sums

// The start, and what the threads saw around their part of the run. The threads, not
// the main thread, take the clock and the counts at the start: a main thread on a hart
// QEMU starves would take them after the others had done their part.
static volatile uint64_t start_at;  // the time CSR's value at which the threads start
static int counts_taken;            // set by the first thread out, which takes at_start
static struct counts at_start;
static uint64_t began[2 * MAX_HARTS];  // rdinstret as each thread started

// Sets the start SETTLE_MS from now, before the threads are made.
static void set_start(void)
{
    memset(began, 0, sizeof began);
    counts_taken = 0;
    start_at = time_now() + time_from_ms(SETTLE_MS);
}

// Yields until the start, runnable all the while so that the policy can place the
// thread: the run then measures the steady state, not the start.
static void wait_start(int slot)
{
    while (time_now() < start_at)
        sys_yield();
    if (!__atomic_exchange_n(&counts_taken, 1, __ATOMIC_RELAXED))
        at_start = counts_now(bench_harts);
    began[slot] = instret();
}

// From the first thread's start until now, in rdinstret's instructions; the main thread
// calls it once it has joined them all. The time a hart took to notice that the last
// exit woke the main thread is part of what a policy costs (Lab 3's question 4).
static uint64_t run_span(int threads)
{
    uint64_t now = instret(), first = now;
    for (int i = 0; i < threads; i++)
        first = began[i] && began[i] < first ? began[i] : first;
    return now - first;
}

static void report(const char *name, const char *op, uint64_t ops, uint64_t span, struct counts a,
                   struct counts b)
{
    printf("schedbench: %s: %lu instructions per %s\n", name, (unsigned long)(span / ops), op);
    printf("schedbench: %s counts: ops %lu switches %lu steals %lu migrations %lu spins %lu\n",
           name, (unsigned long)ops, (unsigned long)(b.switches - a.switches),
           (unsigned long)(b.steals - a.steals), (unsigned long)(b.migrations - a.migrations),
           (unsigned long)(b.spins - a.spins));
}

// ---- pairs ------------------------------------------------------------------------------

static handle_t pair_ep[MAX_HARTS];

static long pair_server(void *arg)
{
    handle_t ep = pair_ep[(uintptr_t)arg];
    struct ipc_msg m;
    long err = ipc_recv(ep, &m, NULL, 0);
    while (err == 0 && m.w[0] != BENCH_EXIT) {
        work(WORK / 2);
        m.w[0] = 0;
        err = ipc_reply_recv(ep, &m, NULL);
    }
    if (err == 0)
        ipc_reply(&m, NULL);
    return err;
}

static long pair_client(void *arg)
{
    int slot = (int)(uintptr_t)arg;
    handle_t ep = pair_ep[slot];
    wait_start(slot);
    for (int i = 0; i < PAIR_CALLS; i++) {
        work(WORK);
        struct ipc_msg m = { .w = { 2 } };
        long err = ipc_call(ep, &m, NULL);
        if (err < 0)
            return err;
    }
    return 0;
}

static int bench_pairs(int harts)
{
    struct uthread servers[MAX_HARTS], clients[MAX_HARTS];
    set_start();
    for (int i = 0; i < harts; i++) {
        long ep = sys_endpoint_create();
        if (ep < 0) {
            printf("schedbench: endpoint_create: %s\n", abi_strerror(ep));
            return 1;
        }
        pair_ep[i] = (handle_t)ep;
        if (uthread_start(&servers[i], pair_server, (void *)(uintptr_t)i, 8192) < 0 ||
            uthread_start(&clients[i], pair_client, (void *)(uintptr_t)i, 8192) < 0) {
            printf("schedbench: cannot start a pair\n");
            return 1;
        }
    }
    int failed = 0;
    for (int i = 0; i < harts; i++) {
        long v = -1;
        uthread_join(&clients[i], &v);
        failed |= v != 0;
    }
    uint64_t span = run_span(harts);
    struct counts b = counts_now(harts);
    for (int i = 0; i < harts; i++) {
        struct ipc_msg m = { .w = { BENCH_EXIT } };
        ipc_call(pair_ep[i], &m, NULL);
        uthread_join(&servers[i], NULL);
        sys_handle_close(pair_ep[i]);
    }
    if (failed) {
        printf("schedbench: a client's call failed\n");
        return 1;
    }
    report("pairs", "round trip", (uint64_t)harts * PAIR_CALLS, span, at_start, b);
    return 0;
}

// ---- storm ------------------------------------------------------------------------------

static long storm_thread(void *arg)
{
    int slot = (int)(uintptr_t)arg;
    wait_start(slot);
    for (int i = 0; i < STORM_YIELDS; i++)
        sys_yield();
    return 0;
}

static int bench_storm(int harts)
{
    struct uthread t[2 * MAX_HARTS];
    int n = 2 * harts;
    set_start();
    for (int i = 0; i < n; i++)
        if (uthread_start(&t[i], storm_thread, (void *)(uintptr_t)i, 8192) < 0) {
            printf("schedbench: cannot start a thread\n");
            return 1;
        }
    for (int i = 0; i < n; i++)
        uthread_join(&t[i], NULL);
    uint64_t span = run_span(n);
    struct counts b = counts_now(harts);
    report("storm", "yield", (uint64_t)n * STORM_YIELDS, span, at_start, b);
    return 0;
}

int main(int argc, char *argv[])
{
    const char *which = arg_value(argc, argv, "bench");
    int harts = nharts();
    bench_harts = harts;
    int status = 0;
    if (!which || strstr(which, "pairs"))
        status |= bench_pairs(harts);
    if (!which || strstr(which, "storm"))
        status |= bench_storm(harts);
    // tools/bench.py stops the machine here: under icount, the exit that follows can
    // stall the machine (a hart waiting in OpenSBI for a remote fence, see the README).
    printf("schedbench: done (status %d)\n", status);
    return status;
}
