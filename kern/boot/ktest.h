// Kernel self-tests, chosen with the boot argument ktest=NAME[,NAME...] or ktest=all.
// Each prints one line in the graders' contract (see DESIGN.md):
//   TEST <name>: ok <nonce>
//   TEST <name>: FAIL <why> <nonce>
// where <nonce> is the boot argument nonce=..., so a line cannot be faked by a
// program that prints a fixed string. Then the machine powers off: status 0 when
// every test passed, POWER_TESTS_FAILED otherwise.
#pragma once

// Starts the tests in a kernel thread pinned to this hart; it powers off at the end.
void ktest_start(const char *names, const char *nonce);

// For the tests: records a failure (the first reason is kept), prefixed with the hart.
void ktest_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

// The scheduler's tests (proc/sched_ktest.c).
void ktest_sched_spread(void);
void ktest_sched_preempt(void);
void ktest_sched_sleep(void);
void ktest_sched_priority(void);
void ktest_sched_affinity(void);
void ktest_idle_race(void);
