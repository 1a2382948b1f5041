// The client of init's control endpoint (see initctl.h). Each call looks "init" up in
// ns: these are rare calls from tests and tools, not worth a cached handle.
#include "initctl.h"

#include <string.h>

#include "ipc.h"
#include "ns.h"
#include "ulib.h"

#define INIT_LOOKUP_MS 5000

static long init_call(uint64_t op, const char *server, struct ipc_msg *m)
{
    handle_t h;
    long err = ns_lookup_wait("init", INIT_LOOKUP_MS, &h);
    if (err < 0)
        return err;
    *m = (struct ipc_msg){ .w = { op } };
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)server, .send_len = strlen(server) };
    err = ipc_call(h, m, &x);
    sys_handle_close(h);
    return err < 0 ? err : (long)m->w[0];
}

long init_kill(const char *server)
{
    struct ipc_msg m;
    return init_call(INIT_KILL, server, &m);
}

long init_info(const char *server, int *restarts, bool *running)
{
    struct ipc_msg m;
    long err = init_call(INIT_INFO, server, &m);
    if (err < 0)
        return err;
    if (restarts)
        *restarts = (int)m.w[1];
    if (running)
        *running = m.w[2] != 0;
    return 0;
}
