// kvs, the key-value server (protocol in user/lib/kvs.h): a table of at most
// KVS_MAX_KEYS keys, each with a value of at most KVS_VALUE_MAX bytes, in this process's
// memory. init makes kvs's endpoint, keeps it, registers it in ns as "kvs" and gives it to
// kvs as startup handle STARTUP_H_SPARE, so a restarted kvs serves the handles its clients
// hold; it starts with an empty table.
//
// The table. entries[] holds nentries pointers, sorted by key (strcmp), each to one
// malloc'ed struct entry with the value after it: a lookup is a binary search
// (store_search), an insertion or a deletion moves the pointers after it (at most
// KVS_MAX_KEYS of them), and KVS_LIST walks them in order, so the keys come out sorted
// and an index into them is a stable place to go on from.
//
// Concurrency: one thread serves every message, and for messages alone the table
// would need no lock. Many clients may call at once; the kernel queues their calls on the endpoint
// (by priority, first come first served) and this thread takes them one at a time. That is correct
// because every request is short and waits for nothing but the processor: there is no request a
// second thread could serve while the first is stuck. (fs and pm need a pool: a pipe read or a
// PM_WAIT holds its thread until someone else acts.) More threads would let requests
// run on several harts at once, but every request touches the table, so each would hold
// one lock for nearly all its work: the harts would take turns at the lock instead of at
// the endpoint, and pay for the lock besides. The lab's questions come back to this.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvs.h"
#include "rpc.h"
#include "server.h"
#include "ulib.h"

#define KVS_RPC_ACTIVATIONS 8  // callers inside kvs at once with kvs=rpc; more wait

struct entry {
    uint64_t len;               // the value's length
    char key[KVS_KEY_MAX + 1];  // '\0'-terminated
    uint8_t value[];            // len bytes
};

static bool rpc_offered;  // kvs=rpc: set before the first request is served

// table_lock must be held when using these (see "Concurrency" above).
static struct ulock table_lock;
static struct entry *entries[KVS_MAX_KEYS];  // sorted by key
static int nentries;

// ---- the table ---------------------------------------------------------------------------
//
// (The requests below use these; until they are written, "unused" keeps the build quiet.)

// The index of key in entries[] (*found true), or where it would be inserted to keep
// the order (*found false).
__attribute__((unused)) static int store_search(const char *key, bool *found)
{
    int lo = 0, hi = nentries;  // the answer is in [lo, hi]
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(entries[mid]->key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

// A new entry holding key and the len bytes at value, or NULL when out of memory.
// key must already be checked (at most KVS_KEY_MAX bytes).
__attribute__((unused)) static struct entry *entry_new(const char *key, const uint8_t *value,
                                                       uint64_t len)
{
    struct entry *e = malloc(sizeof(*e) + len);
    if (!e)
        return NULL;
    e->len = len;
    strcpy(e->key, key);
    memcpy(e->value, value, len);
    return e;
}

// Puts e at index i (from store_search), moving the entries after it up by one.
// The caller makes sure there is room (nentries < KVS_MAX_KEYS).
__attribute__((unused)) static void store_insert(int i, struct entry *e)
{
    memmove(&entries[i + 1], &entries[i], (size_t)(nentries - i) * sizeof(entries[0]));
    entries[i] = e;
    nentries++;
}

// Frees the entry at index i and closes the gap.
__attribute__((unused)) static void store_remove(int i)
{
    free(entries[i]);
    memmove(&entries[i], &entries[i + 1], (size_t)(nentries - i - 1) * sizeof(entries[0]));
    nentries--;
}

// ---- the requests ------------------------------------------------------------------------
//
// Each returns 0 or the E_* to reply with, and leaves what else the reply carries in r
// (r->reply[1..3], r->out and r->out_len: see server.h).

// What a stub replies, after saying once which exercise is missing.
__attribute__((unused)) static long lab2_not_done(int exercise, const char *function)
{
    static bool said[3];
    if (!said[exercise]) {
        said[exercise] = true;
        printf("lab2: exercise %d is not done (user/servers/kvs.c: %s)\n", exercise, function);
    }
    return E_NOSYS;
}

// The len bytes at data as a key, copied to out and '\0'-terminated; or the error.
__attribute__((unused)) static long key_take(const uint8_t *data, uint64_t len,
                                             char out[KVS_KEY_MAX + 1])
{
    // LAB 2 exercise 1: check a key: E_INVAL when empty or with a '\0' or '\n' in it, E_TOOBIG
    // when longer than KVS_KEY_MAX; copy it to out with a '\0'
#if SOL >= 2
    if (len == 0)
        return E_INVAL;
    if (len > KVS_KEY_MAX)
        return E_TOOBIG;
    if (memchr(data, '\0', len) || memchr(data, '\n', len))
        return E_INVAL;
    memcpy(out, data, len);
    out[len] = '\0';
    return 0;
#else
    return lab2_not_done(1, "key_take");
#endif
}

static long put_req(struct server_req *r)
{
    // LAB 2 exercise 1: KVS_PUT: key (w[1] bytes) and value from the buffer, the bounds, then
    // replace or insert
#if SOL >= 2
    uint64_t klen = r->req.w[1];
    if (klen > r->len)
        return E_INVAL;  // a key longer than what came: malformed
    char key[KVS_KEY_MAX + 1];
    long err = key_take(r->data, klen, key);
    if (err < 0)
        return err;
    uint64_t vlen = r->len - klen;
    if (vlen > KVS_VALUE_MAX)
        return E_TOOBIG;
    bool found;
    int i = store_search(key, &found);
    if (!found && nentries == KVS_MAX_KEYS)
        return E_LIMIT;
    struct entry *e = entry_new(key, r->data + klen, vlen);
    if (!e)
        return E_NOMEM;
    if (found) {
        free(entries[i]);
        entries[i] = e;
    } else {
        store_insert(i, e);
    }
    return 0;
#else
    return lab2_not_done(1, "put_req");
#endif
}

static long get_req(struct server_req *r)
{
    // LAB 2 exercise 1: KVS_GET: the key is the whole buffer; the value into r->out, its length
    // in reply[1]; E_NOENT
#if SOL >= 2
    char key[KVS_KEY_MAX + 1];
    long err = key_take(r->data, r->len, key);
    if (err < 0)
        return err;
    bool found;
    int i = store_search(key, &found);
    if (!found)
        return E_NOENT;
    memcpy(r->out, entries[i]->value, entries[i]->len);
    r->out_len = entries[i]->len;
    r->reply[1] = entries[i]->len;
    return 0;
#else
    return lab2_not_done(1, "get_req");
#endif
}

static long delete_req(struct server_req *r)
{
    // LAB 2 exercise 1: KVS_DELETE: the key is the whole buffer; E_NOENT
#if SOL >= 2
    char key[KVS_KEY_MAX + 1];
    long err = key_take(r->data, r->len, key);
    if (err < 0)
        return err;
    bool found;
    int i = store_search(key, &found);
    if (!found)
        return E_NOENT;
    store_remove(i);
    return 0;
#else
    return lab2_not_done(1, "delete_req");
#endif
}

static long list_req(struct server_req *r)
{
    // LAB 2 exercise 2: KVS_LIST: the keys from index w[1] on, each and its '\n' while they fit
    // in IPC_BUF_MAX; reply[1] = how many, reply[2] = nentries
#if SOL >= 2
    uint64_t count = 0;
    for (uint64_t i = r->req.w[1]; i < (uint64_t)nentries; i++) {
        size_t len = strlen(entries[i]->key);
        if (r->out_len + len + 1 > IPC_BUF_MAX)
            break;  // the client asks again from here
        memcpy(r->out + r->out_len, entries[i]->key, len);
        r->out[r->out_len + len] = '\n';
        r->out_len += len + 1;
        count++;
    }
    r->reply[1] = count;
    r->reply[2] = (uint64_t)nentries;
    return 0;
#else
    return lab2_not_done(2, "list_req");
#endif
}

static long kvs_request(struct server_req *r)
{
    switch (r->req.w[0]) {
    case KVS_PUT: return put_req(r);
    case KVS_GET: return get_req(r);
    case KVS_DELETE: return delete_req(r);
    case KVS_LIST: return list_req(r);
    case KVS_RPC:
        r->reply[1] = rpc_offered;
        r->reply[2] = (uint64_t)sys_process_pid(H_SELF);
        return 0;
    default: return E_INVAL;  // the stream operations too: kvs serves no stream
    }
}

static long kvs_request_locked(struct server_req *r)
{
    ulock_acquire(&table_lock);
    long status = kvs_request(r);
    ulock_release(&table_lock);
    return status;
}

static void kvs_handle(struct server_req *r)
{
    server_status(r, kvs_request_locked(r));
}

// The RPC entry, run by the caller's thread: the same request as a message's, w[3]
// saying how many bytes of the caller's window hold it; the reply's bytes go back into
// the window and w[3] says how many (kvs_rpc_call in user/lib/kvs.c is the other side).
static void kvs_rpc(uint64_t op, uint64_t w1, uint64_t w2, uint64_t len, uint64_t badge)
{
    uint8_t in[IPC_BUF_MAX], out[IPC_BUF_MAX];  // on the activation's stack: its own
    struct server_req r = {
        .req = { .w = { op, w1, w2, len }, .badge = badge }, .data = in, .len = len, .out = out
    };
    long status = len > IPC_BUF_MAX ? E_TOOBIG : sys_rpc_copy(0, in, len, RPC_COPY_IN);
    if (status == 0)
        status = kvs_request_locked(&r);
    if (status == 0 && r.out_len)
        status = sys_rpc_copy(0, out, r.out_len, RPC_COPY_OUT);
    rpc_return((uint64_t)status, r.reply[1], r.reply[2], status == 0 ? r.out_len : 0);
}

// kvs=rpc: the RPC entry as well (see "Concurrency"); kvs=msg or nothing: messages only.
static void offer_rpc(handle_t ep, const char *mode)
{
    if (!mode || strcmp(mode, "msg") == 0)
        return;
    if (strcmp(mode, "rpc") != 0) {
        printf("kvs: kvs=%s: no such interface (msg or rpc); messages only\n", mode);
        return;
    }
    long err = rpc_serve(ep, kvs_rpc, KVS_RPC_ACTIVATIONS);
    if (err < 0)
        printf("kvs: cannot serve RPC: %s; messages only\n", abi_strerror(err));
    else
        printf("kvs: serving RPC as well (%d activations)\n", KVS_RPC_ACTIVATIONS);
    rpc_offered = err == 0;
}

int main(int argc, char *argv[])
{
    handle_t ep = startup_handle(STARTUP_H_SPARE);
    if (!ep) {
        printf("kvs: started without an endpoint (startup handle %d)\n", STARTUP_H_SPARE);
        return 1;
    }
    offer_rpc(ep, arg_value(argc, argv, "kvs"));
    static struct server srv = { .name = "kvs", .handle = kvs_handle, .max_threads = 1 };
    srv.ep = ep;
    long err = server_run(&srv);
    printf("kvs: stopped: %s\n", abi_strerror(err));
    return 1;
}
