// Fault injection: allocations that fail on purpose, so that every path that handles
// running out is run by the tests (issue 10), not just read. Boot arguments:
//
//   failalloc=N              every Nth allocation made for an injected process fails
//   failalloc=N failseed=S   each fails with chance 1 in N instead, drawn from seed S: the
//                            same allocation numbers fail on every boot with that seed
//   failin=NAME              only processes named NAME, and every process they create, are
//                            injected (without it: every process but init, servers
//                            included)
//
// A failed allocation looks exactly like running out: kalloc_page returns NULL, a table
// (threads, processes, endpoints, badge records) has no free slot. So callers have
// nothing to add; what injection proves is that each of them copes: the system call
// returns E_NOMEM or E_LIMIT, nothing panics, nothing leaks. The counts are printed at
// power off. Allocations made for the kernel itself (a kernel thread, boot) never fail.
#pragma once

#include <stdbool.h>

struct process;

enum fail_site {
    FAIL_PAGE,      // kalloc_page
    FAIL_THREAD,    // a thread table slot
    FAIL_PROCESS,   // a process table slot
    FAIL_ENDPOINT,  // an endpoint table slot
    FAIL_BADGE,     // a badge record (closing notices)
    FAIL_SITES
};

// Reads the boot arguments; before it, and without them, nothing fails.
void failalloc_init(void);
// True when this allocation, made by the calling thread, is to fail. Cheap when off.
bool failalloc_now(enum fail_site site);
// Whether a process named name, created by creator (NULL: by the kernel), is injected.
bool failalloc_injects(const char *name, const struct process *creator);
// One line with what failed, if injection is on.
void failalloc_report(void);
