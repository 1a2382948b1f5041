// The runner the user test programs share (usertests, ipctests, servertests, kvstests).
// A program lists its tests in a struct test_suite and hands it to test_suite_main(); the
// tests report with test_fail(). What the graders in grade/ read, for a suite "S":
//
//   S: no test called NAME            NAME in S=NAME,... is no test: counts as a failure
//   TEST <name>: ok <nonce>           a test that passed
//   TEST <name>: FAIL <why> <nonce>   a test that failed; <why> is its first failure
//   S: <name>: also: <why>            each later failure, up to TEST_ALSO_MAX of them,
//   S: <name>: more failures not shown        then this line, once
//   S: X of Y passed                  last
//
// The nonce is the word nonce=...'s, left out (with its space) when absent. The exit
// status is 0 when all passed, else 1.
//
// With the word S=NAME,NAME only those tests run, in the suite's order; without it,
// every test but the TEST_INTERACTIVE ones.
//
//   test_fail(fmt, ...)     the running test failed, and why (any thread may call it)
//   test_failed()           true once the running test has failed: to stop a long loop
//   test_quiet()            the running test's later failures count but are not printed
//                           (kvstests: a stub answered E_NOSYS, what follows is no news)
//
// Leak checks compare the kernel's counts (sys_stats) when they stand still:
//
//   test_counts_settled()        the counts once every hart has run and two readings
//                                20 ms apart agree (a dead thread's hart frees it a
//                                moment after its process was reaped); at most about 1 s
//   test_expect_counts(&before, what)   fails unless free pages, handles, threads,
//                                processes, kernel objects and watched badges are back
//                                where they were (waits while they move)
//
// Threads and harts, for the tests that place threads:
//
//   test_nharts()                     harts the machine has (sys_stats)
//   test_pin_self(hart)               pins the calling thread there (it moves at once);
//                                     0, or a negative E_* (-1: it did not move)
//   test_start_threads(t, n, fn, args)  n threads running fn(args[i]), or fn(i) when args
//                                     is NULL; returns how many started (a thread that
//                                     did not has handle 0)
//   test_join_threads(t, n, values)   joins them; values[i] (when values is not NULL)
//                                     gets each one's result, -999 for one never started
#pragma once

#include <stdbool.h>

#include <abi/types.h>

#include "uthread.h"

#define TEST_ALSO_MAX 8  // failures of one test shown beyond its first

// Flags of a struct test_case. The runner heeds TEST_INTERACTIVE; the others are for the
// suite's precondition.
#define TEST_INTERACTIVE  (1u << 0)  // runs only when named: it waits for someone to type
#define TEST_NEEDS_BOOTFS (1u << 1)  // starts programs from the boot archive

struct test_case {
    const char *name;
    void (*fn)(void);
    unsigned flags;  // TEST_*
};

struct test_suite {
    const char *name;  // the program's name: its argument's key and its lines' prefix
    const struct test_case *tests;
    int ntests;
    // NULL when t can run; else why t fails without running. NULL: every test can run.
    const char *(*precondition)(const struct test_case *t);
};

// Runs the suite as argv selects; returns the exit status for main.
int test_suite_main(const struct test_suite *s, int argc, char *argv[]);

void test_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
bool test_failed(void);
void test_quiet(void);

struct sys_stats test_counts_settled(void);
void test_expect_counts(const struct sys_stats *before, const char *what);

int test_nharts(void);
long test_pin_self(int hart);
int test_start_threads(struct uthread *t, int n, long (*fn)(void *), void **args);
void test_join_threads(struct uthread *t, int n, long *values);
