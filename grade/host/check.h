// A tiny test framework for the host unit tests.
//
//   CHECK(cond)           the condition holds
//   CHECK_EQ_INT(a, b)    two integers are equal (compared as 64-bit values)
//   CHECK_STR(a, b)       two strings are equal (either may be NULL)
//   check_done("name")    prints "name: N checks, M failed"; main returns its value
//   check_read_file(p, &n) a whole file in malloc'ed memory, or NULL
//
// A failed check prints file:line and the values, and the program goes on, so one run
// shows every failure. Each macro is an expression that is true when the check passed,
// so a caller can add context: `if (!CHECK_STR(got, want) && check_reporting()) ...`.
// Only the first CHECK_MAX_REPORTS failures are printed; the count includes them all.
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_MAX_REPORTS 40

static struct {
    long checks;
    long failed;
} check_totals;

// Counts a check; true when the failure should be printed.
static inline bool check_failure(const char *file, int line)
{
    check_totals.failed++;
    if (check_totals.failed > CHECK_MAX_REPORTS)
        return false;
    printf("%s:%d: FAIL ", file, line);
    return true;
}

// True while failures are still printed: for a caller's context lines.
static inline bool check_reporting(void)
{
    return check_totals.failed <= CHECK_MAX_REPORTS;
}

static inline bool check_true(bool ok, const char *expr, const char *file, int line)
{
    check_totals.checks++;
    if (!ok && check_failure(file, line))
        printf("CHECK(%s)\n", expr);
    return ok;
}

static inline bool check_eq_int(int64_t a, int64_t b, const char *ea, const char *eb,
                                const char *file, int line)
{
    check_totals.checks++;
    if (a == b)
        return true;
    if (check_failure(file, line))
        printf("%s == %s: got %lld (0x%llx), want %lld (0x%llx)\n", ea, eb, (long long)a,
               (unsigned long long)a, (long long)b, (unsigned long long)b);
    return false;
}

static inline bool check_str(const char *a, const char *b, const char *ea, const char *eb,
                             const char *file, int line)
{
    check_totals.checks++;
    if (a == b || (a && b && strcmp(a, b) == 0))
        return true;
    if (check_failure(file, line))
        printf("%s == %s: got \"%s\", want \"%s\"\n", ea, eb, a ? a : "(NULL)", b ? b : "(NULL)");
    return false;
}

#define CHECK(cond)        check_true((cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ_INT(a, b) check_eq_int((int64_t)(a), (int64_t)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_STR(a, b)    check_str((a), (b), #a, #b, __FILE__, __LINE__)

// The summary line; returns main's exit status.
static inline int check_done(const char *program)
{
    if (check_totals.failed > CHECK_MAX_REPORTS)
        printf("(%ld more failures not shown)\n", check_totals.failed - CHECK_MAX_REPORTS);
    printf("%s: %ld checks, %ld failed\n", program, check_totals.checks, check_totals.failed);
    return check_totals.failed ? 1 : 0;
}

// The whole file at path, in memory the caller frees, and its size; NULL when it
// cannot be read.
static inline uint8_t *check_read_file(const char *path, uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (n < 0 || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = (uint64_t)n;
    return buf;
}
