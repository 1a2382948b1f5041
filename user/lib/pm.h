// The process manager's protocol and client. pm starts programs from the boot archive,
// keeps a table of them, waits for and kills them; its endpoint is registered in ns as
// "pm". A pid is the kernel's number for the process (sys_process_pid), the one `ps`,
// `harts` and the kernel's messages show; pm waits for and kills only its own children.
//
//   op           request                                 reply
//   PM_STDIO     a stream handle transferred             w[1] = a token naming it
//   PM_SPAWN     w[1..3] = tokens for stdin, stdout,     w[1] = the pid
//                stderr (0: none); the buffer holds the
//                path, '\0', then argv[0], '\0', ...
//   PM_SPAWN_IN  as PM_SPAWN, but the buffer starts      w[1] = the pid
//                with the child's current directory:
//                cwd, '\0', path, '\0', argv[0], ...
//   PM_WAIT      w[1] = pid                              w[1] = its exit status, once it
//                                                        has exited; the pid is then gone
//   PM_KILL      w[1] = pid                              -
//   PM_LIST      -                                       w[1] = count; the buffer holds
//                                                        count struct pm_proc
//
// A message carries one handle, so the three stdio handles go first, one PM_STDIO each,
// and PM_SPAWN names them by token; a token is used up by the PM_SPAWN naming it, and
// pm forgets unused ones when it needs room. A child starts in the directory
// PM_SPAWN_IN names (absolute, at most FS_PATH_MAX bytes from fs.h, else E_INVAL), or
// in "/" for PM_SPAWN, whose format stays as it was: the op says which the buffer has.
// PM_WAIT answers only when the child has exited, and meanwhile pm serves others on
// other threads; when too many waits are already pending it answers E_AGAIN at once,
// and pm_wait tries again a little later.
//
// Client functions, each returning a negative E_* on failure:
//
//   pm_spawn(path, argv, in, out, err)   the child's pid; argv NULL means { path };
//                                        in/out/err 0 leave that slot empty; the
//                                        child starts in our directory (fs_cwd())
//   pm_wait(pid, &status)                0; waits for the child to exit
//   pm_kill(pid)                         0; the child exits with EXIT_KILLED
//   pm_list(procs, max)                  how many entries it filled in
//
// A call that fails with E_DEAD (pm died answering it) makes the next call look "pm" up
// again; pm_kill and pm_list are then tried again at once. A restarted pm knows none of
// the old pm's children: pm_wait and pm_kill on them say E_NOENT.
#pragma once

#include <stdint.h>

#include <abi/types.h>

#include "stream.h"

#define PM_STDIO    (STREAM_OP_USER + 0)
#define PM_SPAWN    (STREAM_OP_USER + 1)
#define PM_WAIT     (STREAM_OP_USER + 2)
#define PM_KILL     (STREAM_OP_USER + 3)
#define PM_LIST     (STREAM_OP_USER + 4)
#define PM_SPAWN_IN (STREAM_OP_USER + 5)  // PM_SPAWN with a current directory

#define PM_ARGV_MAX 32  // arguments PM_SPAWN takes, argv[0] included
#define PM_NAME_MAX 15  // a process name's length (the kernel's limit)

enum pm_state {
    PM_STARTING = 1,  // being loaded
    PM_RUNNING = 2,
    PM_EXITED = 3,  // exited, its status not yet collected by PM_WAIT
};

struct pm_proc {
    int32_t pid;
    int32_t state;   // enum pm_state
    int32_t status;  // the exit status, once PM_EXITED
    uint32_t pad;
    char name[PM_NAME_MAX + 1];
};
_Static_assert(sizeof(struct pm_proc) == 32, "struct pm_proc is part of pm's protocol");

long pm_spawn(const char *path, char *const argv[], handle_t in, handle_t out, handle_t err);
long pm_wait(long pid, int *status);
long pm_kill(long pid);
long pm_list(struct pm_proc *procs, int max);
