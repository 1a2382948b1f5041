// The test runner of testsuite.h: one test at a time, its failures kept here.
#include "testsuite.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "server.h"
#include "ulib.h"
#include "uthread.h"

#define WHY_MAX 160

static const struct test_suite *suite;  // the one running
static const char *nonce = "";
static const char *current;  // the running test's name

static struct ulock fail_lock;  // test_fail() is called from the tests' threads too
// fail_lock must be held when using these:
static int failures;  // of the running test
static char first_why[WHY_MAX];
static bool quiet;  // test_quiet() was called: later failures go unprinted

void test_fail(const char *fmt, ...)
{
    char why[WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    for (char *p = why; *p; p++)
        if (*p == '\n')
            *p = ' ';  // one line each: the graders read lines
    ulock_acquire(&fail_lock);
    int n = failures++;
    if (n == 0)
        strcpy(first_why, why);
    bool also = n > 0 && n <= TEST_ALSO_MAX && !quiet;
    bool last = n == TEST_ALSO_MAX + 1 && !quiet;
    ulock_release(&fail_lock);
    if (also)
        printf("%s: %s: also: %s\n", suite->name, current, why);
    else if (last)
        printf("%s: %s: more failures not shown\n", suite->name, current);
}

bool test_failed(void)
{
    ulock_acquire(&fail_lock);
    bool failed = failures > 0;
    ulock_release(&fail_lock);
    return failed;
}

// ---- leak checks --------------------------------------------------------------------------

#define SETTLE_STEP_NS  (20 * 1000000ULL)
#define SETTLE_MAX_STEP 50

static struct sys_stats counts_now(void)
{
    struct sys_stats s;
    memset(&s, 0, sizeof(s));
    if (sys_stats(&s) < 0)
        test_fail("sys_stats failed");
    return s;
}

static bool same_counts(const struct sys_stats *a, const struct sys_stats *b)
{
    return a->free_pages == b->free_pages && a->handles == b->handles && a->threads == b->threads &&
           a->processes == b->processes && a->objects == b->objects && a->badges == b->badges;
}

static long visit(void *arg)
{
    return sys_thread_set_affinity(H_SELF_THREAD, 1ULL << (uintptr_t)arg);  // moves at once
}

// A thread pinned to each hart in turn. A hart keeps the address space it last ran
// loaded (and so referenced) until it runs another, and frees what died on it after it
// switched away: so a killed child whose hart then went idle would stay counted.
static void visit_every_hart(uint64_t nharts)
{
    for (uint64_t h = 0; h < nharts && h < 64; h++) {
        struct uthread t;
        if (uthread_start(&t, visit, (void *)(uintptr_t)h, UTHREAD_STACK_DEFAULT) == 0)
            uthread_join(&t, NULL);
    }
}

int test_nharts(void)
{
    struct sys_stats s;
    memset(&s, 0, sizeof s);
    if (sys_stats(&s) < 0 || s.nharts < 1 || s.nharts > 64) {
        test_fail("sys_stats failed or says %lu harts", (unsigned long)s.nharts);
        return 1;
    }
    return (int)s.nharts;
}

long test_pin_self(int hart)
{
    long r = sys_thread_set_affinity(H_SELF_THREAD, 1ULL << hart);
    if (r == 0 && sys_hart_self() != hart)
        return -1;
    return r;
}

int test_start_threads(struct uthread *t, int n, long (*fn)(void *), void **args)
{
    int started = 0;
    for (int i = 0; i < n; i++) {
        void *arg = args ? args[i] : (void *)(uintptr_t)i;
        long r = uthread_start(&t[i], fn, arg, UTHREAD_STACK_DEFAULT);
        if (r < 0) {
            test_fail("uthread_start: %s", abi_strerror(r));
            t[i].handle = 0;
        } else {
            started++;
        }
    }
    return started;
}

void test_join_threads(struct uthread *t, int n, long *values)
{
    for (int i = 0; i < n; i++) {
        long v = -999, r = t[i].handle != 0 ? uthread_join(&t[i], &v) : 0;
        if (r < 0)
            test_fail("sys_thread_join: %s", abi_strerror(r));
        if (values)
            values[i] = v;
    }
}

struct sys_stats test_counts_settled(void)
{
    struct sys_stats prev = counts_now();
    visit_every_hart(prev.nharts);
    prev = counts_now();
    for (int i = 0; i < SETTLE_MAX_STEP; i++) {
        sys_sleep(SETTLE_STEP_NS);
        struct sys_stats now = counts_now();
        if (same_counts(&prev, &now))
            return now;
        prev = now;
    }
    return prev;
}

void test_expect_counts(const struct sys_stats *before, const char *what)
{
    struct sys_stats after = test_counts_settled();
    for (int i = 0; i < SETTLE_MAX_STEP && !same_counts(before, &after); i++) {
        sys_sleep(SETTLE_STEP_NS);
        after = counts_now();
    }
    if (same_counts(before, &after))
        return;
    test_fail("%s: free pages %lu -> %lu, handles %lu -> %lu, threads %lu -> %lu, processes "
              "%lu -> %lu, objects %lu -> %lu, badges %lu -> %lu",
              what, (unsigned long)before->free_pages, (unsigned long)after.free_pages,
              (unsigned long)before->handles, (unsigned long)after.handles,
              (unsigned long)before->threads, (unsigned long)after.threads,
              (unsigned long)before->processes, (unsigned long)after.processes,
              (unsigned long)before->objects, (unsigned long)after.objects,
              (unsigned long)before->badges, (unsigned long)after.badges);
}

void test_quiet(void)
{
    ulock_acquire(&fail_lock);
    quiet = true;
    ulock_release(&fail_lock);
}

// True when the n characters at word are the name.
static bool word_is(const char *word, size_t n, const char *name)
{
    return strlen(name) == n && strncmp(word, name, n) == 0;
}

// True when t is named in the comma-separated list; with no list (NULL or ""), every
// test that is not interactive.
static bool selected(const char *list, const struct test_case *t)
{
    if (!list || !*list)
        return !(t->flags & TEST_INTERACTIVE);
    for (const char *p = list; *p; p += *p == ',') {
        size_t n = strcspn(p, ",");
        if (word_is(p, n, t->name))
            return true;
        p += n;
    }
    return false;
}

// Names in the list that are no test: each counts as a failure.
static int unknown_names(const char *list)
{
    int bad = 0;
    for (const char *p = list; p && *p; p += *p == ',') {
        size_t n = strcspn(p, ",");
        bool found = false;
        for (int i = 0; i < suite->ntests; i++)
            found |= word_is(p, n, suite->tests[i].name);
        if (!found && n) {
            printf("%s: no test called %.*s\n", suite->name, (int)n, p);
            bad++;
        }
        p += n;
    }
    return bad;
}

// Runs t (unless the suite's precondition fails it) and prints its TEST line.
static bool run_test(const struct test_case *t)
{
    current = t->name;
    ulock_acquire(&fail_lock);
    failures = 0;
    quiet = false;
    first_why[0] = '\0';
    ulock_release(&fail_lock);
    const char *why = suite->precondition ? suite->precondition(t) : NULL;
    if (why)
        test_fail("%s", why);
    else
        t->fn();
    // A thread the test gave up waiting for may still fail it: read under the lock.
    char first[WHY_MAX];
    ulock_acquire(&fail_lock);
    bool ok = failures == 0;
    strcpy(first, first_why);
    ulock_release(&fail_lock);
    if (ok)
        printf("TEST %s: ok%s%s\n", t->name, *nonce ? " " : "", nonce);
    else
        printf("TEST %s: FAIL %s%s%s\n", t->name, first, *nonce ? " " : "", nonce);
    return ok;
}

int test_suite_main(const struct test_suite *s, int argc, char *argv[])
{
    suite = s;
    nonce = nonce_from_argv(argc, argv);
    const char *list = arg_value(argc, argv, s->name);
    int failed = unknown_names(list), passed = 0;
    for (int i = 0; i < s->ntests; i++) {
        if (!selected(list, &s->tests[i]))
            continue;
        if (run_test(&s->tests[i]))
            passed++;
        else
            failed++;
    }
    printf("%s: %d of %d passed\n", s->name, passed, passed + failed);
    return failed ? 1 : 0;
}
