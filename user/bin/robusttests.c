// Robustness regressions: each test replays what once crashed, hung or leaked the kernel
// from user space (issue 10's findings), the way an adversarial program would, and then
// checks that the kernel's counts came back. init runs it for `run=robusttests` (add
// `robusttests=NAME,NAME` for some tests only). The graders run it at 1, 2, 4 and 8 harts;
// the races need several harts to bite, so a test that passes at 1 hart proves less.
//
//   handle_chain     a chain of processes, each holding the only handle to the next,
//                    freed from its head (was: kernel stack overflow)
//   unmap_race       stores on other harts while the page is unmapped (was: a page
//                    written after it was freed, through a stale TLB entry)
//   recv_fault       a receive whose message block is read-only, while the endpoint's
//                    other receive handles close (was: an endpoint lock taken twice)
//   kill_blocked     a process killed in, or on its way into, each blocking call dies
//                    (was: a killed thread that slept on for good)
//   killed_sleeper   a sleeper killed from another hart, then its wake time passes (was:
//                    that hart's timer fired at that time again and again, and the hart
//                    ran nothing else; found by the fuzzer)
//   handle_cycles    processes holding handles to themselves or each other (was: a leak)
//   read_only        a region mapped read-only stays so (was: mem_write wrote through it)
//   huge_ranges      mem_unmap / mem_protect over all of user space is quick (was: a hart
//                    held with interrupts off for seconds)
//   full_receiver    a handle sent to a receiver with a full handle table fails the
//                    sender, and the receiver goes on (was: the receiver wedged)
//   irq_latency      unmapping and tearing down tens of MiB never holds interrupts off for
//                    long: the kernel's latest timer interrupt stays under a bound
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootfs.h"
#include "ipc.h"
#include "spawn.h"
#include "testsuite.h"
#include "ulib.h"
#include "uthread.h"
#include <abi/sysnum.h>

#define MS          1000000ULL  // ns
#define CHAIN_MIN   40          // processes in a chain: twice what overflowed
#define CHAIN_MAX   64
#define RACE_ROUNDS 30    // children per racing test
#define RECV_ROUNDS 1000  // enough to hit a window of a few instructions at 4 harts
#define DEATH_MS    2000  // how long a killed child may take to die
#define SCRATCH_VA  0x3000000000ULL
#define RO_VA       0x3000200000ULL

// ---- helpers --------------------------------------------------------------------------------

static void expect(long got, long want, const char *what)
{
    if (got != want)
        test_fail("%s: %ld (%s), not %ld (%s)", what, got, got < 0 ? abi_strerror(got) : "-", want,
                  want < 0 ? abi_strerror(want) : "-");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng_next(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int nharts(void)
{
    struct sys_stats s;
    return sys_stats(&s) == 0 && s.nharts > 0 ? (int)s.nharts : 1;
}

// Spins in user mode for about us microseconds (no system call: a kill must find the
// thread running).
static void spin_us(uint64_t us)
{
    uint64_t end = time_now() + us * (TIMEBASE_HZ / 1000000);
    while (time_now() < end)
        ;
}

// Starts `robusttests --child mode`; 0 or an error, with its process handle in *proc.
static long child_start(const char *mode, handle_t *proc)
{
    char *argv[] = { "robusttests", "--child", (char *)mode, NULL };
    handle_t give[STARTUP_MAX_HANDLES] = { 0 };
    give[STARTUP_H_BOOTFS] = bootfs_handle();
    give[STARTUP_H_STDOUT] = startup_handle(STARTUP_H_STDOUT);
    give[STARTUP_H_STDERR] = startup_handle(STARTUP_H_STDERR);
    long err = spawn_from_bootfs("robusttests", argv, give, STARTUP_MAX_HANDLES, proc);
    if (err < 0)
        test_fail("cannot start a child (%s): %s", mode, abi_strerror(err));
    return err;
}

struct waiter {
    handle_t proc;
    int status;
    long err;
    volatile int done;
};

static long waiter_main(void *arg)
{
    struct waiter *w = arg;
    w->err = sys_process_wait(w->proc, &w->status);
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return 0;
}

// Waits up to ms for proc to end; its status, or -1 (after failing the test) if it does
// not. The handle is closed either way.
static int child_wait(handle_t proc, uint64_t ms, const char *what)
{
    struct waiter w = { .proc = proc, .status = -1 };
    struct uthread t;
    if (uthread_start(&t, waiter_main, &w, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("%s: cannot start a waiter", what);
        sys_handle_close(proc);
        return -1;
    }
    uint64_t end = time_now() + time_from_ms(ms);
    while (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE) && time_now() < end)
        sys_sleep(MS);
    if (!__atomic_load_n(&w.done, __ATOMIC_ACQUIRE)) {
        // The waiter stays blocked, with its stack: the leak check will say so too.
        test_fail("%s: the child did not end within %lu ms", what, (unsigned long)ms);
        return -1;
    }
    uthread_join(&t, NULL);
    sys_handle_close(proc);
    if (w.err < 0)
        test_fail("%s: sys_process_wait: %s", what, abi_strerror(w.err));
    return w.status;
}

// ---- handle_chain ---------------------------------------------------------------------------

// Closing the head ends each process in turn, and each end closes the next one's last
// handle: a destructor that called the next one's would recurse once per link.
static void test_handle_chain(void)
{
    struct sys_stats before = test_counts_settled();
    handle_t p[CHAIN_MAX];
    int n = 0;
    while (n < CHAIN_MAX) {
        long h = sys_process_create("link", 4);
        if (h < 0)
            break;
        p[n++] = (handle_t)h;
    }
    if (n < CHAIN_MIN)
        test_fail("only %d processes could be created, want %d", n, CHAIN_MIN);
    for (int i = 0; i + 1 < n; i++) {
        long given = sys_handle_give(p[i], p[i + 1], RIGHT_ALL);
        if (given < 0)
            test_fail("handle_give(link %d, link %d): %s", i, i + 1, abi_strerror(given));
    }
    for (int i = n - 1; i >= 0; i--)  // the tail first: each then hangs by one handle
        sys_handle_close(p[i]);
    test_expect_counts(&before, "a chain of processes freed from its head");
}

// ---- unmap_race -----------------------------------------------------------------------------

static volatile uint64_t *race_page = (volatile uint64_t *)SCRATCH_VA;
static volatile int storers_running;

__attribute__((noreturn)) static long storer(void *arg)
{
    sys_thread_set_affinity(H_SELF_THREAD, 1ULL << (uintptr_t)arg);
    __atomic_fetch_add(&storers_running, 1, __ATOMIC_RELAXED);
    for (uint64_t i = 0;; i++)
        race_page[i % (PAGE_SIZE / 8)] = i;  // faults once the page is gone: we die
}

// The child: storers on every hart but this one, and the page unmapped under them.
static int unmap_race_child(void)
{
    if (sys_mem_alloc(H_SELF, SCRATCH_VA, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE) < 0)
        return 2;
    int n = nharts();
    int me = (int)sys_hart_self();
    struct uthread t[8];
    int started = 0;
    for (int h = 0; h < n && started < 8; h++)
        if (h != me || n == 1)
            started += uthread_start(&t[started], storer, (void *)(uintptr_t)h, 4096) == 0;
    while (storers_running < started)
        sys_yield();
    spin_us(rng_next() % 200);
    sys_mem_unmap(H_SELF, SCRATCH_VA, 4 * PAGE_SIZE);
    for (;;)
        sys_sleep(1000 * MS);  // until a storer's fault kills the process
}

static void test_unmap_race(void)
{
    struct sys_stats before = test_counts_settled();
    for (int i = 0; i < RACE_ROUNDS && !test_failed(); i++) {
        handle_t proc;
        if (child_start("unmap_race", &proc) < 0)
            return;
        int status = child_wait(proc, DEATH_MS, "unmap_race");
        if (status != EXIT_FAULT && status != -1)
            test_fail("round %d: the child ended with %#x, not EXIT_FAULT", i, status);
    }
    test_expect_counts(&before, "children killed mid-unmap");
}

// ---- recv_fault -----------------------------------------------------------------------------

// A receive whose message block is read-only (the kernel may read it, not write it)
// takes a message carrying a receive handle for the same endpoint, while the last other
// handles that can receive from it close. A kernel that wrote the lengths back into the
// block failed there, and took the endpoint's lock a second time removing the handle it
// had just installed. The raw system call, because the library's stub writes the block.
static const struct ipc_xfer read_only_xfer = { .recv_buf = 0, .recv_cap = 0 };
static handle_t fault_ep, fault_sent;
static volatile int fault_go;

static long raw_recv(handle_t ep, const struct ipc_xfer *x, handle_t *received)
{
    register long a0 asm("a0") = ep;
    register long a5 asm("a5") = (long)x;
    register long a6 asm("a6") = 0;
    register long a7 asm("a7") = SYS_ipc_recv;
    asm volatile("ecall"
                 : "+r"(a0), "+r"(a5), "+r"(a6), "+r"(a7)
                 :
                 : "a1", "a2", "a3", "a4", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "memory");
    *received = a0 == 0 ? (handle_t)a7 : 0;
    return a0;
}

static long fault_sender(void *arg)
{
    (void)arg;
    struct ipc_msg m = { .w = { 1 } };
    struct ipc_xfer x = { .send_handle = fault_sent, .send_rights = RIGHT_RECV | RIGHT_SEND };
    return ipc_send(fault_ep, &m, &x, 0);
}

static long fault_closer(void *arg)
{
    while (!__atomic_load_n(&fault_go, __ATOMIC_ACQUIRE))
        ;
    spin_us((uintptr_t)arg);
    return sys_handle_close(fault_ep);
}

static void recv_fault_round(void)
{
    long ep = sys_endpoint_create();
    long sent = ep < 0 ? ep : sys_handle_dup((handle_t)ep, RIGHT_ALL);
    if (sent < 0) {
        test_fail("an endpoint and a copy: %s", abi_strerror(sent));
        return;
    }
    fault_ep = (handle_t)ep;
    fault_sent = (handle_t)sent;
    fault_go = 0;
    struct uthread sender, closer;
    if (uthread_start(&sender, fault_sender, NULL, 4096) < 0)
        return;
    sys_sleep(MS);                 // the sender waits in the queue, holding its handle
    sys_handle_close(fault_sent);  // now only fault_ep and what travels can receive
    if (uthread_start(&closer, fault_closer, (void *)(uintptr_t)(rng_next() % 40), 4096) < 0)
        return;
    __atomic_store_n(&fault_go, 1, __ATOMIC_RELEASE);
    spin_us(rng_next() % 10);
    handle_t got = 0;
    long err = raw_recv(fault_ep, &read_only_xfer, &got);
    if (got)
        sys_handle_close(got);
    if (err != 0 && err != E_BADHANDLE && err != E_CLOSED && err != E_DEAD)
        test_fail("the receive returned %s", abi_strerror(err));
    uthread_join(&closer, NULL);
    uthread_join(&sender, NULL);
}

static void test_recv_fault(void)
{
    struct sys_stats before = test_counts_settled();
    for (int i = 0; i < RECV_ROUNDS && !test_failed(); i++)
        recv_fault_round();
    test_expect_counts(&before, "receives racing closes");
}

// ---- kill_blocked ---------------------------------------------------------------------------

__attribute__((noreturn)) static long sleep_forever(void *arg)
{
    (void)arg;
    for (;;)
        sys_sleep(1000 * 1000 * MS);
}

// The child spins in user mode for a moment (so the kill may come before the call, the
// window that lost kills) and then blocks for good in the call mode names.
static int blocked_child(const char *mode)
{
    spin_us(rng_next() % 3000);
    struct ipc_msg m = { 0 };
    if (strcmp(mode, "sleep") == 0) {
        sys_sleep(3600 * 1000 * MS);
    } else if (strcmp(mode, "wait") == 0) {
        long p = sys_process_create("unstarted", 9);
        sys_process_wait((handle_t)p, NULL);
    } else if (strcmp(mode, "join") == 0) {
        struct uthread t;
        if (uthread_start(&t, sleep_forever, NULL, 4096) == 0)
            uthread_join(&t, NULL);
    } else if (strcmp(mode, "notify") == 0) {
        long n = sys_notify_create();
        sys_notify_wait((handle_t)n, 0);
    } else if (strcmp(mode, "recv") == 0) {
        long ep = sys_endpoint_create();
        ipc_recv((handle_t)ep, &m, NULL, 0);
    } else if (strcmp(mode, "call") == 0) {
        long ep = sys_endpoint_create();
        ipc_call((handle_t)ep, &m, NULL);  // nobody receives
    }
    return 4;  // the call returned: the kill was lost
}

static const char *const blocking_calls[] = { "sleep", "wait", "join", "notify", "recv", "call" };
#define NBLOCKING (int)(sizeof(blocking_calls) / sizeof(blocking_calls[0]))

static void test_kill_blocked(void)
{
    struct sys_stats before = test_counts_settled();
    for (int i = 0; i < 4 * NBLOCKING && !test_failed(); i++) {
        const char *mode = blocking_calls[i % NBLOCKING];
        handle_t proc;
        if (child_start(mode, &proc) < 0)
            return;
        spin_us(rng_next() % 4000);  // before, during or after its spin
        expect(sys_process_kill(proc), 0, "process_kill");
        int status = child_wait(proc, DEATH_MS, mode);
        if (status != EXIT_KILLED && status != -1)
            test_fail("a child killed in %s ended with %#x", mode, status);
    }
    test_expect_counts(&before, "children killed while blocked");
}

// ---- killed_sleeper -------------------------------------------------------------------------

static volatile int ran_there;

static long run_there(void *arg)
{
    sys_thread_set_affinity(H_SELF_THREAD, 1ULL << (uintptr_t)arg);
    __atomic_store_n(&ran_there, 1, __ATOMIC_RELEASE);
    return 0;
}

// The child naps NAP_MS at a time on one hart and is killed from here long before the
// nap ends; after it would have ended, a thread pinned to that hart must still run.
#define NAP_MS 60

__attribute__((noreturn)) static void nap_child(int hart)
{
    sys_thread_set_affinity(H_SELF_THREAD, 1ULL << hart);
    for (;;)
        sys_sleep(NAP_MS * MS);
}

static void test_killed_sleeper(void)
{
    int hart = (int)((sys_hart_self() + 1) % nharts());
    char arg[12];
    snprintf(arg, sizeof(arg), "%d", hart);
    char *argv[] = { "robusttests", "--child", "nap", arg, NULL };
    handle_t proc;
    long err = spawn_from_bootfs("robusttests", argv, NULL, 0, &proc);
    if (err < 0) {
        test_fail("cannot start the sleeper: %s", abi_strerror(err));
        return;
    }
    sys_sleep(10 * MS);  // it naps on its hart now
    sys_process_kill(proc);
    child_wait(proc, DEATH_MS, "the sleeper");
    sys_sleep(2 * NAP_MS * MS);  // past the wake time it had
    struct uthread t;
    ran_there = 0;
    if (uthread_start(&t, run_there, (void *)(uintptr_t)hart, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot start a thread");
        return;
    }
    uint64_t end = time_now() + time_from_ms(DEATH_MS);
    while (!__atomic_load_n(&ran_there, __ATOMIC_ACQUIRE) && time_now() < end)
        sys_sleep(MS);
    if (!ran_there) {
        test_fail("hart %d ran nothing for %d ms once a sleeper killed there was due", hart,
                  DEATH_MS);
        return;  // the thread stays: the hart may yet come back
    }
    uthread_join(&t, NULL);
}

// ---- handle_cycles --------------------------------------------------------------------------

// Unstarted processes end when their creator's handle closes, whatever else holds them;
// started ones when their last thread does. Either way their handles close, which ends
// any cycle.
static void unstarted_cycles(void)
{
    long self = sys_process_create("self", 4);
    long a = sys_process_create("a", 1), b = sys_process_create("b", 1);
    if (self < 0 || a < 0 || b < 0) {
        test_fail("process_create: %s", abi_strerror(self < 0 ? self : a < 0 ? a : b));
        return;
    }
    expect(sys_handle_give((handle_t)self, (handle_t)self, RIGHT_ALL) > 0, 1,
           "giving a process itself");
    expect(sys_handle_give((handle_t)a, (handle_t)b, RIGHT_ALL) > 0, 1, "giving a b");
    expect(sys_handle_give((handle_t)b, (handle_t)a, RIGHT_ALL) > 0, 1, "giving b a");
    sys_handle_close((handle_t)self);
    sys_handle_close((handle_t)a);
    sys_handle_close((handle_t)b);
}

static void started_cycles(void)
{
    handle_t a, b;
    if (child_start("sleep", &a) < 0)
        return;
    if (child_start("sleep", &b) < 0) {
        sys_process_kill(a);
        child_wait(a, DEATH_MS, "a");
        return;
    }
    expect(sys_handle_give(a, a, RIGHT_ALL) > 0, 1, "giving a started process itself");
    expect(sys_handle_give(a, b, RIGHT_ALL) > 0, 1, "giving a b");
    expect(sys_handle_give(b, a, RIGHT_ALL) > 0, 1, "giving b a");
    sys_process_kill(a);
    sys_process_kill(b);
    child_wait(a, DEATH_MS, "a");
    child_wait(b, DEATH_MS, "b");
}

static void test_handle_cycles(void)
{
    struct sys_stats before = test_counts_settled();
    unstarted_cycles();
    test_expect_counts(&before, "unstarted processes in cycles");
    started_cycles();
    test_expect_counts(&before, "started processes in cycles");
}

// ---- read_only ------------------------------------------------------------------------------

static void test_read_only(void)
{
    // The boot archive, which every process shares: we hold it with RIGHT_READ only.
    handle_t bootfs = bootfs_handle();
    long size = sys_region_size(bootfs);
    if (size <= 0) {
        test_fail("region_size(bootfs): %s", abi_strerror(size));
        return;
    }
    expect(sys_region_map(bootfs, H_SELF, RO_VA, 0, PAGE_SIZE, PROT_READ), 0,
           "mapping the boot archive read-only");
    uint64_t word = 0x5afe;
    expect(sys_mem_write(H_SELF, RO_VA, &word, sizeof(word)), E_FAULT,
           "mem_write into the boot archive");
    expect(sys_mem_protect(H_SELF, RO_VA, PAGE_SIZE, PROT_READ | PROT_WRITE), E_RIGHTS,
           "mem_protect making it writable");
    expect(sys_region_map(bootfs, H_SELF, RO_VA + PAGE_SIZE, 0, PAGE_SIZE, PROT_READ | PROT_WRITE),
           E_RIGHTS, "mapping it writable");
    sys_mem_unmap(H_SELF, RO_VA, 2 * PAGE_SIZE);

    // A region of our own, but through a handle with read rights only.
    long region = sys_region_create(PAGE_SIZE);
    long ro = region < 0 ? region : sys_handle_dup((handle_t)region, RIGHT_READ);
    if (ro < 0) {
        test_fail("a read-only region handle: %s", abi_strerror(ro));
        return;
    }
    expect(sys_region_map((handle_t)ro, H_SELF, RO_VA, 0, PAGE_SIZE, PROT_READ), 0,
           "mapping through a read-only handle");
    expect(sys_mem_write(H_SELF, RO_VA, &word, sizeof(word)), E_FAULT,
           "mem_write through a read-only handle's mapping");
    expect(sys_mem_protect(H_SELF, RO_VA, PAGE_SIZE, PROT_READ | PROT_WRITE), E_RIGHTS,
           "mem_protect of it");
    sys_mem_unmap(H_SELF, RO_VA, PAGE_SIZE);
    sys_handle_close((handle_t)ro);
    sys_handle_close((handle_t)region);
}

// ---- huge_ranges ----------------------------------------------------------------------------

#define HUGE_MS   500  // a bound far above what a few mapped pages need, far below seconds
#define BIG_RANGE (8ULL << 20)

static void expect_quick(uint64_t start, const char *what)
{
    uint64_t ms = time_ns(time_now() - start) / MS;
    if (ms > HUGE_MS)
        test_fail("%s took %lu ms", what, (unsigned long)ms);
}

static void test_huge_ranges(void)
{
    struct sys_stats before = test_counts_settled();
    long p = sys_process_create("huge", 4);
    if (p < 0) {
        test_fail("process_create: %s", abi_strerror(p));
        return;
    }
    handle_t h = (handle_t)p;
    for (uint64_t k = 0; k < 7; k++) {  // pages scattered over the whole space
        uint64_t va = page_round_down(USER_MIN + k * ((USER_MAX - USER_MIN) / 7));
        expect(sys_mem_alloc(h, va, 3 * PAGE_SIZE, PROT_READ), 0, "mem_alloc");
    }
    expect(sys_mem_alloc(h, SCRATCH_VA, BIG_RANGE, PROT_READ), 0, "mem_alloc of 8 MiB");
    uint64_t all = USER_MAX - USER_MIN;
    uint64_t start = time_now();
    expect(sys_mem_protect(h, USER_MIN, all, PROT_READ | PROT_WRITE), E_NOENT,
           "mem_protect of all user space, mostly holes");
    expect_quick(start, "mem_protect of all user space");
    start = time_now();
    expect(sys_mem_protect(h, SCRATCH_VA, BIG_RANGE, PROT_READ | PROT_WRITE), 0,
           "mem_protect of 8 MiB");
    expect_quick(start, "mem_protect of 8 MiB");
    start = time_now();
    expect(sys_mem_unmap(h, USER_MIN, all), 0, "mem_unmap of all user space");
    expect_quick(start, "mem_unmap of all user space");
    start = time_now();
    long err = sys_mem_alloc(h, USER_MIN, all, PROT_READ);
    expect_quick(start, "mem_alloc of all user space");
    if (err != E_NOMEM)
        test_fail("mem_alloc of all user space: %ld, not E_NOMEM", err);
    sys_handle_close(h);
    test_expect_counts(&before, "huge ranges");
}

// ---- irq_latency ----------------------------------------------------------------------------

// The kernel notes how late each timer interrupt comes (sys_stats.irq_latency_max_ns): a
// path that holds interrupts off shows as an interrupt that comes that much late. Under
// icount (the grader boots with it and irqbound=) time is instructions, so the bound is
// exact: 1,000 us is a million instructions with interrupts off (the old map_range, which
// zeroed 256 fresh pages under p->vm_lock, measured 810 us; now under 1 us). Ticks sample
// it: a window longer than a tick is always seen, a shorter one by chance. Without icount
// the host not running a hart for a while counts too; the default bound leaves room for
// that and still catches what the issue found (seconds).
#define LATENCY_BOUND_US 100000

static uint64_t latency_bound = LATENCY_BOUND_US;  // irqbound=N (us) changes it

static uint64_t latency_bound_us(void)
{
    return latency_bound;
}

#define BIG_MAPPING  (64ULL << 20)
#define FAT_CHILDREN 8

static handle_t fat_process(uint64_t bytes)
{
    long p = sys_process_create("fat", 3);
    if (p < 0) {
        test_fail("process_create: %s", abi_strerror(p));
        return 0;
    }
    expect(sys_mem_alloc((handle_t)p, SCRATCH_VA, bytes, PROT_READ | PROT_WRITE), 0, "mem_alloc");
    return (handle_t)p;
}

static void test_irq_latency(void)
{
    struct sys_stats before = test_counts_settled();
    handle_t h = fat_process(BIG_MAPPING);
    expect(sys_mem_unmap(h, USER_MIN, USER_MAX - USER_MIN), 0, "mem_unmap of 64 MiB at once");
    expect(sys_mem_alloc(h, SCRATCH_VA, BIG_MAPPING, PROT_READ), 0, "mem_alloc again");
    sys_handle_close(h);  // a teardown of 64 MiB
    handle_t fat[FAT_CHILDREN];
    for (int i = 0; i < FAT_CHILDREN; i++)
        fat[i] = fat_process(BIG_MAPPING / FAT_CHILDREN);
    for (int i = 0; i < FAT_CHILDREN; i++)
        sys_handle_close(fat[i]);  // teardowns queued one after the other
    test_expect_counts(&before, "after the teardowns");
    struct sys_stats s;
    expect(sys_stats(&s), 0, "sys_stats");
    uint64_t us = s.irq_latency_max_ns / 1000;
    printf("robusttests: irq_latency: the latest timer interrupt since boot came %lu us late\n",
           (unsigned long)us);
    if (us >= latency_bound_us())
        test_fail("a timer interrupt came %lu us late: a kernel path held interrupts off "
                  "(bound %lu us)",
                  (unsigned long)us, (unsigned long)latency_bound_us());
}

// ---- full_receiver --------------------------------------------------------------------------

static long full_receiver(void *arg)
{
    handle_t ep = (handle_t)(uintptr_t)arg;
    struct ipc_msg m;
    struct ipc_xfer x = { 0 };
    long served = 0;
    for (;;) {
        long err = ipc_recv(ep, &m, &x, 0);
        if (err < 0 && err != E_LIMIT)
            return err;
        if (err == 0) {
            if (x.recv_handle)
                sys_handle_close(x.recv_handle);
            served++;
            uint64_t stop = m.w[0];
            ipc_reply(&m, NULL);
            if (stop)
                return served;
        }
        x = (struct ipc_xfer){ 0 };
    }
}

static void test_full_receiver(void)
{
    struct sys_stats before = test_counts_settled();
    long ep = sys_endpoint_create();
    struct uthread t;
    if (ep < 0 || uthread_start(&t, full_receiver, (void *)(uintptr_t)ep, 16 * 1024) < 0) {
        test_fail("cannot start the receiver");
        return;
    }
    // The receiver is a thread of ours, so its table is ours: fill it.
    handle_t fill[STARTUP_MAX_HANDLES * 16];
    int nfill = 0;
    long d;
    while (nfill < (int)(sizeof(fill) / sizeof(fill[0])) &&
           (d = sys_handle_dup((handle_t)ep, RIGHT_SEND | RIGHT_TRANSFER)) > 0)
        fill[nfill++] = (handle_t)d;
    expect(d, E_LIMIT, "the table filled");
    struct ipc_msg m = { .w = { 0 } };
    struct ipc_xfer x = { .send_handle = fill[0], .send_rights = RIGHT_SEND };
    expect(ipc_call((handle_t)ep, &m, &x), E_LIMIT, "a call passing a handle to a full table");
    for (int i = 0; i < nfill; i++)
        sys_handle_close(fill[i]);
    m = (struct ipc_msg){ .w = { 0 } };
    expect(ipc_call((handle_t)ep, &m, &x), E_BADHANDLE, "passing a closed handle");
    m = (struct ipc_msg){ .w = { 1 } };
    expect(ipc_call((handle_t)ep, &m, NULL), 0, "the next call, with room again");
    long served = 0;
    uthread_join(&t, &served);
    expect(served, 1, "calls the receiver served");
    sys_handle_close((handle_t)ep);
    test_expect_counts(&before, "a full receiver");
}

// ---- the list and main ----------------------------------------------------------------------

static const struct test_case tests[] = {
    { "handle_chain", test_handle_chain, 0 },
    { "unmap_race", test_unmap_race, TEST_NEEDS_BOOTFS },
    { "recv_fault", test_recv_fault, 0 },
    { "kill_blocked", test_kill_blocked, TEST_NEEDS_BOOTFS },
    { "killed_sleeper", test_killed_sleeper, TEST_NEEDS_BOOTFS },
    { "handle_cycles", test_handle_cycles, TEST_NEEDS_BOOTFS },
    { "read_only", test_read_only, TEST_NEEDS_BOOTFS },
    { "huge_ranges", test_huge_ranges, 0 },
    { "full_receiver", test_full_receiver, 0 },
    { "irq_latency", test_irq_latency, 0 },
};

static const char *precondition(const struct test_case *t)
{
    const void *elf;
    uint64_t size;
    if ((t->flags & TEST_NEEDS_BOOTFS) && bootfs_find("robusttests", &elf, &size) < 0)
        return "no boot archive to start children from";
    return NULL;
}

static const struct test_suite suite = {
    .name = "robusttests",
    .tests = tests,
    .ntests = (int)(sizeof(tests) / sizeof(tests[0])),
    .precondition = precondition,
};

static int child_main(const char *mode, int argc, char *argv[])
{
    rng_state ^= time_now();
    if (strcmp(mode, "nap") == 0 && argc >= 4)
        nap_child((int)strtol(argv[3], NULL, 10));
    if (strcmp(mode, "unmap_race") == 0)
        return unmap_race_child();
    return blocked_child(mode);
}

int main(int argc, char *argv[])
{
    rng_state ^= time_now();
    if (argc >= 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2], argc, argv);
    const char *bound = arg_value(argc, argv, "irqbound");
    if (bound)
        latency_bound = strtoull(bound, NULL, 10);
    return test_suite_main(&suite, argc, argv);
}
