// ps: the processes pm has started, with their state: a line each.
#include <stdio.h>

#include "pm.h"
#include "ulib.h"

#define PROCS_MAX 64

static const char *state_name(int32_t state)
{
    switch (state) {
    case PM_STARTING: return "starting";
    case PM_RUNNING: return "running";
    case PM_EXITED: return "exited";
    default: return "?";
    }
}

int main(int argc, char *argv[])
{
    static struct pm_proc procs[PROCS_MAX];
    long n = pm_list(procs, PROCS_MAX);
    if (n < 0) {
        fprintf(stderr, "ps: cannot ask pm: %s\n", abi_strerror(n));
        return 1;
    }
    printf("  PID STATE     NAME\n");
    for (long i = 0; i < n; i++) {
        printf("%5d %-9s %s", procs[i].pid, state_name(procs[i].state), procs[i].name);
        if (procs[i].state == PM_EXITED)
            printf(" (status %d)", procs[i].status);
        printf("\n");
    }
    return 0;
}
