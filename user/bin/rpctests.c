// rpctests: migrating-thread RPC (kern/ipc/rpc.h, user/lib/rpc.h) tested from user space.
// init runs it for `run=rpctests` (every test) or `rpctests=NAME,NAME` (those); the output
// contract is user/lib/testsuite.h's.
//
// Servers are copies of this program started with `rpctests --child server N` from the
// boot archive, given their endpoint as STARTUP_H_SPARE (and, for a middle link, the next
// server's as H_NEXT); each serves N activations with handler() below, whose operation
// is w[0]. A client that the tests kill is `rpctests --child client`.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootfs.h"
#include "rpc.h"
#include "spawn.h"
#include "testsuite.h"
#include "ulib.h"
#include "uthread.h"

#define MS     1000000ULL      // ns
#define H_NEXT STARTUP_H_UART  // a child's startup slot for the next server's endpoint

enum op {
    OP_ECHO = 1,  // -> w1 + 1, w2, w3, the badge
    OP_SLEEP,     // sleeps w1 ms, counts a completion -> completions
    OP_SPIN,      // runs for ever (until its server dies)
    OP_HANG,      // sleeps for ever (likewise)
    OP_FAULT,     // stores to address 0
    OP_INSIDE,    // counts callers inside at once, staying w1 ms -> the most seen
    OP_STATS,     // -> completions, the most inside at once
    OP_NEXT,      // calls the next server with op w1, argument w2 -> its status, w0, w1
    OP_RECURSE,   // calls its own endpoint again, w1 = depth -> deepest depth, the error
    OP_FP,        // -> ft0, fa0 and fs0 as it found them; leaves fs0-fs11 clobbered
    OP_EXIT,      // the server's entry ends its process
    OP_WINDOW,    // reverses the window's first w1 bytes -> the four rpc_copy results
};

// ---- the server -------------------------------------------------------------------------------

static handle_t my_ep, next_ep;
static uint64_t completions, inside, inside_max;  // atomics

static void note_inside_max(uint64_t now)
{
    uint64_t seen = __atomic_load_n(&inside_max, __ATOMIC_RELAXED);
    while (now > seen && !__atomic_compare_exchange_n(&inside_max, &seen, now, false,
                                                      __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static void fp_op(void)
{
    uint64_t ft0, fa0, fs0, junk = 0x4242424242424242ULL;
    asm volatile("fmv.x.d %0, ft0" : "=r"(ft0));
    asm volatile("fmv.x.d %0, fa0" : "=r"(fa0));
    asm volatile("fmv.x.d %0, fs0" : "=r"(fs0));
    asm volatile("fmv.d.x fs0, %0\n fmv.d.x fs1, %0\n fmv.d.x fs2, %0\n fmv.d.x fs3, %0\n"
                 "fmv.d.x fs4, %0\n fmv.d.x fs5, %0\n fmv.d.x fs6, %0\n fmv.d.x fs7, %0\n"
                 "fmv.d.x fs8, %0\n fmv.d.x fs9, %0\n fmv.d.x fs10, %0\n fmv.d.x fs11, %0"
                 :
                 : "r"(junk)
                 : "fs0", "fs1", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10",
                   "fs11");
    rpc_return(ft0, fa0, fs0, 0);
}

static void handler(uint64_t op, uint64_t a, uint64_t b, uint64_t c, uint64_t badge)
{
    uint64_t w[4] = { 0 };
    switch (op) {
    case OP_ECHO: rpc_return(a + 1, b, c, badge); break;
    case OP_SLEEP:
        sys_sleep(a * MS);
        rpc_return(__atomic_add_fetch(&completions, 1, __ATOMIC_SEQ_CST), 0, 0, 0);
        break;
    case OP_SPIN:
        for (;;)
            __atomic_add_fetch(&inside, 0, __ATOMIC_RELAXED);
        break;
    case OP_HANG:
        for (;;)
            sys_sleep(1000 * MS);
        break;
    case OP_FAULT: *(volatile uint64_t *)0 = op; break;
    case OP_INSIDE:
        note_inside_max(__atomic_add_fetch(&inside, 1, __ATOMIC_SEQ_CST));
        sys_sleep(a * MS);
        __atomic_sub_fetch(&inside, 1, __ATOMIC_SEQ_CST);
        rpc_return(__atomic_load_n(&inside_max, __ATOMIC_SEQ_CST), 0, 0, 0);
        break;
    case OP_STATS:
        rpc_return(__atomic_load_n(&completions, __ATOMIC_SEQ_CST),
                   __atomic_load_n(&inside_max, __ATOMIC_SEQ_CST), 0, 0);
        break;
    case OP_NEXT: {
        w[0] = a;
        w[1] = b;
        long err = rpc_call(next_ep, w);
        rpc_return((uint64_t)err, w[0], w[1], 0);
        break;
    }
    case OP_RECURSE: {
        w[0] = OP_RECURSE;
        w[1] = a + 1;
        long err = rpc_call(my_ep, w);
        if (err < 0)
            rpc_return(a, (uint64_t)err, 0, 0);  // as deep as it goes: this one's depth
        rpc_return(w[0], w[1], 0, 0);
        break;
    }
    case OP_FP: fp_op(); break;
    case OP_EXIT: sys_process_exit(0); break;
    case OP_WINDOW: {
        char buf[256];
        uint64_t n = a < sizeof buf ? a : sizeof buf;
        long in = sys_rpc_copy(0, buf, n, RPC_COPY_IN);
        for (uint64_t i = 0; i < n / 2; i++) {
            char t = buf[i];
            buf[i] = buf[n - 1 - i];
            buf[n - 1 - i] = t;
        }
        long out = in < 0 ? in : sys_rpc_copy(0, buf, n, RPC_COPY_OUT);
        long past = sys_rpc_copy(n, buf, 1, RPC_COPY_IN);              // one byte past its end
        long nowhere = sys_rpc_copy(0, (void *)0x10, n, RPC_COPY_IN);  // into no memory here
        rpc_return((uint64_t)in, (uint64_t)out, (uint64_t)past, (uint64_t)nowhere);
        break;
    }
    }
    rpc_return(~0ULL, 0, 0, 0);  // not reached but for an unknown op: all ones
}

static int child_main(int argc, char *argv[])
{
    my_ep = startup_handle(STARTUP_H_SPARE);
    next_ep = startup_handle(H_NEXT);
    if (strcmp(argv[2], "client") == 0) {
        uint64_t w[4] = { OP_SLEEP, 100 };
        for (;;)
            rpc_call(my_ep, w);  // until killed (the test counts completions)
    }
    unsigned n = argc > 3 ? (unsigned)atoi(argv[3]) : 2;
    long err = rpc_serve(my_ep, handler, n);
    if (err < 0) {
        printf("rpctests: server: rpc_serve: %s\n", abi_strerror(err));
        return 1;
    }
    long wait = sys_notify_create();  // never signalled: the server lives until killed
    for (;;)
        sys_notify_wait((handle_t)wait, 0);
}

// ---- helpers --------------------------------------------------------------------------------

static void expect(long got, long want, const char *what)
{
    if (got != want)
        test_fail("%s: %ld (%s), not %ld (%s)", what, got, got < 0 ? abi_strerror(got) : "", want,
                  want < 0 ? abi_strerror(want) : "");
}

static handle_t new_endpoint(void)
{
    long ep = sys_endpoint_create();
    if (ep < 0)
        test_fail("sys_endpoint_create: %s", abi_strerror(ep));
    return ep < 0 ? 0 : (handle_t)ep;
}

// Starts `rpctests --child mode n` on ep (and next), the process handle in *proc.
static long child_start(const char *mode, int n, handle_t ep, handle_t next, handle_t *proc)
{
    char count[12];
    snprintf(count, sizeof count, "%d", n);
    char *argv[] = { "rpctests", "--child", (char *)mode, count, NULL };
    handle_t give[STARTUP_MAX_HANDLES] = { 0 };
    give[STARTUP_H_STDOUT] = startup_handle(STARTUP_H_STDOUT);
    give[STARTUP_H_STDERR] = startup_handle(STARTUP_H_STDERR);
    give[STARTUP_H_SPARE] = ep;
    give[H_NEXT] = next;
    long err = spawn_from_bootfs("rpctests", argv, give, STARTUP_MAX_HANDLES, proc);
    if (err < 0)
        test_fail("cannot start an rpctests child (%s): %s", mode, abi_strerror(err));
    return err;
}

static void child_end(handle_t proc)
{
    int status;
    long err = sys_process_kill(proc);
    if (err == 0)
        err = sys_process_wait(proc, &status);
    if (err < 0)
        test_fail("killing a child: %s", abi_strerror(err));
    sys_handle_close(proc);
}

// One call; its status, the answer in w.
static long call(handle_t ep, uint64_t w[4], uint64_t op, uint64_t a, uint64_t b)
{
    w[0] = op;
    w[1] = a;
    w[2] = b;
    w[3] = 0;
    return rpc_call(ep, w);
}

// Waits until the server on ep has registered (calls fail with E_NOENT until then, or
// E_DEAD while the endpoint's last server is gone).
static bool server_ready(handle_t ep)
{
    uint64_t w[4];
    long err = E_NOENT;
    for (int i = 0; i < 2000; i++) {
        err = call(ep, w, OP_ECHO, 0, 0);
        if (err != E_NOENT && err != E_DEAD) {
            if (err < 0)
                test_fail("the server answers %s", abi_strerror(err));
            return err == 0;
        }
        sys_sleep(MS);
    }
    test_fail("no call reached the server in 2 s: the last one returned %s", abi_strerror(err));
    return false;
}

// A server of n activations on a new endpoint (next: its next link, or 0).
static handle_t server_start(int n, handle_t next, handle_t *proc)
{
    handle_t ep = new_endpoint();
    if (!ep || child_start("server", n, ep, next, proc) < 0)
        return 0;
    return server_ready(ep) ? ep : 0;
}

static struct hart_stats hart_now(int hart)
{
    struct hart_stats st;
    memset(&st, 0, sizeof st);
    if (sys_hart_stats(hart, &st) < 0)
        test_fail("sys_hart_stats failed");
    return st;
}

// ---- tests ----------------------------------------------------------------------------------

// Words go in and come back; the badge is the caller's handle's.
static void test_echo(void)
{
    struct sys_stats before = test_counts_settled();
    handle_t proc, ep = server_start(4, 0, &proc);
    if (!ep)
        return;
    long minted = sys_handle_mint(ep, 0xbadb, RIGHT_SEND, 0);
    expect(minted > 0, 1, "minting a badged handle");
    for (int i = 0; i < 1000 && !test_failed(); i++) {
        uint64_t w[4] = { OP_ECHO, (uint64_t)i, 0xb2, 0xc3 };
        long err = rpc_call((handle_t)minted, w);
        if (err < 0 || w[0] != (uint64_t)i + 1 || w[1] != 0xb2 || w[2] != 0xc3 || w[3] != 0xbadb)
            test_fail("call %d: %s, words %lx %lx %lx %lx", i, abi_strerror(err),
                      (unsigned long)w[0], (unsigned long)w[1], (unsigned long)w[2],
                      (unsigned long)w[3]);
    }
    sys_handle_close((handle_t)minted);
    child_end(proc);
    sys_handle_close(ep);
    test_expect_counts(&before, "after the echo server ended");
}

#define COUNTED_CALLS 1000

// A round trip on one hart is the thread's alone: no context switch, no IPI, anywhere.
static void test_counters(void)
{
    handle_t proc, ep = server_start(2, 0, &proc);
    if (!ep)
        return;
    int hart = test_pin_self((int)sys_hart_self()) == 0 ? (int)sys_hart_self() : -1;
    int nharts = test_nharts();
    uint64_t w[4];
    for (int i = 0; i < 10; i++)
        call(ep, w, OP_ECHO, 0, 0);  // warm: every page touched
    // The server's main thread parks in notify_wait only after rpc_serve has answered the
    // first call; on one hart a tick in between left it runnable, and it took the hart
    // (two switches) inside the counted loop. Counting starts once the system is quiet.
    test_counts_settled();
    struct hart_stats before[8], after[8];
    for (int i = 0; i < nharts && i < 8; i++)
        before[i] = hart_now(i);
    for (int i = 0; i < COUNTED_CALLS && !test_failed(); i++)
        if (call(ep, w, OP_ECHO, (uint64_t)i, 0) < 0 || w[0] != (uint64_t)i + 1)
            test_fail("call %d failed", i);
    for (int i = 0; i < nharts && i < 8; i++)
        after[i] = hart_now(i);
    uint64_t ipis = 0;
    for (int i = 0; i < nharts && i < 8; i++)
        ipis += after[i].ipis_sent - before[i].ipis_sent;
    if (hart >= 0) {
        uint64_t switches = after[hart].context_switches - before[hart].context_switches;
        uint64_t calls = after[hart].rpc_calls - before[hart].rpc_calls;
        uint64_t slow = after[hart].rpc_slow - before[hart].rpc_slow;
        printf("rpctests: %d round trips on hart %d: %lu RPC calls (%lu slow), %lu context "
               "switches, %lu IPIs\n",
               COUNTED_CALLS, hart, (unsigned long)calls, (unsigned long)slow,
               (unsigned long)switches, (unsigned long)ipis);
        expect((long)calls, COUNTED_CALLS, "RPC calls counted on the caller's hart");
        expect((long)slow, 0, "calls the slow path took");
        expect((long)switches, 0, "context switches on the caller's hart");
    } else {
        test_fail("cannot pin the caller");
    }
    expect((long)ipis, 0, "IPIs sent by any hart");
    child_end(proc);
    sys_handle_close(ep);
}

// A -> B -> C and back through all three.
static void test_nested(void)
{
    struct sys_stats before = test_counts_settled();
    handle_t pc, pb;
    handle_t c = server_start(2, 0, &pc);
    handle_t b = c ? server_start(2, c, &pb) : 0;
    if (!b)
        return;
    for (int i = 0; i < 100 && !test_failed(); i++) {
        uint64_t w[4];
        long err = call(b, w, OP_NEXT, OP_ECHO, (uint64_t)i);
        if (err < 0 || (long)w[0] != 0 || w[1] != (uint64_t)i + 1)
            test_fail("A->B->C call %d: %s, B saw %ld, C answered %lu", i, abi_strerror(err),
                      (long)w[0], (unsigned long)w[1]);
    }
    child_end(pb);
    child_end(pc);
    sys_handle_close(b);
    sys_handle_close(c);
    test_expect_counts(&before, "after the chain ended");
}

// Calls nest RPC_DEPTH_MAX deep; one more gets E_LIMIT (and the rest unwind normally).
static void test_depth_limit(void)
{
    handle_t proc, ep = server_start(RPC_DEPTH_MAX + 1, 0, &proc);
    if (!ep)
        return;
    uint64_t w[4];
    long err = call(ep, w, OP_RECURSE, 1, 0);
    expect(err, 0, "the outer call");
    expect((long)w[0], RPC_DEPTH_MAX, "the deepest call that entered");
    expect((long)w[1], E_LIMIT, "the one past it");
    expect(call(ep, w, OP_ECHO, 5, 0), 0, "a call after");
    child_end(proc);
    sys_handle_close(ep);
}

#define FEW_ACTIVATIONS 2
#define MANY_CALLERS    (FEW_ACTIVATIONS + 4)

static handle_t shared_ep;

static long inside_caller(void *arg)
{
    uint64_t w[4];
    for (int i = 0; i < 5; i++) {
        long err = call(shared_ep, w, OP_INSIDE, 5, 0);
        if (err < 0)
            return err;
    }
    return 0;
}

// n + 4 callers on n activations: never more than n inside at once, and all finish.
static void test_activations(void)
{
    handle_t proc;
    shared_ep = server_start(FEW_ACTIVATIONS, 0, &proc);
    if (!shared_ep)
        return;
    struct uthread t[MANY_CALLERS];
    long results[MANY_CALLERS];
    int started = test_start_threads(t, MANY_CALLERS, inside_caller, NULL);
    test_join_threads(t, MANY_CALLERS, results);
    expect(started, MANY_CALLERS, "callers started");
    for (int i = 0; i < MANY_CALLERS; i++)
        if (results[i] != 0)
            test_fail("caller %d: %s", i, abi_strerror(results[i]));
    uint64_t w[4];
    expect(call(shared_ep, w, OP_STATS, 0, 0), 0, "asking for the counts");
    if (w[1] > FEW_ACTIVATIONS || w[1] < 2)
        test_fail("%lu callers were inside at once, on %d activations", (unsigned long)w[1],
                  FEW_ACTIVATIONS);
    child_end(proc);
    sys_handle_close(shared_ep);
}

// Every one of the server's n activations is free: n callers get inside at once. (The
// most it saw inside so far must be below n.)
static long inside_once(void *ep)
{
    uint64_t w[4];
    return call((handle_t)(uintptr_t)ep, w, OP_INSIDE, 30, 0);
}

static void expect_activations_free(handle_t ep, int n, const char *after)
{
    struct uthread t[8];
    void *args[8];
    for (int i = 0; i < n; i++)
        args[i] = (void *)(uintptr_t)ep;
    test_start_threads(t, n, inside_once, args);
    test_join_threads(t, n, NULL);
    uint64_t w[4];
    expect(call(ep, w, OP_STATS, 0, 0), 0, "asking for the counts");
    if (w[1] != (uint64_t)n)
        test_fail("%s: %lu callers got inside at once, not all %d activations' worth", after,
                  (unsigned long)w[1], n);
}

// A fault in the entry fails that call only; its activation is free again.
static void test_fault(void)
{
    handle_t proc, ep = server_start(FEW_ACTIVATIONS, 0, &proc);
    if (!ep)
        return;
    uint64_t w[4];
    for (int i = 0; i < FEW_ACTIVATIONS + 3; i++)
        expect(call(ep, w, OP_FAULT, 0, 0), E_FAULT, "a call whose entry faults");
    expect(call(ep, w, OP_ECHO, 41, 0), 0, "the call after the faults");
    expect((long)w[0], 42, "its answer");
    expect_activations_free(ep, FEW_ACTIVATIONS, "after the faults");
    child_end(proc);
    sys_handle_close(ep);
}

static handle_t victim_ep;

static long victim_call(void *op)
{
    uint64_t w[4];
    return call(victim_ep, w, (uint64_t)(uintptr_t)op, 0, 0);
}

// A server killed with a thread inside (running on some hart, or asleep): the call
// returns E_DEAD, and nothing is left behind.
static void kill_server_with(enum op op)
{
    struct sys_stats before = test_counts_settled();
    handle_t proc;
    victim_ep = server_start(2, 0, &proc);
    if (!victim_ep)
        return;
    struct uthread t;
    if (uthread_start(&t, victim_call, (void *)(uintptr_t)op, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot start the caller");
        return;
    }
    sys_sleep(30 * MS);  // it is inside by now
    child_end(proc);
    long result = 0;
    uthread_join(&t, &result);
    expect(result, E_DEAD, "the call into the killed server");
    uint64_t w[4];
    expect(call(victim_ep, w, OP_ECHO, 0, 0), E_DEAD, "a call after");
    sys_handle_close(victim_ep);
    test_expect_counts(&before, "after the server was killed");
}

static void test_kill_server_running(void)
{
    kill_server_with(OP_SPIN);
}

static void test_kill_server_sleeping(void)
{
    kill_server_with(OP_HANG);
}

// A client killed while its thread is in the server: the server's work completes, then
// the client dies (it makes no call after).
static void test_kill_client(void)
{
    struct sys_stats before = test_counts_settled();
    handle_t sp, ep = server_start(2, 0, &sp);
    handle_t cp;
    if (!ep || child_start("client", 0, ep, 0, &cp) < 0)
        return;
    sys_sleep(50 * MS);  // inside its first call (100 ms)
    expect(sys_process_kill(cp), 0, "killing the client");
    int status;
    expect(sys_process_wait(cp, &status), 0, "waiting for it");
    sys_handle_close(cp);
    uint64_t w[4];
    expect(call(ep, w, OP_STATS, 0, 0), 0, "asking for the counts");
    expect((long)w[0], 1, "calls completed when the client died");
    sys_sleep(150 * MS);
    expect(call(ep, w, OP_STATS, 0, 0), 0, "asking again");
    expect((long)w[0], 1, "calls completed later");
    expect_activations_free(ep, 2, "after the client was killed");
    child_end(sp);
    sys_handle_close(ep);
    test_expect_counts(&before, "after the client was killed");
}

static long middle_call(void *ep)
{
    uint64_t w[4];
    return call((handle_t)(uintptr_t)ep, w, OP_NEXT, OP_SLEEP, 100);
}

// A -> B -> C, B killed while the thread is in C: C finishes, then A gets E_DEAD.
static void test_kill_middle(void)
{
    struct sys_stats before = test_counts_settled();
    handle_t pc, pb;
    handle_t c = server_start(2, 0, &pc);
    handle_t b = c ? server_start(2, c, &pb) : 0;
    if (!b)
        return;
    struct uthread t;
    if (uthread_start(&t, middle_call, (void *)(uintptr_t)b, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot start the caller");
        return;
    }
    sys_sleep(30 * MS);
    child_end(pb);
    long result = 0;
    uthread_join(&t, &result);
    expect(result, E_DEAD, "the call through the killed middle");
    uint64_t w[4];
    expect(call(c, w, OP_STATS, 0, 0), 0, "asking C for its counts");
    expect((long)w[0], 1, "C's completed calls");
    child_end(pc);
    sys_handle_close(b);
    sys_handle_close(c);
    test_expect_counts(&before, "after the chain ended");
}

// A server gone: E_DEAD; a new one on a new endpoint works (what init's restart gives).
static void test_restart(void)
{
    handle_t proc, ep = server_start(2, 0, &proc);
    if (!ep)
        return;
    uint64_t w[4];
    expect(call(ep, w, OP_EXIT, 0, 0), E_DEAD, "a call whose entry ends the server");
    int status;
    expect(sys_process_wait(proc, &status), 0, "waiting for the server");
    sys_handle_close(proc);
    expect(call(ep, w, OP_ECHO, 0, 0), E_DEAD, "a call to the ended server");
    sys_handle_close(ep);
    ep = server_start(2, 0, &proc);
    if (!ep)
        return;
    expect(call(ep, w, OP_ECHO, 9, 0), 0, "a call to the new one");
    expect((long)w[0], 10, "its answer");
    child_end(proc);
    sys_handle_close(ep);
}

// Callee-saved FP registers survive calls, back to back (the second with no FP
// instruction between: nothing loads them again); the server sees none of the caller's.
static __attribute__((noinline)) double fp_across(handle_t ep, double v, uint64_t w[2][4],
                                                  long err[2])
{
    double a = v * 3, b = v * 5, c = v * 7, d = v * 11, e = v * 13, f = v * 17;
    uint64_t bits = 0x3ff8000000000000ULL;  // 1.5
    asm volatile("fmv.d.x ft0, %0\n fmv.d.x fa0, %0" : : "r"(bits) : "ft0", "fa0");
    for (int i = 0; i < 2; i++) {
        w[i][0] = OP_FP;
        err[i] = rpc_call(ep, w[i]);
    }
    return a + b * 2 + c * 3 + d * 4 + e * 5 + f * 6;
}

static void test_fp(void)
{
    handle_t proc, ep = server_start(2, 0, &proc);
    if (!ep)
        return;
    uint64_t w[2][4] = { { 0 } };
    long err[2];
    double v = 1.25, got = fp_across(ep, v, w, err);
    double want = v * (3 + 5 * 2 + 7 * 3 + 11 * 4 + 13 * 5 + 17 * 6);
    if (got != want)
        test_fail("FP values kept across two calls: %d/1000, not %d/1000", (int)(got * 1000),
                  (int)(want * 1000));
    for (int i = 0; i < 2; i++) {
        expect(err[i], 0, "a call");
        if (w[i][0] | w[i][1] | w[i][2])
            test_fail("call %d: the server saw the caller's f registers: ft0 %#lx, fa0 %#lx, "
                      "fs0 %#lx",
                      i + 1, (unsigned long)w[i][0], (unsigned long)w[i][1],
                      (unsigned long)w[i][2]);
    }
    child_end(proc);
    sys_handle_close(ep);
}

// The window is the caller's memory the entry reaches: exactly it, both ways.
static void test_window(void)
{
    handle_t proc, ep = server_start(2, 0, &proc);
    if (!ep)
        return;
    char text[] = "migrating";
    uint64_t n = sizeof text - 1;
    uint64_t w[4] = { OP_WINDOW, n };
    expect(rpc_call_window(ep, w, text, n), 0, "a call with a window");
    expect((long)w[0], 0, "copying in");
    expect((long)w[1], 0, "copying out");
    expect((long)w[2], E_RANGE, "copying past the window");
    expect((long)w[3], E_FAULT, "copying into no memory of the server's");
    if (strcmp(text, "gnitargim") != 0)
        test_fail("the window holds \"%s\", not the reversed text", text);
    uint64_t v[4] = { OP_WINDOW, 16 };
    expect(rpc_call_window(ep, v, (void *)0x3000200000ULL, 16), 0,
           "a call with an unmapped window");
    expect((long)v[0], E_FAULT, "copying from an unmapped window");
    child_end(proc);
    sys_handle_close(ep);
}

// A server restarted on the same endpoint (as init restarts one): calls fail while it is
// gone and reach the new incarnation once it registered again.
static void test_restart_same_endpoint(void)
{
    struct sys_stats before = test_counts_settled();
    handle_t proc, ep = server_start(2, 0, &proc);
    if (!ep)
        return;
    child_end(proc);
    uint64_t w[4];
    long err = call(ep, w, OP_ECHO, 0, 0);
    if (err != E_NOENT && err != E_DEAD)
        test_fail("a call while the server is gone: %s, not E_NOENT or E_DEAD", abi_strerror(err));
    if (child_start("server", 2, ep, 0, &proc) < 0 || !server_ready(ep))
        return;
    expect(call(ep, w, OP_ECHO, 1, 0), 0, "a call to the new incarnation");
    expect((long)w[0], 2, "its answer");
    child_end(proc);
    sys_handle_close(ep);
    test_expect_counts(&before, "after both incarnations ended");
}

static void test_bad_args(void)
{
    handle_t ep = new_endpoint();
    long notify = sys_notify_create();
    long send_only = sys_handle_dup(ep, RIGHT_SEND);
    uint64_t entry = (uint64_t)(uintptr_t)rpc_entry;
    static uint8_t stacks_mem[3 * RPC_STACK_SIZE] __attribute__((aligned(4096)));
    uint64_t stacks = (uint64_t)(uintptr_t)stacks_mem;
    const uint64_t ro = 0x3000000000ULL, unmapped = 0x3000100000ULL;
    expect(sys_mem_alloc(H_SELF, ro, RPC_STACK_SIZE, PROT_READ), 0, "mapping a read-only stack");
    expect(sys_rpc_register(0x7777, entry, stacks, 1), E_BADHANDLE, "register: no such handle");
    expect(sys_rpc_register((handle_t)notify, entry, stacks, 1), E_BADHANDLE,
           "register: a notification");
    expect(sys_rpc_register((handle_t)send_only, entry, stacks, 1), E_RIGHTS,
           "register: no receive right");
    expect(sys_rpc_register(ep, entry, stacks, 0), E_INVAL, "register: no activations");
    expect(sys_rpc_register(ep, entry, stacks, RPC_ACTIVATIONS_MAX + 1), E_INVAL,
           "register: too many activations");
    expect(sys_rpc_register(ep, entry, stacks + 8, 1), E_RANGE, "register: unaligned stacks");
    expect(sys_rpc_register(ep, entry, 0xffffffc080200000ULL, 1), E_RANGE,
           "register: stacks in the kernel");
    expect(sys_rpc_register(ep, entry, unmapped, 1), E_FAULT, "register: unmapped stacks");
    expect(sys_rpc_register(ep, entry, ro, 1), E_FAULT, "register: read-only stacks");
    expect(sys_rpc_register(ep, entry, ro - RPC_STACK_SIZE, 2), E_FAULT,
           "register: stacks half unmapped");
    expect(sys_rpc_register(ep, unmapped, stacks, 1), E_FAULT, "register: unmapped entry");
    expect(sys_rpc_register(ep, stacks, stacks, 1), E_FAULT, "register: entry not executable");
    expect(sys_rpc_register(ep, entry + 1, stacks, 1), E_RANGE, "register: odd entry");
    uint64_t w[4] = { OP_ECHO };
    expect(rpc_call(ep, w), E_NOENT, "call: nothing registered");
    expect(rpc_call(0x7777, w), E_BADHANDLE, "call: no such handle");
    expect(rpc_call((handle_t)notify, w), E_BADHANDLE, "call: a notification");
    long recv_only = sys_handle_dup(ep, RIGHT_RECV);
    expect(rpc_call((handle_t)recv_only, w), E_RIGHTS, "call: no send right");
    expect(rpc_return(1, 2, 3, 4), E_PERM, "return: not in a call");
    char byte;
    expect(sys_rpc_copy(0, &byte, 1, RPC_COPY_IN), E_PERM, "copy: not in a call");
    expect(sys_rpc_copy(0, &byte, 1, 3), E_INVAL, "copy: no such direction");
    expect(sys_rpc_register(ep, entry, stacks, 2), 0, "register: good");
    expect(sys_rpc_register(ep, entry, stacks, 2), E_BUSY, "register: a second time");
    sys_mem_unmap(H_SELF, ro, RPC_STACK_SIZE);
    sys_handle_close((handle_t)recv_only);
    sys_handle_close((handle_t)send_only);
    sys_handle_close((handle_t)notify);
    sys_handle_close(ep);
}

static const struct test_case tests[] = {
    { "echo", test_echo, TEST_NEEDS_BOOTFS },
    { "counters", test_counters, TEST_NEEDS_BOOTFS },
    { "nested", test_nested, TEST_NEEDS_BOOTFS },
    { "depth_limit", test_depth_limit, TEST_NEEDS_BOOTFS },
    { "activations", test_activations, TEST_NEEDS_BOOTFS },
    { "fault", test_fault, TEST_NEEDS_BOOTFS },
    { "kill_server_running", test_kill_server_running, TEST_NEEDS_BOOTFS },
    { "kill_server_sleeping", test_kill_server_sleeping, TEST_NEEDS_BOOTFS },
    { "kill_client", test_kill_client, TEST_NEEDS_BOOTFS },
    { "kill_middle", test_kill_middle, TEST_NEEDS_BOOTFS },
    { "restart", test_restart, TEST_NEEDS_BOOTFS },
    { "restart_same_endpoint", test_restart_same_endpoint, TEST_NEEDS_BOOTFS },
    { "window", test_window, TEST_NEEDS_BOOTFS },
    { "fp", test_fp, TEST_NEEDS_BOOTFS },
    { "bad_args", test_bad_args, 0 },
};

static const char *precondition(const struct test_case *t)
{
    const void *elf;
    uint64_t size;
    if ((t->flags & TEST_NEEDS_BOOTFS) && bootfs_find("rpctests", &elf, &size) < 0)
        return "no boot archive to start servers from";
    return NULL;
}

static const struct test_suite suite = {
    .name = "rpctests",
    .tests = tests,
    .ntests = (int)(sizeof(tests) / sizeof(tests[0])),
    .precondition = precondition,
};

int main(int argc, char *argv[])
{
    if (argc >= 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argc, argv);
    return test_suite_main(&suite, argc, argv);
}
