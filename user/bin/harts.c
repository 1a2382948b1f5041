// harts: what each hart is doing, from the kernel's per-hart counters (sys_hart_stats):
// whether it is online, the pid of the process running there (0: the kernel or idle;
// the same pid ps shows), how many threads wait in its run queue, and the context
// switches, software interrupts (IPIs), timer ticks and preemptions it has counted since
// boot, and the IPC calls the fast path took (FAST) or handed to the general path (SLOW).
// Then the scheduler's: threads the hart stole from others' run queues (STEAL), threads
// others stole from its queue (PUSHED; both only under sched=perhart), threads switched
// to that ran last on another hart (MIGR), and run-queue lock acquisitions that found the
// lock taken (SPINS). Last, the migrating-thread RPC calls that entered a server there
// (RPC: lab 5). Running it twice shows the rates.
#include <stdio.h>

#include "ulib.h"

int main(int argc, char *argv[])
{
    struct sys_stats s;
    long err = sys_stats(&s);
    if (err < 0) {
        fprintf(stderr, "harts: sys_stats: %s\n", abi_strerror(err));
        return 1;
    }
    printf("HART HARTID ONLINE  PID RUNQ  SWITCHES     IPIS    TICKS  PREEMPT     FAST     SLOW"
           "   STEAL  PUSHED     MIGR    SPINS      RPC\n");
    for (uint64_t i = 0; i < s.nharts; i++) {
        struct hart_stats h;
        err = sys_hart_stats((int)i, &h);
        if (err < 0) {
            fprintf(stderr, "harts: hart %lu: %s\n", (unsigned long)i, abi_strerror(err));
            return 1;
        }
        printf("%4lu %6lu %6s %4lu %4lu %9lu %8lu %8lu %8lu %8lu %8lu %7lu %7lu %8lu %8lu %8lu\n",
               (unsigned long)i, (unsigned long)h.hartid, h.online ? "yes" : "no",
               (unsigned long)h.current_pid, (unsigned long)h.runqueue_len,
               (unsigned long)h.context_switches, (unsigned long)h.ipis, (unsigned long)h.ticks,
               (unsigned long)h.preemptions, (unsigned long)h.ipc_fast, (unsigned long)h.ipc_slow,
               (unsigned long)h.steals, (unsigned long)h.pushed, (unsigned long)h.migrations,
               (unsigned long)h.rq_spins, (unsigned long)h.rpc_calls);
    }
    return 0;
}
