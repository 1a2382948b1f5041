// kill: asks pm to kill each process named by pid (see ps).
#include <stdio.h>
#include <stdlib.h>

#include "pm.h"
#include "ulib.h"

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
            fprintf(stderr, "kill: %ld: %s\n", pid,
                    err == E_NOENT ? "no such process" : abi_strerror(err));
            status = 1;
        }
    }
    return status;
}
