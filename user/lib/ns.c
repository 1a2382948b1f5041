// The name server's client (see ns.h).
#include "ns.h"

#include <string.h>

#include "ipc.h"
#include "ulib.h"

#define DEAD_RETRIES   5
#define DEAD_PAUSE_NS  20000000ULL  // 20 ms: ns is being restarted
#define LOOKUP_POLL_NS 10000000ULL  // 10 ms between lookups that found nothing

static handle_t ns_handle;  // 0: the startup handle

void ns_use(handle_t ns)
{
    ns_handle = ns;
}

static handle_t ns_endpoint(void)
{
    return ns_handle ? ns_handle : startup_handle(STARTUP_H_NS);
}

// One request about a name; x may carry a handle either way. Returns the reply's w[0]
// or the call's error; an E_DEAD call is made again.
static long ns_call(uint64_t op, const char *name, struct ipc_msg *m, struct ipc_xfer *x)
{
    size_t len = strlen(name);
    if (len == 0 || len > NS_NAME_MAX)
        return E_INVAL;
    handle_t ns = ns_endpoint();
    if (!ns)
        return E_BADHANDLE;
    x->send_buf = (uint64_t)(uintptr_t)name;
    x->send_len = len;
    long err = E_DEAD;
    for (int i = 0; i < DEAD_RETRIES && err == E_DEAD; i++) {
        if (i)
            sys_sleep(DEAD_PAUSE_NS);
        *m = (struct ipc_msg){ .w = { op } };
        x->recv_handle = 0;
        err = ipc_call(ns, m, x);
    }
    return err < 0 ? err : (long)m->w[0];
}

long ns_register(const char *name, handle_t ep)
{
    struct ipc_msg m;
    struct ipc_xfer x = { .send_handle = ep, .send_rights = NS_RIGHTS };
    return ns_call(NS_REGISTER, name, &m, &x);
}

long ns_lookup(const char *name, handle_t *out)
{
    struct ipc_msg m;
    struct ipc_xfer x = { 0 };
    long err = ns_call(NS_LOOKUP, name, &m, &x);
    if (err == 0 && x.recv_handle == 0)
        err = E_NOENT;  // a reply without the handle it promised
    if (err < 0) {
        if (x.recv_handle)
            sys_handle_close(x.recv_handle);
        return err;
    }
    *out = x.recv_handle;
    return 0;
}

long ns_lookup_wait(const char *name, int timeout_ms, handle_t *out)
{
    uint64_t deadline = time_now() + time_from_ms(timeout_ms > 0 ? (uint64_t)timeout_ms : 0);
    for (;;) {
        long err = ns_lookup(name, out);
        if (err != E_NOENT || time_now() >= deadline)
            return err;
        sys_sleep(LOOKUP_POLL_NS);
    }
}

long ns_unregister(const char *name)
{
    struct ipc_msg m;
    struct ipc_xfer x = { 0 };
    return ns_call(NS_UNREGISTER, name, &m, &x);
}

long ns_list(char *buf, size_t size, int *count)
{
    handle_t ns = ns_endpoint();
    if (!ns)
        return E_BADHANDLE;
    if (size == 0)
        return E_INVAL;
    // Room for the longest reply ns may send; a smaller buffer would make its reply fail.
    char all[IPC_BUF_MAX];
    struct ipc_msg m = { .w = { NS_LIST } };
    struct ipc_xfer x = { .recv_buf = (uint64_t)(uintptr_t)all, .recv_cap = sizeof(all) };
    long err = ipc_call(ns, &m, &x);
    if (err == 0)
        err = (long)m.w[0];
    if (err < 0)
        return err;
    size_t n = x.recv_len < size - 1 ? x.recv_len : size - 1;
    memcpy(buf, all, n);
    buf[n] = '\0';
    if (count)
        *count = (int)m.w[1];
    return 0;
}
