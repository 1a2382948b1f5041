// The user-level test suite: system calls seen from user mode. init runs it for the
// boot argument `usertests` (all tests) or `usertests=NAME,NAME` (those only). Each test
// prints `TEST <name>: ok <nonce>` or `TEST <name>: FAIL <why> <nonce>`, the nonce being
// the boot argument nonce=... (left out when absent); failures beyond the first are
// printed on `usertests:` lines of their own. The exit status is 0 when all passed. The
// runner is user/lib/testsuite.c's.
//
// Every verdict is computed from what the kernel did: a test can fail.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootfs.h"
#include "spawn.h"
#include "testsuite.h"
#include "ulib.h"
#include "uthread.h"

#define KERNEL_VA   0xffffffc080200000ULL  // the kernel's text
#define MAX_WORKERS 32
#define MAX_HARTS   64  // masks are 64 bits

// ---- helpers --------------------------------------------------------------------------

// A hart other than the caller's where there is one, so that work pinned there competes
// only with itself.
static int other_hart(void)
{
    int n = test_nharts();
    long me = sys_hart_self();
    if (me < 0 || me >= n) {
        test_fail("sys_hart_self() = %ld with %d harts", me, n);
        return 0;
    }
    return n > 1 ? (int)(me + 1) % n : (int)me;
}

// Spawns a program of the boot archive and waits for it; 0 and its status, or an error.
static long run_program(char *argv[], int *status)
{
    handle_t proc;
    long r = spawn_from_bootfs(argv[0], argv, NULL, 0, &proc);
    if (r < 0)
        return r;
    r = sys_process_wait(proc, status);
    long c = sys_handle_close(proc);
    return r < 0 ? r : c;
}

// ---- threads_spread: threads run on every hart, and all finish ------------------------

static uint64_t spread_seen;  // union of the harts the workers saw

static long spread_worker(void *arg)
{
    uint64_t seen = 0;
    uint64_t end = time_now() + time_from_ms(30);
    while (time_now() < end) {
        long h = sys_hart_self();
        if (h >= 0 && h < MAX_HARTS)
            seen |= 1ULL << h;
    }
    __atomic_fetch_or(&spread_seen, seen, __ATOMIC_RELAXED);
    return (long)(uintptr_t)arg;
}

static void test_threads_spread(void)
{
    int harts = test_nharts();
    int n = 4 * harts < MAX_WORKERS ? 4 * harts : MAX_WORKERS;
    struct uthread t[MAX_WORKERS];
    long values[MAX_WORKERS];
    spread_seen = 0;
    test_start_threads(t, n, spread_worker, NULL);
    test_join_threads(t, n, values);
    for (int i = 0; i < n; i++)
        if (values[i] != i && values[i] != -999)
            test_fail("worker %d exited with %ld", i, values[i]);
    uint64_t all = harts == MAX_HARTS ? ~0ULL : (1ULL << harts) - 1;
    uint64_t seen = __atomic_load_n(&spread_seen, __ATOMIC_RELAXED);
    if (harts > 1 && seen != all)
        test_fail("%d threads ran on harts %#lx, not on all of %#lx", n, (unsigned long)seen,
                  (unsigned long)all);
}

// ---- no_starvation: a thread that never yields cannot keep its hart -------------------

static volatile int starve_flag, starve_spinning;

static long starve_spinner(void *arg)
{
    if (test_pin_self((int)(uintptr_t)arg) < 0)
        return -1;
    starve_spinning = 1;
    uint64_t end = time_now() + time_from_ms(2000);
    while (!starve_flag && time_now() < end)
        ;
    return starve_flag;
}

// Sets the flag once the spinner spins, from the spinner's hart: only preemption can
// let it run there. Returns the hart it set the flag on.
static long starve_setter(void *arg)
{
    if (test_pin_self((int)(uintptr_t)arg) < 0)
        return -1;
    uint64_t end = time_now() + time_from_ms(3000);
    while (!starve_spinning && time_now() < end)
        sys_yield();
    starve_flag = 1;
    return sys_hart_self();
}

static void test_no_starvation(void)
{
    int hart = other_hart();
    struct uthread t[2];
    long values[2];
    starve_flag = starve_spinning = 0;
    void *args[] = { (void *)(uintptr_t)hart, (void *)(uintptr_t)hart };
    if (uthread_start(&t[0], starve_spinner, args[0], UTHREAD_STACK_DEFAULT) < 0 ||
        uthread_start(&t[1], starve_setter, args[1], UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot start threads");
        starve_flag = 1;
        if (t[0].handle)
            uthread_join(&t[0], NULL);
        return;
    }
    test_join_threads(t, 2, values);
    if (values[0] == -1 || values[1] == -1)
        test_fail("sys_thread_set_affinity(H_SELF_THREAD, hart %d) failed or did not move", hart);
    else if (values[0] != 1)
        test_fail("a spinning thread kept hart %d for 2 s: no preemption", hart);
    else if (values[1] != hart)
        test_fail("the flag was set on hart %ld, not on the spinner's hart %d", values[1], hart);
}

// ---- sleep_accuracy: sys_sleep ends at its deadline, within a tick --------------------

#define SLEEP_MS     30
#define SLEEP_ROUNDS 3
#define TICK_MS      10  // the kernel's timer tick

// Per thread: how many sleeps ended early, and the smallest lateness seen.
struct sleep_result {
    int early;
    int64_t best_late;  // time CSR ticks
};

static long sleeper(void *arg)
{
    struct sleep_result *r = arg;
    r->best_late = INT64_MAX;
    for (int i = 0; i < SLEEP_ROUNDS; i++) {
        uint64_t start = time_now();
        if (sys_sleep(SLEEP_MS * 1000000ULL) < 0)
            return -1;
        int64_t late = (int64_t)(time_now() - (start + time_from_ms(SLEEP_MS)));
        if (late < 0)
            r->early++;
        if (late < r->best_late)
            r->best_late = late;
    }
    return 0;
}

// One sleeper per hart, at once. No sleep may end early; a sleep may end late when the
// host stalls QEMU, so each sleeper's best of three must be within a tick.
static void test_sleep_accuracy(void)
{
    int n = test_nharts();
    struct uthread t[MAX_HARTS];
    struct sleep_result res[MAX_HARTS];
    void *args[MAX_HARTS];
    long values[MAX_HARTS];
    memset(res, 0, sizeof(res));
    for (int i = 0; i < n; i++)
        args[i] = &res[i];
    test_start_threads(t, n, sleeper, args);
    test_join_threads(t, n, values);
    for (int i = 0; i < n; i++) {
        if (values[i] == -1)
            test_fail("sys_sleep returned an error");
        else if (res[i].early)
            test_fail("%d sleeps of %d ms ended early", res[i].early, SLEEP_MS);
        else if (values[i] == 0 && res[i].best_late > (int64_t)time_from_ms(TICK_MS))
            test_fail("sleeps of %d ms ended at best %lu us late, more than a tick (%d ms)",
                      SLEEP_MS, (unsigned long)(time_ns((uint64_t)res[i].best_late) / 1000),
                      TICK_MS);
    }
}

// ---- priority_order: runnable threads run by priority ---------------------------------

static volatile int gate_ready, gate_open;
static int prio_hart;
static int order[3], order_count, order_off_hart;

// Holds prio_hart at the highest priority until the three ranked threads wait there.
static long gatekeeper(void *arg)
{
    if (test_pin_self(prio_hart) < 0)
        return -1;
    gate_ready = 1;
    uint64_t end = time_now() + time_from_ms(2000);
    while (!gate_open && time_now() < end)
        ;
    return gate_open ? 0 : -2;
}

static long ranked(void *arg)
{
    uint64_t end = time_now() + time_from_ms(3000);
    while (!gate_open && time_now() < end)
        sys_yield();
    int i = __atomic_fetch_add(&order_count, 1, __ATOMIC_RELAXED);
    if (i < 3)
        order[i] = (int)(uintptr_t)arg;
    if (sys_hart_self() != prio_hart)
        __atomic_fetch_add(&order_off_hart, 1, __ATOMIC_RELAXED);
    return 0;
}

static void wait_for_flag(volatile int *flag, uint64_t ms)
{
    uint64_t end = time_now() + time_from_ms(ms);
    while (!*flag && time_now() < end)
        sys_yield();
}

// The ranked threads start before their priority and affinity are set, so they wait
// for the gate yielding; each moves to prio_hart at its next switch after
// sys_thread_set_affinity, and waits there behind the gatekeeper. When the gate opens,
// the scheduler chooses among them by priority alone.
static void test_priority_order(void)
{
    static const int prio[3] = { PRIORITY_MIN + 1, PRIORITY_DEFAULT, PRIORITY_MAX - 1 };
    struct uthread gate, t[3];
    long gate_value, values[3];
    prio_hart = other_hart();
    gate_ready = gate_open = 0;
    order_count = order_off_hart = 0;
    memset(order, 0, sizeof(order));
    if (sys_thread_set_priority(H_SELF_THREAD, PRIORITY_MAX) < 0)
        test_fail("sys_thread_set_priority(H_SELF_THREAD, PRIORITY_MAX) failed");
    if (uthread_start(&gate, gatekeeper, NULL, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot start the gatekeeper");
        sys_thread_set_priority(H_SELF_THREAD, PRIORITY_DEFAULT);
        return;
    }
    if (sys_thread_set_priority(gate.handle, PRIORITY_MAX) < 0)
        test_fail("sys_thread_set_priority(gatekeeper, PRIORITY_MAX) failed");
    wait_for_flag(&gate_ready, 2000);
    void *ranks[3] = { (void *)1, (void *)2, (void *)3 };  // 1 = low ... 3 = high
    test_start_threads(t, 3, ranked, ranks);
    for (int i = 0; i < 3; i++) {
        if (t[i].handle == 0)
            continue;
        if (sys_thread_set_priority(t[i].handle, prio[i]) < 0 ||
            sys_thread_set_affinity(t[i].handle, 1ULL << prio_hart) < 0)
            test_fail("cannot set a thread's priority or affinity");
    }
    sys_sleep(20 * 1000000ULL);  // a ranked thread yields every few microseconds
    gate_open = 1;
    gate_value = -999;
    uthread_join(&gate, &gate_value);
    test_join_threads(t, 3, values);
    sys_thread_set_priority(H_SELF_THREAD, PRIORITY_DEFAULT);
    if (gate_value == -1)
        test_fail("the gatekeeper could not pin itself to hart %d", prio_hart);
    else if (gate_value == -2)
        test_fail("the gate was not opened within 2 s");
    if (order_off_hart)
        test_fail("%d ranked threads ran off their hart %d", order_off_hart, prio_hart);
    if (order_count != 3 || order[0] != 3 || order[1] != 2 || order[2] != 1)
        test_fail(
            "threads of priority high, mid, low ran in the order %d %d %d (3 = high, 1 = low)",
            order[0], order[1], order[2]);
}

// ---- affinity: a pinned thread runs only on its hart ---------------------------------

// Returns how often it found itself elsewhere (-1: could not pin itself).
static long pinned_worker(void *arg)
{
    int hart = (int)(uintptr_t)arg;
    if (test_pin_self(hart) < 0)
        return -1;
    long off = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t end = time_now() + time_from_ms(5);
        while (time_now() < end)
            off += sys_hart_self() != hart;
        sys_yield();
        off += sys_hart_self() != hart;
    }
    return off;
}

static void test_affinity(void)
{
    int harts = test_nharts();
    int n = 2 * harts < MAX_WORKERS ? 2 * harts : MAX_WORKERS;
    struct uthread t[MAX_WORKERS];
    void *args[MAX_WORKERS];
    long values[MAX_WORKERS];
    for (int i = 0; i < n; i++)
        args[i] = (void *)(uintptr_t)(i % harts);
    test_start_threads(t, n, pinned_worker, args);
    test_join_threads(t, n, values);
    for (int i = 0; i < n; i++) {
        if (values[i] == -1)
            test_fail("a thread could not pin itself to hart %d", i % harts);
        else if (values[i] > 0)
            test_fail("a thread pinned to hart %d saw another hart %ld times", i % harts,
                      values[i]);
    }
}

// ---- fpu: floating-point state survives switches -----------------------------------

#define FPU_ROUNDS 200

struct fpu_job {
    double seed, k;
    int rounding;  // frm: 0 to nearest, 1 toward zero
    uint64_t pattern;
    double result;
    long reg_errors;  // rounds where a register or frm changed across a yield
};

static int fpu_hart;

__attribute__((noinline)) static double fp_step(double x, double k)
{
    return x * k + 1.0 / (x + 3.0);
}

static void set_rounding(int rm)
{
    asm volatile("fsrm %0" : : "r"(rm));
}

#define FLD(n)                          "fld f" #n ", " #n "*8(%1)\n"
#define FSD(n)                          "fsd f" #n ", " #n "*8(%2)\n"
#define ALL8(M, a, b, c, d, e, f, g, h) M(a) M(b) M(c) M(d) M(e) M(f) M(g) M(h)
// clang-format cannot settle on one layout for this macro.
// clang-format off
#define ALL32(M)                                                                 \
    ALL8(M, 0, 1, 2, 3, 4, 5, 6, 7) ALL8(M, 8, 9, 10, 11, 12, 13, 14, 15)        \
    ALL8(M, 16, 17, 18, 19, 20, 21, 22, 23) ALL8(M, 24, 25, 26, 27, 28, 29, 30, 31)
// clang-format on

// Fills all 32 f registers with distinct bit patterns, yields with a raw ecall (so no
// compiler spill hides a loss), and reads them back; true when all and frm survived.
static bool fp_regs_survive_yield(uint64_t pattern, int rm)
{
    uint64_t in[32], out[32];
    long frm;
    for (int i = 0; i < 32; i++)
        in[i] = pattern << 8 | (uint64_t)i;
    asm volatile(ALL32(FLD) "li a7, %3\n"
                            "ecall\n" ALL32(FSD) "frrm %0\n"
                 : "=r"(frm)
                 : "r"(in), "r"(out), "i"(SYS_yield)
                 : "a0", "a7", ECALL_CLOBBERS, "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8",
                   "f9", "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19",
                   "f20", "f21", "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29", "f30",
                   "f31");
    return memcmp(in, out, sizeof(in)) == 0 && frm == rm;
}

static long fpu_worker(void *arg)
{
    struct fpu_job *j = arg;
    if (test_pin_self(fpu_hart) < 0)
        return -1;
    set_rounding(j->rounding);
    double x = j->seed;
    for (int i = 0; i < FPU_ROUNDS; i++) {
        x = fp_step(x, j->k);
        if (!fp_regs_survive_yield(j->pattern + (uint64_t)i, j->rounding))
            j->reg_errors++;
        sys_yield();
    }
    j->result = x;
    return 0;
}

// The same series without switches, in this thread: what each worker must get.
static double fp_expected(const struct fpu_job *j)
{
    set_rounding(j->rounding);
    double x = j->seed;
    for (int i = 0; i < FPU_ROUNDS; i++)
        x = fp_step(x, j->k);
    set_rounding(0);
    return x;
}

// Two threads on one hart with different values and rounding modes, switching at every
// yield: each must end with its own registers and its own answer.
static void test_fpu(void)
{
    struct fpu_job jobs[2] = {
        { .seed = 1.5, .k = 0.999, .rounding = 0, .pattern = 0x1111 << 12 },
        { .seed = -2.25, .k = 1.001, .rounding = 1, .pattern = 0x2222 << 12 },
    };
    struct uthread t[2];
    void *args[] = { &jobs[0], &jobs[1] };
    long values[2];
    fpu_hart = other_hart();
    test_start_threads(t, 2, fpu_worker, args);
    test_join_threads(t, 2, values);
    for (int i = 0; i < 2; i++) {
        double want = fp_expected(&jobs[i]);
        if (values[i] == -1)
            test_fail("a thread could not pin itself to hart %d", fpu_hart);
        else if (jobs[i].reg_errors)
            test_fail("thread %d: f registers or frm changed across %ld of %d yields", i,
                      jobs[i].reg_errors, FPU_ROUNDS);
        else if (memcmp(&jobs[i].result, &want, sizeof(want)) != 0)
            test_fail("thread %d computed %.17g, want %.17g", i, jobs[i].result, want);
    }
}

// ---- fpu_migrate: f registers follow a thread from hart to hart ----------------------

#define MIGRATE_ROUNDS 50

// Loads `there` into the f registers, moves to hart b with a raw ecall, loads `back`
// there, moves back to hart a, and stores the f registers into out: they must hold `back`.
// The kernel loads f registers lazily, so coming back to hart a, which held this thread's
// older values, is exactly where a stale copy would show.
static void fp_round_trip(const uint64_t *there, const uint64_t *back, uint64_t *out, int a, int b)
{
    asm volatile(ALL32(FLD) "li a0, %4\n"
                            "mv a1, %5\n"
                            "li a7, %6\n"
                            "ecall\n"
                 : "=m"(*(char(*)[256])out)
                 : "r"(there), "r"(out), "m"(*(const char(*)[256])there), "i"(H_SELF_THREAD),
                   "r"(1ULL << b), "i"(SYS_thread_set_affinity)
                 : "a0", "a1", "a7", ECALL_CLOBBERS, "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7",
                   "f8", "f9", "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19",
                   "f20", "f21", "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29", "f30",
                   "f31");
    asm volatile(ALL32(FLD) "li a0, %4\n"
                            "mv a1, %5\n"
                            "li a7, %6\n"
                            "ecall\n" ALL32(FSD)
                 : "=m"(*(char(*)[256])out)
                 : "r"(back), "r"(out), "m"(*(const char(*)[256])back), "i"(H_SELF_THREAD),
                   "r"(1ULL << a), "i"(SYS_thread_set_affinity)
                 : "a0", "a1", "a7", ECALL_CLOBBERS, "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7",
                   "f8", "f9", "f10", "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19",
                   "f20", "f21", "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29", "f30",
                   "f31");
}

static void test_fpu_migrate(void)
{
    int a = (int)sys_hart_self(), b = other_hart();
    if (test_pin_self(a) < 0) {
        test_fail("cannot pin to hart %d", a);
        return;
    }
    uint64_t there[32], back[32], out[32];
    for (int round = 0; round < MIGRATE_ROUNDS && !test_failed(); round++) {
        for (int i = 0; i < 32; i++) {
            there[i] = 0x7e7e000000000000ULL | (uint64_t)round << 8 | (uint64_t)i;
            back[i] = 0xbacc000000000000ULL | (uint64_t)round << 8 | (uint64_t)i;
        }
        memset(out, 0, sizeof(out));
        fp_round_trip(there, back, out, a, b);
        if (sys_hart_self() != a)
            test_fail("round %d: not back on hart %d", round, a);
        for (int i = 0; i < 32; i++) {
            if (out[i] != back[i]) {
                test_fail("round %d (harts %d, %d): f%d came back as %#lx, not %#lx", round, a, b,
                          i, (unsigned long)out[i], (unsigned long)back[i]);
                break;
            }
        }
    }
}

// ---- bad_args: invalid arguments give errors, never a crash ------------------------

#define ANY_ERROR 1  // in a list of wanted results: any negative value

static const char *bad_context = "";

// True when got is one of want[0..n).
static bool wanted(long got, const long *want, int n)
{
    for (int i = 0; i < n; i++)
        if (got == want[i] || (want[i] == ANY_ERROR && got < 0))
            return true;
    return false;
}

static void expect_result(const char *call, long got, const long *want, int n)
{
    if (wanted(got, want, n))
        return;
    test_fail("%s%s%s = %ld (%s), want %s%s", call, *bad_context ? " with " : "", bad_context, got,
              got < 0 ? abi_strerror(got) : "success",
              want[0] == ANY_ERROR ? "an error" : abi_strerror(want[0]), n > 1 ? " or ..." : "");
}

#define EXPECT(call, ...)                                                                          \
    expect_result(#call, (call), (const long[]){ __VA_ARGS__ },                                    \
                  (int)(sizeof((const long[]){ __VA_ARGS__ }) / sizeof(long)))

// A pointer the kernel must not read or write through: not mapped, or not user memory.
struct bad_pointer {
    uint64_t addr, len;
    const char *what;
};

static const struct bad_pointer bad_pointers[] = {
    { 0, 16, "NULL" },
    { 8, 16, "8" },
    { KERNEL_VA, 16, "a kernel address" },
    { USER_MAX - 4, 64, "USER_MAX - 4 (64 bytes)" },
};

// A number that names no usable handle of ours.
static const handle_t bad_handles[] = { 0, 9999, -5 };

static long raw_syscall(long nr)
{
    register long a0 asm("a0") = 0;
    register long a7 asm("a7") = nr;
    asm volatile("ecall" : "+r"(a0), "+r"(a7) : : ECALL_CLOBBERS);
    return a0;
}

static long quick_thread(void *arg)
{
    return 7;
}

// The objects the checks use; all made by bad_args_setup and freed by bad_args_cleanup.
struct victims {
    long child;             // a process with no thread, never started
    long dead;              // `hello -q`, exited and waited for
    long region;            // one page
    long child_dup;         // child with RIGHT_DUP only
    long thread_dup;        // thread with RIGHT_DUP only
    long region_dup;        // region with RIGHT_DUP only
    long region_nodup;      // region with RIGHT_READ only
    struct uthread thread;  // has exited (or will soon), not yet joined
    uint8_t buf[64];
};

#define CHILD_VA 0x100000ULL
#define SPARE_VA 0x3000000000ULL  // nothing of ours is mapped here

static bool bad_args_setup(struct victims *v)
{
    memset(v, 0, sizeof(*v));
    v->child = sys_process_create("victim", 6);
    v->region = sys_region_create(PAGE_SIZE);
    if (v->child < 0 || v->region < 0) {
        test_fail("setup: process_create or region_create failed");
        return false;
    }
    char *argv[] = { "hello", "-q", NULL };
    handle_t dead;
    int st = -1;
    if (spawn_from_bootfs("hello", argv, NULL, 0, &dead) < 0) {
        test_fail("setup: cannot spawn hello");
        return false;
    }
    v->dead = dead;
    if (sys_process_wait(dead, &st) < 0 || st != 0)
        test_fail("setup: hello -q exited with %d", st);
    if (sys_mem_alloc((handle_t)v->child, CHILD_VA, PAGE_SIZE, PROT_READ | PROT_WRITE) < 0)
        test_fail("setup: mem_alloc in a child failed");
    if (uthread_start(&v->thread, quick_thread, NULL, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("setup: cannot start a thread");
        return false;
    }
    v->child_dup = sys_handle_dup((handle_t)v->child, RIGHT_DUP);
    v->thread_dup = sys_handle_dup(v->thread.handle, RIGHT_DUP);
    v->region_dup = sys_handle_dup((handle_t)v->region, RIGHT_DUP);
    v->region_nodup = sys_handle_dup((handle_t)v->region, RIGHT_READ);
    if (v->child_dup < 0 || v->thread_dup < 0 || v->region_dup < 0 || v->region_nodup < 0) {
        test_fail("setup: handle_dup failed");
        return false;
    }
    return true;
}

static void bad_args_cleanup(struct victims *v)
{
    long handles[] = { v->child_dup,    v->thread_dup, v->region_dup,
                       v->region_nodup, v->region,     v->dead };
    for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); i++)
        if (handles[i] > 0)
            sys_handle_close((handle_t)handles[i]);
    if (v->child > 0) {
        sys_process_kill((handle_t)v->child);
        sys_handle_close((handle_t)v->child);
    }
    if (v->thread.handle)
        uthread_join(&v->thread, NULL);
}

// Every call that takes a handle, given h, which is no handle at all.
static void bad_handle_calls(const struct victims *v, handle_t h)
{
    long val;
    int st;
    uint8_t buf[8] = { 0 };
    EXPECT(sys_thread_create(h, 0x10000, 0x20000, 0), E_BADHANDLE);
    EXPECT(sys_thread_join(h, &val), E_BADHANDLE);
    EXPECT(sys_thread_set_priority(h, PRIORITY_DEFAULT), E_BADHANDLE);
    EXPECT(sys_thread_set_affinity(h, 1), E_BADHANDLE);
    EXPECT(sys_process_wait(h, &st), E_BADHANDLE);
    EXPECT(sys_process_kill(h), E_BADHANDLE);
    EXPECT(sys_handle_close(h), E_BADHANDLE);
    EXPECT(sys_handle_dup(h, RIGHT_ALL), E_BADHANDLE);
    EXPECT(sys_handle_give(h, (handle_t)v->region, RIGHT_ALL), E_BADHANDLE);
    EXPECT(sys_handle_give((handle_t)v->child, h, RIGHT_ALL), E_BADHANDLE);
    EXPECT(sys_mem_alloc(h, SPARE_VA, PAGE_SIZE, PROT_READ), E_BADHANDLE);
    EXPECT(sys_mem_unmap(h, SPARE_VA, PAGE_SIZE), E_BADHANDLE);
    EXPECT(sys_mem_protect(h, SPARE_VA, PAGE_SIZE, PROT_READ), E_BADHANDLE);
    EXPECT(sys_mem_write(h, CHILD_VA, buf, sizeof(buf)), E_BADHANDLE);
    EXPECT(sys_region_map(h, H_SELF, SPARE_VA, 0, PAGE_SIZE, PROT_READ), E_BADHANDLE);
    EXPECT(sys_region_map((handle_t)v->region, h, SPARE_VA, 0, PAGE_SIZE, PROT_READ), E_BADHANDLE);
    EXPECT(sys_region_size(h), E_BADHANDLE);
    EXPECT(sys_process_pid(h), E_BADHANDLE);
}

static void check_bad_handles(const struct victims *v)
{
    char ctx[32];
    for (size_t i = 0; i < sizeof(bad_handles) / sizeof(bad_handles[0]); i++) {
        snprintf(ctx, sizeof(ctx), "handle %d", bad_handles[i]);
        bad_context = ctx;
        bad_handle_calls(v, bad_handles[i]);
    }
    // Made just now: the next handle created would reuse its number.
    long closed = sys_region_create(PAGE_SIZE);
    if (closed < 0 || sys_handle_close((handle_t)closed) < 0) {
        test_fail("cannot make a closed handle");
        return;
    }
    bad_context = "a closed handle";
    bad_handle_calls(v, (handle_t)closed);
    bad_context = "";
}

// A handle of the wrong kind is E_BADHANDLE too.
static void check_wrong_kinds(const struct victims *v)
{
    handle_t thread = v->thread.handle, child = (handle_t)v->child, region = (handle_t)v->region;
    long val;
    int st;
    EXPECT(sys_mem_alloc(thread, SPARE_VA, PAGE_SIZE, PROT_READ), E_BADHANDLE);
    EXPECT(sys_thread_create(thread, 0x10000, 0x20000, 0), E_BADHANDLE);
    EXPECT(sys_process_wait(thread, &st), E_BADHANDLE);
    EXPECT(sys_process_kill(thread), E_BADHANDLE);
    EXPECT(sys_handle_give(thread, region, RIGHT_ALL), E_BADHANDLE);
    EXPECT(sys_region_map(region, thread, SPARE_VA, 0, PAGE_SIZE, PROT_READ), E_BADHANDLE);
    EXPECT(sys_mem_alloc(H_SELF_THREAD, SPARE_VA, PAGE_SIZE, PROT_READ), E_BADHANDLE);
    EXPECT(sys_thread_join(child, &val), E_BADHANDLE);
    EXPECT(sys_thread_set_priority(child, PRIORITY_DEFAULT), E_BADHANDLE);
    EXPECT(sys_thread_set_affinity(child, 1), E_BADHANDLE);
    EXPECT(sys_thread_set_priority(H_SELF, PRIORITY_DEFAULT), E_BADHANDLE);
    EXPECT(sys_process_wait(region, &st), E_BADHANDLE);
    EXPECT(sys_mem_alloc(region, SPARE_VA, PAGE_SIZE, PROT_READ), E_BADHANDLE);
    EXPECT(sys_region_size(child), E_BADHANDLE);
    EXPECT(sys_region_map(child, H_SELF, SPARE_VA, 0, PAGE_SIZE, PROT_READ), E_BADHANDLE);
    EXPECT(sys_thread_join(H_SELF_THREAD, &val), E_DEADLK);
    EXPECT(sys_process_wait(H_SELF, &st), E_DEADLK);
    EXPECT(sys_process_pid(thread), E_BADHANDLE);
    EXPECT(sys_process_pid(region), E_BADHANDLE);
    EXPECT(sys_process_pid(H_SELF_THREAD), E_BADHANDLE);
}

// A handle without the right a call needs: E_RIGHTS.
static void check_rights(const struct victims *v)
{
    handle_t p = (handle_t)v->child_dup, t = (handle_t)v->thread_dup;
    handle_t r = (handle_t)v->region_dup, rd = (handle_t)v->region_nodup;
    long val;
    int st;
    uint8_t buf[8] = { 0 };
    EXPECT(sys_mem_alloc(p, SPARE_VA, PAGE_SIZE, PROT_READ), E_RIGHTS);
    EXPECT(sys_mem_write(p, CHILD_VA, buf, sizeof(buf)), E_RIGHTS);
    EXPECT(sys_mem_protect(p, CHILD_VA, PAGE_SIZE, PROT_READ), E_RIGHTS);
    EXPECT(sys_mem_unmap(p, CHILD_VA, PAGE_SIZE), E_RIGHTS);
    EXPECT(sys_thread_create(p, 0x10000, 0x20000, 0), E_RIGHTS);
    EXPECT(sys_process_wait(p, &st), E_RIGHTS);
    EXPECT(sys_process_kill(p), E_RIGHTS);
    EXPECT(sys_region_map((handle_t)v->region, p, SPARE_VA, 0, PAGE_SIZE, PROT_READ), E_RIGHTS);
    EXPECT(sys_thread_join(t, &val), E_RIGHTS);
    EXPECT(sys_thread_set_priority(t, PRIORITY_DEFAULT), E_RIGHTS);
    EXPECT(sys_thread_set_affinity(t, 1), E_RIGHTS);
    EXPECT(sys_region_map(r, H_SELF, SPARE_VA, 0, PAGE_SIZE, PROT_READ), E_RIGHTS);
    EXPECT(sys_region_map(rd, H_SELF, SPARE_VA, 0, PAGE_SIZE, PROT_READ | PROT_WRITE), E_RIGHTS);
    EXPECT(sys_handle_give((handle_t)v->child, r, RIGHT_ALL), E_RIGHTS);
    EXPECT(sys_handle_dup(rd, RIGHT_READ), E_RIGHTS);
}

// Pointers the kernel would read or write through: E_FAULT, or E_RANGE for one that
// leaves user space (the contract allows either there).
static void check_bad_pointers(struct victims *v)
{
    char ctx[48];
    for (size_t i = 0; i < sizeof(bad_pointers) / sizeof(bad_pointers[0]); i++) {
        const struct bad_pointer *b = &bad_pointers[i];
        void *p = (void *)(uintptr_t)b->addr;
        snprintf(ctx, sizeof(ctx), "pointer %s", b->what);
        bad_context = ctx;
        EXPECT(sys_debug_write(p, b->len), E_FAULT, E_RANGE);
        EXPECT(sys_process_create(p, 8), E_FAULT, E_RANGE);
        EXPECT(sys_mem_write((handle_t)v->child, CHILD_VA, p, b->len), E_FAULT, E_RANGE);
        EXPECT(sys_mem_write((handle_t)v->child, b->addr, v->buf, b->len), E_FAULT, E_RANGE);
        EXPECT(sys_stats(p), E_FAULT, E_RANGE);
        EXPECT(sys_proc_list(p, 64, 0), E_FAULT, E_RANGE);
        if (b->addr != 0)  // NULL asks for no status: allowed
            EXPECT(sys_process_wait((handle_t)v->dead, p), E_FAULT, E_RANGE);
    }
    bad_context = "";
    // Our own text is mapped, but not writable.
    EXPECT(sys_stats((struct sys_stats *)(uintptr_t)&check_bad_pointers), E_FAULT);
    EXPECT(sys_proc_list((struct proc_info *)(uintptr_t)&check_bad_pointers, 64, 0), E_FAULT);
    EXPECT(sys_mem_write((handle_t)v->child, CHILD_VA + 0x10000, v->buf, 8), E_FAULT);
    int st = -1;
    if (sys_process_wait((handle_t)v->dead, &st) != 0 || st != 0)
        test_fail("process_wait after failed ones gave status %d, want 0", st);

    // Joining an exited thread with a bad pointer; then join it for real if still there.
    sys_sleep(10 * 1000000ULL);
    EXPECT(sys_thread_join(v->thread.handle, (long *)8), E_FAULT, E_RANGE);
}

// Addresses, lengths, flags and numbers out of range.
static void check_ranges(const struct victims *v)
{
    handle_t child = (handle_t)v->child, region = (handle_t)v->region;
    uint64_t text = page_round_down((uint64_t)(uintptr_t)&check_ranges);
    EXPECT(sys_mem_alloc(H_SELF, 0, PAGE_SIZE, PROT_READ), E_RANGE);
    EXPECT(sys_mem_alloc(H_SELF, USER_MAX, PAGE_SIZE, PROT_READ), E_RANGE);
    EXPECT(sys_mem_alloc(H_SELF, USER_MAX - PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ), E_RANGE);
    EXPECT(sys_mem_alloc(H_SELF, KERNEL_VA, PAGE_SIZE, PROT_READ), E_RANGE);
    EXPECT(sys_mem_alloc(H_SELF, SPARE_VA, UINT64_MAX & ~(PAGE_SIZE - 1), PROT_READ), E_RANGE);
    EXPECT(sys_mem_alloc(H_SELF, SPARE_VA + 1, PAGE_SIZE, PROT_READ), E_RANGE);
    EXPECT(sys_mem_alloc(H_SELF, SPARE_VA, PAGE_SIZE + 1, PROT_READ), E_RANGE);
    EXPECT(sys_mem_alloc(H_SELF, SPARE_VA, PAGE_SIZE, 0x80), E_INVAL);
    EXPECT(sys_mem_alloc(H_SELF, text, PAGE_SIZE, PROT_READ), E_EXIST);
    // More than the machine has: it must fail and leave nothing mapped behind.
    EXPECT(sys_mem_alloc(H_SELF, SPARE_VA, 0xf00000000ULL, PROT_READ | PROT_WRITE), ANY_ERROR);
    if (sys_mem_alloc(H_SELF, SPARE_VA, PAGE_SIZE, PROT_READ) != 0)
        test_fail("a failed huge mem_alloc left pages mapped at its start");
    else if (sys_mem_unmap(H_SELF, SPARE_VA, PAGE_SIZE) != 0)
        test_fail("mem_unmap of a page just allocated failed");
    EXPECT(sys_mem_unmap(H_SELF, SPARE_VA + 1, PAGE_SIZE), E_RANGE);
    EXPECT(sys_mem_unmap(H_SELF, 0, PAGE_SIZE), E_RANGE);
    EXPECT(sys_mem_unmap(H_SELF, KERNEL_VA, PAGE_SIZE), E_RANGE);
    EXPECT(sys_mem_protect(H_SELF, text, PAGE_SIZE, 0x80), E_INVAL);
    EXPECT(sys_mem_protect(H_SELF, text + 1, PAGE_SIZE, PROT_READ), E_RANGE);
    EXPECT(sys_mem_protect(H_SELF, KERNEL_VA, PAGE_SIZE, PROT_READ), E_RANGE);
    EXPECT(sys_mem_protect(H_SELF, SPARE_VA, PAGE_SIZE, PROT_READ), ANY_ERROR);
    EXPECT(sys_mem_write(child, CHILD_VA, v->buf, UINT64_MAX), ANY_ERROR);
    EXPECT(sys_region_create(UINT64_MAX), ANY_ERROR);
    EXPECT(sys_region_create(1ULL << 40), ANY_ERROR);
    EXPECT(sys_region_map(region, H_SELF, SPARE_VA + 1, 0, PAGE_SIZE, PROT_READ), E_RANGE);
    EXPECT(sys_region_map(region, H_SELF, KERNEL_VA, 0, PAGE_SIZE, PROT_READ), E_RANGE);
    EXPECT(sys_region_map(region, H_SELF, SPARE_VA, 1, PAGE_SIZE, PROT_READ), E_RANGE);
    EXPECT(sys_region_map(region, H_SELF, SPARE_VA, 0, PAGE_SIZE, 0x80), E_INVAL);
    EXPECT(sys_region_map(region, H_SELF, SPARE_VA, 2 * PAGE_SIZE, PAGE_SIZE, PROT_READ), E_RANGE,
           E_INVAL);
    EXPECT(sys_region_map(region, H_SELF, SPARE_VA, 0, 2 * PAGE_SIZE, PROT_READ), E_RANGE, E_INVAL);
    EXPECT(sys_region_map(region, H_SELF, SPARE_VA, UINT64_MAX & ~(PAGE_SIZE - 1), 2 * PAGE_SIZE,
                          PROT_READ),
           E_RANGE, E_INVAL);
    EXPECT(sys_thread_set_priority(H_SELF_THREAD, PRIORITY_MAX + 1), E_INVAL);
    EXPECT(sys_thread_set_priority(H_SELF_THREAD, -1), E_INVAL);
    EXPECT(sys_thread_set_affinity(H_SELF_THREAD, 0), E_INVAL);
    EXPECT(sys_thread_set_affinity(H_SELF_THREAD, 1ULL << 63), E_INVAL);
    EXPECT(sys_thread_create(child, 0, 0x20000, 0), E_RANGE);
    EXPECT(sys_thread_create(child, KERNEL_VA, 0x20000, 0), E_RANGE);
    EXPECT(sys_thread_create(child, 0x10000, 0x20008, 0), E_RANGE);
    EXPECT(sys_handle_dup(region, 1u << 31), E_INVAL);
    EXPECT(sys_handle_give(child, region, 1u << 31), E_INVAL);
    EXPECT(sys_process_create("x", 0), E_INVAL);
    EXPECT(sys_process_create("x", UINT64_MAX), ANY_ERROR);
    EXPECT(sys_debug_write((const char *)v->buf, DEBUG_WRITE_MAX + 1), E_TOOBIG);
    EXPECT(sys_debug_write(NULL, UINT64_MAX), ANY_ERROR);
    static struct proc_info infos[64];
    EXPECT(sys_proc_list(infos, 64, 1), E_INVAL);
    EXPECT(sys_proc_list(infos, 64, 1u << 31), E_INVAL);
    EXPECT(sys_proc_list(NULL, 64, 0), E_FAULT, E_RANGE);
    EXPECT(sys_proc_list(NULL, 0, 0), 0);          // room for none: nothing is written
    long n = sys_proc_list(infos, UINT64_MAX, 0);  // more than there are: all of them
    if (n < 2 || n > 64)
        test_fail("proc_list with max UINT64_MAX gave %ld, want 2..64", n);
    EXPECT(sys_proc_list(infos, 1, 0), 1);
    EXPECT(sys_process_pid(0), E_BADHANDLE);
    EXPECT(raw_syscall(999), E_NOSYS);
    EXPECT(raw_syscall(0), E_NOSYS);
    EXPECT(raw_syscall(SYS_COUNT), E_NOSYS);
    EXPECT(raw_syscall(-1), E_NOSYS);
}

// Not called with bad arguments: process_exit, thread_exit and poweroff do not return
// when they succeed, and sleep with a huge time would simply sleep.
static void bad_args_round(void)
{
    struct victims v;
    if (bad_args_setup(&v)) {
        check_bad_handles(&v);
        check_wrong_kinds(&v);
        check_rights(&v);
        check_ranges(&v);
        check_bad_pointers(&v);
    }
    bad_args_cleanup(&v);
}

static void test_bad_args(void)
{
    // Once first: our heap, and page tables for the addresses the checks map at, stay
    // ours; and init may still be closing what it used to start us, on another hart.
    bad_args_round();
    struct sys_stats before = test_counts_settled();
    bad_args_round();
    test_expect_counts(&before, "bad arguments");
}

// ---- fault_kills_only_child: a faulting process dies alone ---------------------------

static void test_fault_kills_only_child(void)
{
    static const char *const kinds[] = {
        "load_null",      "load_kernel", "store_text", "illegal",        "priv_csr", "priv_sret",
        "misaligned_amo", "jump_kernel", "exec_data",  "stack_overflow", "bad_sp",
    };
    int status = -1;
    char *control[] = { "faulter", "none", NULL };
    long r = run_program(control, &status);
    if (r < 0) {
        test_fail("cannot run faulter: %s", abi_strerror(r));
        return;
    }
    if (status != 0)
        test_fail("`faulter none` exited with %d, want 0", status);
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        char *argv[] = { "faulter", (char *)kinds[i], NULL };
        status = -1;
        r = run_program(argv, &status);
        if (r < 0)
            test_fail("faulter %s: %s", kinds[i], abi_strerror(r));
        else if (status != EXIT_FAULT)
            test_fail("faulter %s exited with %#x, want EXIT_FAULT", kinds[i], status);
    }
}

// ---- spawn_cycles: spawning and exiting leaks nothing -------------------------------

#define SPAWN_CYCLES 1000

static void test_spawn_cycles(void)
{
    char *argv[] = { "hello", "-q", NULL };
    int status = -1;
    // The first run grows our heap (and maps the boot archive): not a leak.
    long r = run_program(argv, &status);
    if (r < 0 || status != 0) {
        test_fail("hello -q: %s, status %d", r < 0 ? abi_strerror(r) : "ran", status);
        return;
    }
    struct sys_stats before = test_counts_settled();
    for (int i = 0; i < SPAWN_CYCLES; i++) {
        r = run_program(argv, &status);
        if (r < 0 || status != 0) {
            test_fail("cycle %d: %s, status %d", i, r < 0 ? abi_strerror(r) : "ran", status);
            return;
        }
    }
    test_expect_counts(&before, "1000 spawns");
}

// ---- process_ids: one pid per process, and proc_list shows every process --------------

// proc_list's entry for pid, or false.
static bool proc_find(long pid, struct proc_info *out)
{
    static struct proc_info infos[64];
    long n = sys_proc_list(infos, 64, 0);
    if (n < 0) {
        test_fail("proc_list: %s", abi_strerror(n));
        return false;
    }
    for (long i = 0; i < n; i++)
        if (infos[i].pid == pid) {
            *out = infos[i];
            return true;
        }
    return false;
}

static void test_process_ids(void)
{
    struct proc_info info;
    long me = sys_process_pid(H_SELF);
    if (me <= 1 || !proc_find(me, &info)) {
        test_fail("proc_list does not list our own pid %ld", me);
        return;
    }
    if (strcmp(info.name, "usertests") != 0 || info.state != PROC_RUNNING || info.hart < 0 ||
        info.threads < 1 || info.pages == 0)
        test_fail("we are listed as '%s', state %d, hart %d, %u threads, %lu pages", info.name,
                  info.state, info.hart, info.threads, (unsigned long)info.pages);
    if (!proc_find(1, &info) || strcmp(info.name, "init") != 0 || info.state == PROC_ZOMBIE)
        test_fail("pid 1 is not a live init");

    // A child's handle names the pid proc_list shows; it dies a zombie, then is gone.
    long child = sys_process_create("pidchild", 8);
    if (child < 0) {
        test_fail("process_create: %s", abi_strerror(child));
        return;
    }
    long pid = sys_process_pid((handle_t)child);
    if (pid <= me || !proc_find(pid, &info))
        test_fail("the child's pid %ld (ours %ld) is not listed", pid, me);
    else if (strcmp(info.name, "pidchild") != 0 || info.state != PROC_NEW || info.threads != 0 ||
             info.pages != 0 || info.hart != -1)
        test_fail("a new child is listed as '%s', state %d, %u threads, %lu pages, hart %d",
                  info.name, info.state, info.threads, (unsigned long)info.pages, info.hart);
    if (sys_mem_alloc((handle_t)child, 0x100000, 3 * PAGE_SIZE, PROT_READ) != 0)
        test_fail("mem_alloc in the child failed");
    else if (!proc_find(pid, &info) || info.pages != 3)
        test_fail("the child has 3 pages mapped, proc_list says %lu", (unsigned long)info.pages);
    int status = 0;
    if (sys_process_kill((handle_t)child) != 0 || sys_process_wait((handle_t)child, &status) != 0)
        test_fail("cannot kill and wait for the child");
    else if (!proc_find(pid, &info) || info.state != PROC_ZOMBIE ||
             info.exit_status != EXIT_KILLED || info.pages != 0)
        test_fail("a killed child is listed with state %d, status %#x, %lu pages", info.state,
                  info.exit_status, (unsigned long)info.pages);
    sys_handle_close((handle_t)child);
    for (int i = 0; i < 100 && proc_find(pid, &info); i++)
        sys_sleep(1000000);  // the last reference goes; the slot is freed soon after
    if (proc_find(pid, &info))
        test_fail("pid %ld is still listed after its last handle closed", pid);
    if (sys_process_pid(H_SELF) != me)
        test_fail("our pid changed");
}

// ---- the list and main ----------------------------------------------------------------

static const struct test_case tests[] = {
    { "threads_spread", test_threads_spread, 0 },
    { "no_starvation", test_no_starvation, 0 },
    { "sleep_accuracy", test_sleep_accuracy, 0 },
    { "priority_order", test_priority_order, 0 },
    { "affinity", test_affinity, 0 },
    { "fpu", test_fpu, 0 },
    { "fpu_migrate", test_fpu_migrate, 0 },
    { "bad_args", test_bad_args, TEST_NEEDS_BOOTFS },
    { "fault_kills_only_child", test_fault_kills_only_child, TEST_NEEDS_BOOTFS },
    { "spawn_cycles", test_spawn_cycles, TEST_NEEDS_BOOTFS },
    { "process_ids", test_process_ids, 0 },
};

// The tests that spawn programs fail at once without a boot archive.
static const char *precondition(const struct test_case *t)
{
    const void *elf;
    uint64_t size;
    if ((t->flags & TEST_NEEDS_BOOTFS) && bootfs_find("faulter", &elf, &size) < 0)
        return "no boot archive to spawn programs from";
    return NULL;
}

static const struct test_suite suite = {
    .name = "usertests",
    .tests = tests,
    .ntests = (int)(sizeof(tests) / sizeof(tests[0])),
    .precondition = precondition,
};

int main(int argc, char *argv[])
{
    return test_suite_main(&suite, argc, argv);
}
