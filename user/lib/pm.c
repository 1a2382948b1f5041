// The process manager's client (see pm.h). pm's endpoint is looked up in ns on first
// use and kept until a call fails with E_DEAD.
#include "pm.h"

#include <string.h>

#include "fs.h"
#include "ipc.h"
#include "ns.h"
#include "server.h"
#include "ulib.h"

#define PM_LOOKUP_MS 5000         // how long to wait for pm to register at boot
#define WAIT_POLL_NS 10000000ULL  // 10 ms between PM_WAITs that pm answered E_AGAIN

static struct ulock pm_lock;
static handle_t pm_handle;  // pm_lock must be held when using it

static long pm_endpoint(handle_t *out)
{
    long err = 0;
    ulock_acquire(&pm_lock);
    if (!pm_handle)
        err = ns_lookup_wait("pm", PM_LOOKUP_MS, &pm_handle);
    *out = pm_handle;
    ulock_release(&pm_lock);
    return err;
}

// pm died under us: the next call looks the name up again.
static void pm_forget(handle_t h)
{
    ulock_acquire(&pm_lock);
    if (pm_handle == h) {
        sys_handle_close(h);
        pm_handle = 0;
    }
    ulock_release(&pm_lock);
}

// One request; returns the reply's status. retry: a request safe to make twice is
// made again, on a fresh handle, when pm died answering it.
static long pm_call(struct ipc_msg *m, struct ipc_xfer *x, bool retry)
{
    struct ipc_msg req = *m;
    for (int i = 0;; i++) {
        handle_t pm;
        long err = pm_endpoint(&pm);
        if (err < 0)
            return err;
        *m = req;
        err = ipc_call(pm, m, x);
        if (err == E_DEAD)
            pm_forget(pm);
        if (err == E_DEAD && retry && i == 0)
            continue;
        return err < 0 ? err : (long)m->w[0];
    }
}

// Hands h to pm; *token names it in PM_SPAWN.
static long pm_stdio(handle_t h, uint64_t *token)
{
    struct ipc_msg m = { .w = { PM_STDIO } };
    struct ipc_xfer x = { .send_handle = h, .send_rights = RIGHT_SEND | RIGHT_TRANSFER };
    long err = pm_call(&m, &x, false);
    if (err == 0)
        *token = m.w[1];
    return err;
}

// Appends s and its '\0' to buf, which holds *len bytes of IPC_BUF_MAX.
static long pack_string(char *buf, size_t *len, const char *s)
{
    size_t n = strlen(s) + 1;
    if (*len + n > IPC_BUF_MAX)
        return E_TOOBIG;
    memcpy(buf + *len, s, n);
    *len += n;
    return 0;
}

// cwd '\0' path '\0' argv[0] '\0' ... into buf (PM_SPAWN_IN's format); the length, or
// E_TOOBIG.
static long pack_args(char *buf, const char *cwd, const char *path, char *const argv[])
{
    size_t len = 0;
    long err = pack_string(buf, &len, cwd);
    if (err == 0)
        err = pack_string(buf, &len, path);
    if (err == 0 && !argv)
        err = pack_string(buf, &len, path);  // argv NULL means { path }
    for (int i = 0; err == 0 && argv && argv[i]; i++)
        err = i < PM_ARGV_MAX ? pack_string(buf, &len, argv[i]) : E_TOOBIG;
    return err < 0 ? err : (long)len;
}

long pm_spawn(const char *path, char *const argv[], handle_t in, handle_t out, handle_t err)
{
    char buf[IPC_BUF_MAX];
    long len = pack_args(buf, fs_cwd(), path, argv);
    if (len < 0)
        return len;
    // One token per distinct handle: stdout and stderr are usually the same stream.
    handle_t hs[3] = { in, out, err };
    uint64_t tokens[3] = { 0, 0, 0 };
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < i && !tokens[i]; j++)
            if (hs[j] == hs[i])
                tokens[i] = tokens[j];
        long e = hs[i] && !tokens[i] ? pm_stdio(hs[i], &tokens[i]) : 0;
        if (e < 0)
            return e;
    }
    struct ipc_msg m = { .w = { PM_SPAWN_IN, tokens[0], tokens[1], tokens[2] } };
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)buf, .send_len = (uint64_t)len };
    long e = pm_call(&m, &x, false);
    return e < 0 ? e : (long)m.w[1];
}

long pm_wait(long pid, int *status)
{
    for (;;) {
        struct ipc_msg m = { .w = { PM_WAIT, (uint64_t)pid } };
        long err = pm_call(&m, NULL, false);
        if (err == E_AGAIN) {  // pm has too many waits pending: ask again later
            sys_sleep(WAIT_POLL_NS);
            continue;
        }
        if (err == 0 && status)
            *status = (int)m.w[1];
        return err;
    }
}

long pm_kill(long pid)
{
    struct ipc_msg m = { .w = { PM_KILL, (uint64_t)pid } };
    return pm_call(&m, NULL, true);
}

long pm_list(struct pm_proc *procs, int max)
{
    struct pm_proc all[IPC_BUF_MAX / sizeof(struct pm_proc)];
    struct ipc_msg m = { .w = { PM_LIST } };
    struct ipc_xfer x = { .recv_buf = (uint64_t)(uintptr_t)all, .recv_cap = sizeof(all) };
    long err = pm_call(&m, &x, true);
    if (err < 0)
        return err;
    long n = (long)(x.recv_len / sizeof(struct pm_proc));
    if (n > max)
        n = max;
    if (n > 0)
        memcpy(procs, all, (size_t)n * sizeof(*procs));
    return n;
}
