// kill: asks pm to kill each process named by pid (see ps). The pid is the kernel's, the
// one ps and harts show; pm can kill only the programs it started (a handle to a process
// is what it takes to kill one), so init and the servers are out of kill's reach.
#include <stdio.h>
#include <stdlib.h>

#include "pm.h"
#include "ulib.h"

// Why pm would not kill pid: E_NOENT means it did not start it; ps may still list it.
static const char *why(long pid, long err)
{
    static struct proc_info procs[64];
    if (err != E_NOENT)
        return abi_strerror(err);
    long n = sys_proc_list(procs, 64, 0);
    for (long i = 0; i < n; i++)
        if (procs[i].pid == pid)
            return "not started by pm (init and the servers cannot be killed)";
    return "no such process";
}

int main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: kill PID...\n");
        return 1;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        char *end;
        long pid = strtol(argv[i], &end, 10);
        if (*argv[i] == '\0' || *end != '\0' || pid <= 0) {
            fprintf(stderr, "kill: %s: not a pid\n", argv[i]);
            status = 1;
            continue;
        }
        long err = pm_kill(pid);
        if (err < 0) {
            fprintf(stderr, "kill: %ld: %s\n", pid, why(pid, err));
            status = 1;
        }
    }
    return status;
}
