// ps: every process there is, from the kernel (sys_proc_list): its pid (the kernel's, the
// one kill, harts and the kernel's messages use), state, the hart it runs on now, its
// threads, the memory it has mapped, and its name. Zombies show their exit status.
#include <stdio.h>

#include "ulib.h"

#define PROCS_MAX 64  // the kernel's process table (NPROC)

static const char *state_name(int32_t state)
{
    switch (state) {
    case PROC_NEW: return "new";
    case PROC_RUNNING: return "running";
    case PROC_WAITING: return "waiting";
    case PROC_ZOMBIE: return "zombie";
    default: return "?";
    }
}

int main(int argc, char *argv[])
{
    static struct proc_info procs[PROCS_MAX];
    long n = sys_proc_list(procs, PROCS_MAX, 0);
    if (n < 0) {
        fprintf(stderr, "ps: proc_list: %s\n", abi_strerror(n));
        return 1;
    }
    printf("  PID STATE   HART THREADS    MEM NAME\n");
    for (long i = 0; i < n; i++) {
        const struct proc_info *p = &procs[i];
        char hart[12] = "-";
        if (p->hart >= 0)
            snprintf(hart, sizeof hart, "%d", p->hart);
        printf("%5d %-7s %4s %7u %5luK %s", p->pid, state_name(p->state), hart, p->threads,
               (unsigned long)p->pages * 4, p->name);
        if (p->state == PROC_ZOMBIE)
            printf(" (status %#x)", p->exit_status);
        printf("\n");
    }
    return 0;
}
