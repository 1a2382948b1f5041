// Kernel self-tests (see ktest.h). Each runs on every online hart at once through
// ipi_run_on_all(), so it tests what a single hart could never show: lost or doubly
// handed-out pages, lost counter updates, a hart whose timer never fires.
#include "boot/ktest.h"
#include "boot/harts.h"
#include "dev/ipi.h"
#include "dev/power.h"
#include "dev/timer.h"
#include "lib/assert.h"
#include "lib/console.h"
#include "lib/fmt.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "mm/kalloc.h"
#include "mm/memlayout.h"
#include "sbi/sbi.h"
#include "proc/sched.h"

#define WHY_MAX 160

// What the harts of one test share. The first failure's reason is kept.
static struct {
    struct spinlock lock;
    // ktest.lock must be held when using these:
    int failures;
    char why[WHY_MAX];
    uint64_t counter;  // the spinlock test's counter
    // Each written only by its own hart, read by the boot hart after the run:
    uint64_t *chain[MAX_HARTS];  // the kalloc test's pages, linked
    uint64_t taken[MAX_HARTS];
    uint64_t ticks_before[MAX_HARTS];
} shared = { .lock = SPINLOCK_INIT("ktest", RANK_KTEST) };

void ktest_fail(const char *fmt, ...)
{
    spin_lock(&shared.lock);
    if (shared.failures++ == 0) {
        int n = fmt_snprintf(shared.why, WHY_MAX, "hart %lu: ", (unsigned long)this_hart()->hartid);
        va_list ap;
        va_start(ap, fmt);
        fmt_vsnprintf(shared.why + n, WHY_MAX - n, fmt, ap);
        va_end(ap);
    }
    spin_unlock(&shared.lock);
}

static void reset_shared(void)
{
    spin_lock(&shared.lock);
    shared.failures = 0;
    shared.why[0] = '\0';
    shared.counter = 0;
    spin_unlock(&shared.lock);
    memset(shared.chain, 0, sizeof shared.chain);
    memset(shared.taken, 0, sizeof shared.taken);
}

// ---- kalloc: every hart takes pages until none are left, at once -----------------

// Each page a hart takes is stamped with a token unique to (hart, n-th page). If the
// allocator handed one page to two takers, the later stamp overwrites the earlier
// and the check after all harts are done finds it.
static uint64_t token(int hart_index, uint64_t n)
{
    return (uint64_t)(hart_index + 1) << 40 | n;
}

static void kalloc_take_all(void *unused)
{
    int me = this_hart()->index;
    uint64_t *chain = NULL, n = 0, *page;
    while ((page = kalloc_page()) != NULL) {
        page[0] = (uint64_t)chain;
        page[1] = token(me, n++);
        page[PAGE_SIZE / 8 - 1] = ~V2P(page);
        chain = page;
    }
    shared.chain[me] = chain;
    shared.taken[me] = n;
}

static void kalloc_check_and_free(void *unused)
{
    int me = this_hart()->index;
    uint64_t *page = shared.chain[me];
    for (uint64_t n = shared.taken[me]; n-- > 0;) {
        if (page[1] != token(me, n) || page[PAGE_SIZE / 8 - 1] != ~V2P(page)) {
            ktest_fail("page %#lx was handed out twice (its stamp changed to %#lx)",
                       (unsigned long)V2P(page), (unsigned long)page[1]);
            return;  // the chain is not ours past here: leak rather than follow it
        }
        uint64_t *next = (uint64_t *)page[0];
        kfree_page(page);
        page = next;
    }
}

static void test_kalloc(void)
{
    uint64_t before = kalloc_free_count();
    ipi_run_on_all(kalloc_take_all, NULL);
    uint64_t left = kalloc_free_count(), taken = 0;
    for (int i = 0; i < nharts; i++)
        taken += shared.taken[i];
    ipi_run_on_all(kalloc_check_and_free, NULL);
    uint64_t after = kalloc_free_count();
    if (left != 0)
        ktest_fail("%lu pages still free after every hart ran the allocator dry",
                   (unsigned long)left);
    if (taken != before)
        ktest_fail("harts took %lu pages but %lu were free: %s", (unsigned long)taken,
                   (unsigned long)before, taken < before ? "pages lost" : "pages made up");
    if (after != before)
        ktest_fail("%lu pages free after freeing everything, %lu before", (unsigned long)after,
                   (unsigned long)before);
}

// ---- spinlock: a counter raced from every hart ---------------------------------------

#define COUNTER_ROUNDS 20000

static void spin_race(void *unused)
{
    if (holding(&shared.lock))
        ktest_fail("holding() says yes before the lock is taken");
    for (int i = 0; i < COUNTER_ROUNDS; i++) {
        spin_lock(&shared.lock);
        // Read, then write: a broken lock loses updates here.
        uint64_t v = READ_ONCE(shared.counter);
        if (i == 0 && (!holding(&shared.lock) || intr_get())) {
            spin_unlock(&shared.lock);
            ktest_fail("inside the lock: holding() false or interrupts on");
            spin_lock(&shared.lock);
        }
        WRITE_ONCE(shared.counter, v + 1);
        spin_unlock(&shared.lock);
    }
}

static void test_spinlock(void)
{
    ipi_run_on_all(spin_race, NULL);
    uint64_t expected = (uint64_t)COUNTER_ROUNDS * harts_online();
    spin_lock(&shared.lock);
    uint64_t got = shared.counter;
    spin_unlock(&shared.lock);
    if (got != expected)
        ktest_fail("counter is %lu, expected %lu: updates lost", (unsigned long)got,
                   (unsigned long)expected);
}

// ---- timer: every hart takes ticks -----------------------------------------------------

#define TICKS_WANTED    5
#define TICK_TIMEOUT_MS 3000

static void wait_for_ticks(void *unused)
{
    struct hart *h = this_hart();
    uint64_t start = READ_ONCE(h->ticks);
    uint64_t deadline = timer_now() + timer_ms_to_ticks(TICK_TIMEOUT_MS);
    // wfi: the tick itself wakes us. Interrupts must be on for it to come.
    if (!intr_get())
        ktest_fail("interrupts are off in the idle path");
    while (READ_ONCE(h->ticks) - start < TICKS_WANTED && timer_now() < deadline)
        wfi();
    uint64_t got = READ_ONCE(h->ticks) - start;
    if (got < TICKS_WANTED)
        ktest_fail("saw %lu timer ticks in %d ms, expected %d", (unsigned long)got, TICK_TIMEOUT_MS,
                   TICKS_WANTED);
}

static void test_timer(void)
{
    ipi_run_on_all(wait_for_ticks, NULL);
}

// ---- harts: each hart's tp names that very hart ------------------------------------

// tp is checked against something it cannot fake: an IPI sent to the hart id that
// this_hart() names must arrive here. Interrupts stay off, so it stays pending.
static void check_own_hart(void *unused)
{
    struct hart *h = this_hart();
    if (h < &harts[0] || h >= &harts[nharts]) {
        ktest_fail("tp (%p) does not point into harts[]", (void *)h);
        return;
    }
    push_off();
    clear_sip(SIP_SSIP);
    sbi_send_ipi(1, h->hartid);
    bool arrived = false;
    for (int i = 0; i < 1000000 && !arrived; i++)
        arrived = (r_sip() & SIP_SSIP) != 0;
    clear_sip(SIP_SSIP);
    pop_off();
    if (!arrived)
        ktest_fail("an IPI to hart %lu (the one tp names) did not arrive on this hart",
                   (unsigned long)h->hartid);
    if (!h->online)
        ktest_fail("hart %lu runs but is not marked online", (unsigned long)h->hartid);
}

static void test_harts(void)
{
    ipi_run_on_all(check_own_hart, NULL);
    int online = harts_online();
    if (online != nharts)
        ktest_fail("%d of %d harts online", online, nharts);
}

// ---- the runner -----------------------------------------------------------------------

static const struct ktest {
    const char *name;
    void (*run)(void);
    bool by_name_only;  // not in ktest=all: its verdict holds under icount only
} ktests[] = {
    { "kalloc", test_kalloc, false },
    { "spinlock", test_spinlock, false },
    { "timer", test_timer, false },
    { "harts", test_harts, false },
    { "sched_spread", ktest_sched_spread, false },
    { "sched_preempt", ktest_sched_preempt, false },
    { "sched_sleep", ktest_sched_sleep, false },
    { "sched_priority", ktest_sched_priority, false },
    { "sched_affinity", ktest_sched_affinity, false },
    // Its bound is a hundredth of a tick: under icount, exact; on a busy host, the host's
    // scheduling of QEMU's threads alone can exceed it.
    { "idle_race", ktest_idle_race, true },
};

// Is t named in the comma-separated list (or is the list "all", and t in it)?
static bool selected(const char *list, const struct ktest *t)
{
    if (strcmp(list, "all") == 0)
        return !t->by_name_only;
    const char *name = t->name;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (comma ? 1 : 0);
    }
    return false;
}

static bool known(const char *list)
{
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        bool found = len == 3 && strncmp(p, "all", 3) == 0;
        for (size_t i = 0; i < ARRAY_SIZE(ktests) && !found; i++)
            found = strlen(ktests[i].name) == len && strncmp(p, ktests[i].name, len) == 0;
        if (!found)
            return false;
        p += len + (comma ? 1 : 0);
    }
    return true;
}

static void ktest_run(const char *names, const char *nonce)
{
    if (!known(names)) {
        printf("ktest: unknown test in ktest=%s (have: all", names);
        for (size_t i = 0; i < ARRAY_SIZE(ktests); i++)
            printf(", %s", ktests[i].name);
        printf(")\n");
        power_off(POWER_TESTS_FAILED);
    }
    const char *sep = nonce ? " " : "";
    nonce = nonce ? nonce : "";
    int ran = 0, failed = 0;
    for (size_t i = 0; i < ARRAY_SIZE(ktests); i++) {
        if (!selected(names, &ktests[i]))
            continue;
        reset_shared();
        ktests[i].run();
        ran++;
        if (shared.failures) {
            failed++;
            printf("TEST %s: FAIL %s%s%s\n", ktests[i].name, shared.why, sep, nonce);
        } else {
            printf("TEST %s: ok%s%s\n", ktests[i].name, sep, nonce);
        }
    }
    if (failed)
        printf("ktest: %d of %d failed\n", failed, ran);
    else
        printf("ktest: all %d passed\n", ran);
    power_off(failed ? POWER_TESTS_FAILED : POWER_OK);
}

static struct {
    const char *names, *nonce;
} run_args;

static void ktest_thread(void *unused)
{
    ktest_run(run_args.names, run_args.nonce);
}

void ktest_start(const char *names, const char *nonce)
{
    run_args.names = names;
    run_args.nonce = nonce;
    // Pinned: ipi_run_on_all() must start and end on the same hart.
    struct thread *t = thread_create_kernel(ktest_thread, NULL, "ktest", PRIORITY_DEFAULT,
                                            1UL << this_hart()->index);
    if (!t)
        panic("ktest: cannot create the test thread");
    thread_put(t);  // it runs on its own reference
}
