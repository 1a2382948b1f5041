// The console server's client (see con.h). The endpoint is looked up in ns once and
// kept; a call that fails with E_DEAD (con died while answering) looks it up again and
// is made once more: every con request is safe to repeat.
#include "con.h"

#include "ipc.h"
#include "ns.h"
#include "server.h"
#include "ulib.h"

#define CON_LOOKUP_MS 5000  // how long to wait for con to register at boot

static struct ulock con_lock;
// con_lock must be held when using these:
static handle_t con_handle;  // from ns: ours to close
static handle_t con_given;   // from con_use: the caller's, used as it is

void con_use(handle_t con)
{
    ulock_acquire(&con_lock);
    con_given = con;
    ulock_release(&con_lock);
}

// The endpoint, looked up when there is none yet (or again, when forget is set).
static long con_endpoint(bool forget, handle_t *out)
{
    long err = 0;
    ulock_acquire(&con_lock);
    if (con_given) {
        *out = con_given;
        ulock_release(&con_lock);
        return 0;
    }
    if (forget && con_handle) {
        sys_handle_close(con_handle);
        con_handle = 0;
    }
    if (!con_handle)
        err = ns_lookup_wait("con", CON_LOOKUP_MS, &con_handle);
    *out = con_handle;
    ulock_release(&con_lock);
    return err;
}

// One request; x (may be NULL) receives a handle. Returns the reply's status.
static long con_call(struct ipc_msg *m, struct ipc_xfer *x)
{
    struct ipc_msg req = *m;
    long err = E_DEAD;
    for (int i = 0; i < 2 && err == E_DEAD; i++) {
        handle_t con;
        err = con_endpoint(i > 0, &con);
        if (err < 0)
            return err;
        *m = req;
        err = ipc_call(con, m, x);
    }
    return err < 0 ? err : (long)m->w[0];
}

long con_open(handle_t *out)
{
    struct ipc_msg m = { .w = { CON_OPEN } };
    struct ipc_xfer x = { 0 };
    long err = con_call(&m, &x);
    if (err == 0 && x.recv_handle == 0)
        err = E_NOENT;
    if (err < 0) {
        if (x.recv_handle)
            sys_handle_close(x.recv_handle);
        return err;
    }
    *out = x.recv_handle;
    return 0;
}

long con_set_foreground(long pid)
{
    struct ipc_msg m = { .w = { CON_SET_FOREGROUND, (uint64_t)pid } };
    return con_call(&m, NULL);
}

long con_foreground(void)
{
    struct ipc_msg m = { .w = { CON_GET_FOREGROUND } };
    long err = con_call(&m, NULL);
    return err < 0 ? err : (long)m.w[1];
}
