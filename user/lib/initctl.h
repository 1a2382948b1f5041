// init's control endpoint, registered in ns as "init": a hook for tests and tools to
// see init's servers and to kill one, so that init's restarting can be watched.
//
//   op          request                      reply
//   INIT_KILL   a server's name in the       -; init kills it and, as for any death,
//               buffer ("ns", "con", ...)    starts it again after its back-off
//                                            (E_NOENT: no such server; E_AGAIN: it is
//                                            between incarnations)
//   INIT_INFO   a server's name              w[1] = times it was restarted,
//                                            w[2] = 1 when it runs now
//   INIT_POWEROFF  w[1] = exit status        (no reply: the machine is off; only
//                                            init may call sys_poweroff)
//
// Client functions, each 0 or a negative E_*:
//
//   init_kill(name)
//   init_info(name, &restarts, &running)
#pragma once

#include <stdbool.h>

#include "stream.h"

#define INIT_KILL     (STREAM_OP_USER + 0)
#define INIT_INFO     (STREAM_OP_USER + 1)
#define INIT_POWEROFF (STREAM_OP_USER + 2)

long init_kill(const char *server);
long init_info(const char *server, int *restarts, bool *running);
