// The key-value server's client (see kvs.h). kvs's endpoint is looked up in ns on first
// use and kept until a message fails with E_DEAD, as pm's client does (pm.c); an RPC that
// fails so keeps it (kvs_ask_again says why).
//
// Why look it up again at all, when init keeps kvs's endpoint across restarts and the
// old handle would reach the new kvs? Because that is init's choice, not the protocol's:
// a kvs started some other way would register an endpoint of its own, and a client that
// looks the name up again after E_DEAD works with both.
#include "kvs.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ipc.h"
#include "ns.h"
#include "rpc.h"
#include "server.h"
#include "ulib.h"

#define KVS_LOOKUP_MS    2000  // init registers kvs before any program runs: a short wait
#define KVS_TRIES        3     // calls on a handle another thread closed under us
#define KVS_ASK_TRIES    50    // kvs_ask_again: asking until a new kvs answers, at most ...
#define KVS_ASK_PAUSE_MS 10    // ... this far apart

static struct ulock kvs_lock;
static handle_t kvs_handle;  // kvs_lock must be held when using these; 0: look it up first
static bool kvs_asked;       // whether kvs_handle's kvs takes RPC is known: kvs_by_rpc
static bool kvs_by_rpc;      // it registered an RPC entry (kvs=rpc: lab 5): call that
static uint64_t kvs_pid;     // the kvs that said so

// (These are for exercise 3: until it is written, "unused" keeps the build quiet.)

// Whether the kvs behind h takes RPC (lab 5: booted with kvs=rpc). Asked by message:
// kvs registers its entry before it answers its first message, so a client that asked
// too early cannot miss it (a kvs without the question answers E_INVAL: no).
static long kvs_ask(handle_t h)
{
    struct ipc_msg m = { .w = { KVS_RPC } };
    long err = ipc_call(h, &m, NULL);
    kvs_by_rpc = err == 0 && m.w[0] == 0 && m.w[1] == 1;
    kvs_pid = err == 0 ? m.w[2] : 0;
    kvs_asked = true;
    return err;
}

// Whether to call h by RPC; asks its kvs the first time.
static bool kvs_takes_rpc(handle_t h)
{
    ulock_acquire(&kvs_lock);
    if (kvs_handle == h && !kvs_asked)
        kvs_ask(h);
    bool by_rpc = kvs_handle == h && kvs_by_rpc;
    ulock_release(&kvs_lock);
    return by_rpc;
}

// An RPC to h failed with E_DEAD: its kvs ended, and init restarts it on the same
// endpoint, which keeps the handle good. A message would wait in the endpoint's queue
// for the next kvs; a call finds no entry until that kvs registers one, and fails again
// at once, for as long as the old one takes to die and the new one to start. So before
// the E_DEAD goes back, the question is asked again, by message, until another kvs
// answers it (the dying one may take a message or two while its kill goes around), and
// the calls after go the way that one says. (Looking the name up again instead would
// close the handle under every other thread.)
static void kvs_ask_again(handle_t h)
{
    ulock_acquire(&kvs_lock);
    uint64_t dead = kvs_pid;
    for (int i = 0; kvs_handle == h && i < KVS_ASK_TRIES; i++) {
        long err = kvs_ask(h);
        if (err != E_DEAD && (err < 0 || kvs_pid != dead))
            break;
        sys_sleep(KVS_ASK_PAUSE_MS * 1000000ULL);
    }
    ulock_release(&kvs_lock);
}

// One request as an RPC: m's words and x's bytes in, the reply's out (kvs_rpc in
// servers/kvs.c is the other side). Returns the call's own error, or 0 with the reply
// in m (and x's receive part) as a message's would be.
static long kvs_rpc_call(handle_t h, struct ipc_msg *m, struct ipc_xfer *x)
{
    uint8_t window[IPC_BUF_MAX];
    uint64_t len = x ? x->send_len : 0;
    if (len > sizeof window)
        return E_TOOBIG;
    if (len)
        memcpy(window, (const void *)(uintptr_t)x->send_buf, len);
    uint64_t w[4] = { m->w[0], m->w[1], m->w[2], len };
    long err = rpc_call_window(h, w, window, sizeof window);
    if (err < 0)
        return err;
    memcpy(m->w, w, sizeof w);
    if (x && x->recv_buf) {
        if (w[3] > x->recv_cap)
            return E_TOOBIG;  // as a message's reply bigger than its room would be
        memcpy((void *)(uintptr_t)x->recv_buf, window, w[3]);
        x->recv_len = w[3];
    }
    return 0;
}

// The handle to call kvs with: E_BADHANDLE when ns has no "kvs".
__attribute__((unused)) static long kvs_endpoint(handle_t *out)
{
    long err = 0;
    ulock_acquire(&kvs_lock);
    if (!kvs_handle) {
        err = ns_lookup_wait("kvs", KVS_LOOKUP_MS, &kvs_handle);
        kvs_asked = false;
    }
    *out = kvs_handle;
    ulock_release(&kvs_lock);
    return err == E_NOENT ? E_BADHANDLE : err;  // E_NOENT means "no such key" here
}

// kvs died under us: the next call looks the name up again.
__attribute__((unused)) static void kvs_forget(handle_t h)
{
    ulock_acquire(&kvs_lock);
    if (kvs_handle == h) {
        sys_handle_close(h);
        kvs_handle = 0;
    }
    ulock_release(&kvs_lock);
}

// True when h is no longer the handle calls use: another thread forgot it.
__attribute__((unused)) static bool kvs_replaced(handle_t h)
{
    ulock_acquire(&kvs_lock);
    bool replaced = kvs_handle != h;
    ulock_release(&kvs_lock);
    return replaced;
}

const char *kvs_interface(void)
{
    ulock_acquire(&kvs_lock);
    const char *how = !kvs_handle || !kvs_asked ? NULL : kvs_by_rpc ? "rpc" : "msg";
    ulock_release(&kvs_lock);
    return how;
}

const char *kvs_strerror(long err)
{
    switch (err) {
    case 0: return "ok";
    case E_NOENT: return "no such key";
    case E_TOOBIG: return "too long (keys 1..64 bytes, values at most 1024)";
    case E_LIMIT: return "the store is full (256 keys): delete one first";
    case E_INVAL: return "invalid request (an empty key, or a NUL or newline in it)";
    case E_DEAD: return "kvs died during the request (it restarts with an empty store)";
    case E_BADHANDLE: return "no kvs server (ns has no \"kvs\")";
    case E_NOMEM: return "kvs is out of memory";
    case E_NOSYS: return "not implemented (lab 2 is not done)";
    default: return abi_strerror(err);
    }
}

// What a stub says once per process, the first time it is called.
__attribute__((unused)) static long lab2_not_done(const char *function)
{
    static bool said;
    if (!said) {
        said = true;
        printf("lab2: exercise 3 is not done (user/lib/kvs.c: %s)\n", function);
    }
    return E_NOSYS;
}

// One request: m's words and x's buffers out, the reply into m and x's receive part.
// Returns the reply's status, or the call's own error.
__attribute__((unused)) static long kvs_call(struct ipc_msg *m, struct ipc_xfer *x)
{
    // LAB 2 exercise 3: one call to kvs: the endpoint from kvs_endpoint(), ipc_call,
    // kvs_forget() after E_DEAD; the reply's w[0]
#if SOL >= 2
    struct ipc_msg req = *m;
    for (int i = 0;; i++) {
        handle_t h;
        long err = kvs_endpoint(&h);
        if (err < 0)
            return err;
        *m = req;
        bool by_rpc = kvs_takes_rpc(h);
        err = by_rpc ? kvs_rpc_call(h, m, x) : ipc_call(h, m, x);
        if (err == E_DEAD && by_rpc)
            kvs_ask_again(h);
        else if (err == E_DEAD)
            kvs_forget(h);
        // Closed by a thread that saw E_DEAD before we could use it: the request never
        // left, so it is safe to make on the new handle.
        if (err == E_BADHANDLE && i + 1 < KVS_TRIES && kvs_replaced(h))
            continue;
        return err < 0 ? err : (long)m->w[0];
    }
#else
    return lab2_not_done("kvs_call");
#endif
}

long kvs_put(const char *key, const void *value, size_t len)
{
    // LAB 2 exercise 3: KVS_PUT: w[1] = the key's length, the buffer = key then value
#if SOL >= 2
    size_t klen = strlen(key);
    if (klen > IPC_BUF_MAX || len > IPC_BUF_MAX - klen)
        return E_TOOBIG;  // more than one message carries: kvs would refuse it anyway
    uint8_t buf[IPC_BUF_MAX];
    memcpy(buf, key, klen);
    memcpy(buf + klen, value, len);
    struct ipc_msg m = { .w = { KVS_PUT, klen } };
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)buf, .send_len = klen + len };
    return kvs_call(&m, &x);
#else
    return lab2_not_done("kvs_put");
#endif
}

long kvs_get(const char *key, void *buf, size_t size)
{
    // LAB 2 exercise 3: KVS_GET: the key in the buffer; receive the value, copy what fits,
    // return its length
#if SOL >= 2
    size_t klen = strlen(key);
    if (klen > IPC_BUF_MAX)
        return E_TOOBIG;
    uint8_t value[KVS_VALUE_MAX];
    struct ipc_msg m = { .w = { KVS_GET } };
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)key,
                          .send_len = klen,
                          .recv_buf = (uint64_t)(uintptr_t)value,
                          .recv_cap = sizeof(value) };
    long err = kvs_call(&m, &x);
    if (err < 0)
        return err;
    memcpy(buf, value, x.recv_len < size ? x.recv_len : size);
    return (long)x.recv_len;
#else
    return lab2_not_done("kvs_get");
#endif
}

long kvs_delete(const char *key)
{
    // LAB 2 exercise 3: KVS_DELETE: the key in the buffer
#if SOL >= 2
    size_t klen = strlen(key);
    if (klen > IPC_BUF_MAX)
        return E_TOOBIG;
    struct ipc_msg m = { .w = { KVS_DELETE } };
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)key, .send_len = klen };
    return kvs_call(&m, &x);
#else
    return lab2_not_done("kvs_delete");
#endif
}

long kvs_list(uint64_t start, char *buf, size_t size, int *n, int *total)
{
    // LAB 2 exercise 3: KVS_LIST from index start; copy the whole keys that fit into buf,
    // '\0'-terminated
#if SOL >= 2
    if (size == 0)
        return E_INVAL;
    char all[IPC_BUF_MAX];
    struct ipc_msg m = { .w = { KVS_LIST, start } };
    struct ipc_xfer x = { .recv_buf = (uint64_t)(uintptr_t)all, .recv_cap = sizeof(all) };
    long err = kvs_call(&m, &x);
    if (err < 0)
        return err;
    // Whole keys only, so that start + *n is where the next call goes on.
    size_t used = 0;
    int keys = 0;
    for (const char *p = all; p < all + x.recv_len;) {
        const char *nl = memchr(p, '\n', (size_t)(all + x.recv_len - p));
        if (!nl || (size_t)(nl + 1 - all) > size - 1)
            break;
        used = (size_t)(nl + 1 - all);
        keys++;
        p = nl + 1;
    }
    memcpy(buf, all, used);
    buf[used] = '\0';
    if (n)
        *n = keys;
    if (total)
        *total = (int)m.w[2];
    return 0;
#else
    return lab2_not_done("kvs_list");
#endif
}
