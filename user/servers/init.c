// init: the first user process. The kernel starts it from the boot archive with
// argv = ["init", <each word of the boot arguments>] and the archive itself as startup
// handle STARTUP_H_BOOTFS.
//
// With the boot argument `usertests` (or `usertests=NAME,...`) init runs the user test
// suite, passing it every boot argument (the grader's nonce=... among them) and the boot
// archive, and powers the machine off with the suite's verdict. Otherwise it starts the
// system's servers (none yet) and stays, as the parent of everything.
#include <stdio.h>

#include "bootfs.h"
#include "spawn.h"
#include "ulib.h"

#define IDLE_NS 1000000000ULL

// What the kernel's own statuses mean, for the exit line: "" for a program's own.
static const char *status_note(int status)
{
    if (status == EXIT_FAULT)
        return " (EXIT_FAULT)";
    if (status == EXIT_KILLED)
        return " (EXIT_KILLED)";
    return "";
}

// Spawns path with argv and the boot archive, waits for it; returns its exit status,
// or -1 when it could not be started or waited for.
static int run_and_wait(const char *path, char *argv[])
{
    handle_t give[] = { bootfs_handle() };
    handle_t proc;
    long r = spawn_from_bootfs(path, argv, give, 1, &proc);
    if (r < 0) {
        printf("init: cannot start %s: %s\n", path, abi_strerror(r));
        return -1;
    }
    int status = -1;
    r = sys_process_wait(proc, &status);
    sys_handle_close(proc);
    if (r < 0) {
        printf("init: waiting for %s: %s\n", path, abi_strerror(r));
        return -1;
    }
    return status;
}

// usertests gets init's own words, argv[0] replaced.
static int run_usertests(int argc, char *argv[])
{
    argv[0] = "usertests";
    int status = run_and_wait("usertests", argv);
    if (status != -1)
        printf("init: usertests exited with status %d%s\n", status, status_note(status));
    return status;
}

// The servers init will start from the boot archive (ns, con, pm, fs) and restart when
// they die: none exist yet.
static void start_servers(void)
{
    printf("init: no servers yet; idling\n");
}

int main(int argc, char *argv[])
{
    printf("init: starting\n");
    if (arg_flag(argc, argv, "usertests")) {
        int status = run_usertests(argc, argv);
        console_flush();
        sys_poweroff(status == 0 ? 0 : 1);
    }
    start_servers();
    for (;;)
        sys_sleep(IDLE_NS);
}
