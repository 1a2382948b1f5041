// kvstests: the key-value server (user/servers/kvs.c), its client (user/lib/kvs.c) and the
// kv command, tested from user space. init runs it for the boot argument `run=kvstests`
// (all tests) or with `kvstests=NAME,NAME` as well (those only), once the servers are up.
// The output contract is ipctests': each test prints `TEST <name>: ok <nonce>` or
// `TEST <name>: FAIL <why> <nonce>` (the nonce from the word nonce=...), failures
// beyond a test's first get `kvstests:` lines of their own, and the exit status is 0 when
// all passed. The runner is user/lib/testsuite.c's.
//
//   protocol       put, get, overwrite, delete and list through the client, with values
//                  of any byte and empty ones
//   bounds         each bound (key and value length, the number of keys) and its error
//   bad_requests   raw calls kvs must refuse (unknown operations, no buffer, a key length
//                  beyond the buffer, a '\0' in a key, a reply that does not fit): it
//                  answers each with an error and goes on serving
//   concurrency    8 threads pinned round-robin to the harts, each writing and reading
//                  keys of its own and keys they share: every read sees what some writer
//                  wrote, and every key is there at the end
//   restart        init kills kvs while 4 clients run: each sees at most one E_DEAD (and
//                  one E_NOENT: the new kvs starts empty), then goes on; none hangs
//   kv_command     the kv program, run through pm with its output in pipes: what it
//                  prints and its exit status
//
// Each test uses keys of its own prefix and deletes them at the end, so the tests can run
// in one boot in any order. Every wait for another thread is bounded.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "initctl.h"
#include "ipc.h"
#include "kvs.h"
#include "ns.h"
#include "pm.h"
#include "stream.h"
#include "testsuite.h"
#include "ulib.h"
#include "uthread.h"

#define MS           1000000ULL  // ns
#define THREAD_STACK (64 * 1024)
#define LIST_ALL_MAX (KVS_MAX_KEYS * (KVS_KEY_MAX + 1) + 1)

// ---- helpers ------------------------------------------------------------------------------

// "E_NOENT" for an error, the number otherwise.
static const char *show(long v, char *buf, size_t size)
{
    if (v < 0)
        return abi_strerror(v);
    snprintf(buf, size, "%ld", v);
    return buf;
}

// Fails unless got == want; what names the call. Returns got == want.
static bool expect(long got, long want, const char *what)
{
    if (got == want)
        return true;
    char g[24], w[24];
    test_fail("%s: %s, not %s", what, show(got, g, sizeof(g)), show(want, w, sizeof(w)));
    if (got == E_NOSYS)
        test_quiet();
    return false;
}

static void sleep_ms(uint64_t ms)
{
    sys_sleep(ms * MS);
}

static uint64_t ms_since(uint64_t start)
{
    return time_ns(time_now() - start) / MS;
}

// Puts a text value; fails the test when kvs refuses.
static void put_text(const char *key, const char *value)
{
    char what[128];
    snprintf(what, sizeof(what), "kvs_put(%.60s)", key);
    expect(kvs_put(key, value, strlen(value)), 0, what);
}

// Checks that key holds exactly the len bytes at want.
static void expect_value(const char *key, const void *want, size_t len)
{
    uint8_t got[KVS_VALUE_MAX + 1];
    long n = kvs_get(key, got, sizeof(got));
    char what[128];
    snprintf(what, sizeof(what), "kvs_get(%.60s)", key);
    if (!expect(n, (long)len, what))
        return;
    if (memcmp(got, want, len) != 0)
        test_fail("kvs_get(%.60s) returned other bytes than were put", key);
}

// Every key in the table, in the order KVS_LIST gives them, into all (LIST_ALL_MAX bytes:
// each key and its '\n'); returns how many, or a negative error.
static long list_all(char *all)
{
    static char page[IPC_BUF_MAX + 1];
    size_t used = 0;
    uint64_t start = 0;
    all[0] = '\0';
    for (int pages = 0; pages <= KVS_MAX_KEYS; pages++) {
        int n = 0, total = 0;
        long err = kvs_list(start, page, sizeof(page), &n, &total);
        if (err < 0)
            return err;
        size_t len = strlen(page);
        if (used + len >= LIST_ALL_MAX) {
            test_fail("KVS_LIST gave more than %d keys", KVS_MAX_KEYS);
            return E_TOOBIG;
        }
        memcpy(all + used, page, len + 1);
        used += len;
        start += (uint64_t)n;
        if (n == 0 || start >= (uint64_t)total)
            return (long)start;
    }
    test_fail("KVS_LIST does not come to an end");
    return E_INVAL;
}

// True when the '\n'-separated list holds key as one of its lines.
static bool list_has(const char *list, const char *key)
{
    size_t len = strlen(key);
    for (const char *p = list; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n == len && memcmp(p, key, len) == 0)
            return true;
        p += n + (nl != NULL);
    }
    return false;
}

// Checks that the list's lines are in strictly increasing order (sorted, no repeats),
// and counts them.
static int list_check_order(const char *list)
{
    char prev[KVS_KEY_MAX + 2] = "", cur[KVS_KEY_MAX + 2];
    int count = 0;
    for (const char *p = list; *p;) {
        const char *nl = strchr(p, '\n');
        if (!nl) {
            test_fail("KVS_LIST's last key has no '\\n'");
            return count;
        }
        size_t n = (size_t)(nl - p);
        if (n == 0 || n > KVS_KEY_MAX) {
            test_fail("KVS_LIST gave a key of %zu bytes", n);
            return count;
        }
        memcpy(cur, p, n);
        cur[n] = '\0';
        if (count > 0 && strcmp(prev, cur) >= 0)
            test_fail("KVS_LIST is not in order: \"%.30s\" before \"%.30s\"", prev, cur);
        strcpy(prev, cur);
        count++;
        p = nl + 1;
    }
    return count;
}

// Deletes every key that starts with prefix.
static void delete_prefix(const char *prefix)
{
    static char all[LIST_ALL_MAX];
    if (list_all(all) < 0)
        return;
    size_t plen = strlen(prefix);
    for (char *p = all; *p;) {
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = '\0';
        if (strncmp(p, prefix, plen) == 0)
            kvs_delete(p);
        p = nl + 1;
    }
}

// Pins the calling thread to hart index h; false when it did not go there.
static bool pin_self(int h)
{
    return sys_thread_set_affinity(H_SELF_THREAD, 1ULL << h) == 0 && sys_hart_self() == h;
}

static int nharts(void)
{
    struct sys_stats s;
    if (sys_stats(&s) < 0 || s.nharts < 1)
        return 1;
    return (int)s.nharts;
}

// ---- protocol --------------------------------------------------------------------------------

static void test_protocol(void)
{
    put_text("p.alpha", "one");
    expect_value("p.alpha", "one", 3);
    put_text("p.alpha", "one more time");  // overwrite: longer ...
    expect_value("p.alpha", "one more time", 13);
    put_text("p.alpha", "1");  // ... and shorter
    expect_value("p.alpha", "1", 1);

    uint8_t bytes[256];
    for (int i = 0; i < 256; i++)
        bytes[i] = (uint8_t)(255 - i);  // '\0' and '\n' included
    expect(kvs_put("p.binary", bytes, sizeof(bytes)), 0, "kvs_put(p.binary, 256 bytes)");
    expect_value("p.binary", bytes, sizeof(bytes));

    expect(kvs_put("p.empty", "", 0), 0, "kvs_put(p.empty, an empty value)");
    expect_value("p.empty", "", 0);

    // The client copies what fits and says how long the value is.
    char small[4] = "????";
    put_text("p.long", "abcdefgh");
    expect(kvs_get("p.long", small, 2), 8, "kvs_get(p.long) into 2 bytes");
    if (memcmp(small, "ab??", 4) != 0)
        test_fail("kvs_get into 2 bytes wrote \"%.4s\", not \"ab??\"", small);

    expect(kvs_delete("p.alpha"), 0, "kvs_delete(p.alpha)");
    expect(kvs_get("p.alpha", small, sizeof(small)), E_NOENT, "kvs_get after kvs_delete");
    expect(kvs_delete("p.alpha"), E_NOENT, "kvs_delete of a deleted key");
    expect(kvs_get("p.never", small, sizeof(small)), E_NOENT, "kvs_get(p.never)");
    put_text("p.alpha", "back");
    expect_value("p.alpha", "back", 4);

    // The list: every key once, in order, and nothing past the end.
    put_text("p.c", "3");
    put_text("p.a", "1");
    put_text("p.b", "2");
    static char all[LIST_ALL_MAX];
    long total = list_all(all);
    if (total < 0) {
        expect(total, 0, "listing the keys");
    } else {
        expect(list_check_order(all), total, "keys in the list");
        const char *mine[] = { "p.a", "p.alpha", "p.b", "p.binary", "p.c", "p.empty", "p.long" };
        for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
            if (!list_has(all, mine[i]))
                test_fail("KVS_LIST does not list %s", mine[i]);
        const char *a = strstr(all, "p.a\n"), *b = strstr(all, "p.b\n"), *c = strstr(all, "p.c\n");
        if (a && b && c && !(a < b && b < c))
            test_fail("KVS_LIST does not give p.a, p.b, p.c in that order");
        int n = -1, t = -1;
        char page[64];
        expect(kvs_list((uint64_t)total, page, sizeof(page), &n, &t), 0, "kvs_list from the end");
        expect(n, 0, "keys listed from the end");
        expect(t, total, "the total kvs_list gives");
    }
    expect(kvs_delete("p.b"), 0, "kvs_delete(p.b)");
    if (list_all(all) >= 0 && list_has(all, "p.b"))
        test_fail("KVS_LIST still lists p.b after it was deleted");
    delete_prefix("p.");
}

// ---- bounds ------------------------------------------------------------------------------

// A key of len bytes: prefix, then 'k's.
static void long_key(char *key, const char *prefix, size_t len)
{
    size_t plen = strlen(prefix);
    memcpy(key, prefix, plen);
    memset(key + plen, 'k', len - plen);
    key[len] = '\0';
}

// The i-th key that fills the table: 64 bytes, so that KVS_LIST needs several pages.
static void fill_key(char *key, int i)
{
    char prefix[16];
    snprintf(prefix, sizeof(prefix), "b.fill.%03d.", i);
    long_key(key, prefix, KVS_KEY_MAX);
}

static void bounds_fill(void)
{
    static char all[LIST_ALL_MAX];
    long before = list_all(all);
    if (!expect(before >= 0 ? 0 : before, 0, "listing the keys"))
        return;
    char key[KVS_KEY_MAX + 1];
    int added = 0;
    long err = 0;
    while (added <= KVS_MAX_KEYS) {
        fill_key(key, added);
        err = kvs_put(key, "f", 1);
        if (err < 0)
            break;
        added++;
    }
    expect(err, E_LIMIT, "kvs_put of one key more than KVS_MAX_KEYS");
    expect(before + added, KVS_MAX_KEYS, "keys in the table once it is full");
    if (added > 0) {
        fill_key(key, 0);
        expect(kvs_put(key, "again", 5), 0, "kvs_put over a key when the table is full");
        expect_value(key, "again", 5);
    }
    long total = list_all(all);
    expect(total, KVS_MAX_KEYS, "keys KVS_LIST gives for a full table");
    if (total > 0) {
        expect(list_check_order(all), total, "keys in the list of a full table");
        for (int i = 0; i < added; i++) {
            fill_key(key, i);
            if (!list_has(all, key)) {
                test_fail("KVS_LIST of a full table does not list key %d", i);
                break;
            }
        }
    }
    if (added > 0) {
        fill_key(key, 0);
        expect(kvs_delete(key), 0, "kvs_delete in a full table");
        expect(kvs_put("b.new", "n", 1), 0, "kvs_put after a delete made room");
    }
    delete_prefix("b.");
}

static void test_bounds(void)
{
    char key[KVS_KEY_MAX + 2];
    char v[8];
    long_key(key, "b.", KVS_KEY_MAX);
    expect(kvs_put(key, "x", 1), 0, "kvs_put with a key of KVS_KEY_MAX bytes");
    expect_value(key, "x", 1);
    expect(kvs_delete(key), 0, "kvs_delete with a key of KVS_KEY_MAX bytes");
    long_key(key, "b.", KVS_KEY_MAX + 1);
    expect(kvs_put(key, "x", 1), E_TOOBIG, "kvs_put with a key of KVS_KEY_MAX + 1 bytes");
    expect(kvs_get(key, v, sizeof(v)), E_TOOBIG, "kvs_get with a key of KVS_KEY_MAX + 1 bytes");
    expect(kvs_delete(key), E_TOOBIG, "kvs_delete with a key of KVS_KEY_MAX + 1 bytes");

    expect(kvs_put("", "x", 1), E_INVAL, "kvs_put with an empty key");
    expect(kvs_get("", v, sizeof(v)), E_INVAL, "kvs_get with an empty key");
    expect(kvs_delete(""), E_INVAL, "kvs_delete with an empty key");
    expect(kvs_put("b.new\nline", "x", 1), E_INVAL, "kvs_put with a '\\n' in the key");

    static uint8_t value[IPC_BUF_MAX];
    for (size_t i = 0; i < sizeof(value); i++)
        value[i] = (uint8_t)(i * 7);
    expect(kvs_put("b.value", value, KVS_VALUE_MAX), 0, "kvs_put of KVS_VALUE_MAX bytes");
    expect_value("b.value", value, KVS_VALUE_MAX);
    expect(kvs_put("b.value", value, KVS_VALUE_MAX + 1), E_TOOBIG,
           "kvs_put of KVS_VALUE_MAX + 1 bytes");
    expect_value("b.value", value, KVS_VALUE_MAX);  // a refused put changes nothing
    expect(kvs_put("b.value", value, sizeof(value)), E_TOOBIG,
           "kvs_put of more than a message carries");
    expect(kvs_put("b.toobig", value, KVS_VALUE_MAX + 1), E_TOOBIG,
           "kvs_put of a new key with KVS_VALUE_MAX + 1 bytes");
    expect(kvs_get("b.toobig", v, sizeof(v)), E_NOENT, "kvs_get of a refused new key");
    expect(kvs_get("b.nosuch", v, sizeof(v)), E_NOENT, "kvs_get of a missing key");
    expect(kvs_delete("b.nosuch"), E_NOENT, "kvs_delete of a missing key");
    expect(kvs_delete("b.value"), 0, "kvs_delete(b.value)");

    bounds_fill();
}

// ---- bad requests: raw calls ---------------------------------------------------------------

// One raw request to kvs: returns the call's error, or the reply's w[0] (and the reply in
// *m); x NULL sends no buffer and offers no room for one.
static long raw(handle_t h, struct ipc_msg *m, struct ipc_xfer *x)
{
    long err = ipc_call(h, m, x);
    return err < 0 ? err : (long)m->w[0];
}

static long raw_words(handle_t h, uint64_t op, uint64_t w1)
{
    struct ipc_msg m = { .w = { op, w1 } };
    return raw(h, &m, NULL);
}

static long raw_buf(handle_t h, uint64_t op, uint64_t w1, const void *buf, size_t len)
{
    struct ipc_msg m = { .w = { op, w1 } };
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)buf, .send_len = len };
    return raw(h, &m, &x);
}

// KVS_GET by hand: checks that key holds the len bytes at want.
static void raw_expect_value(handle_t h, const char *key, const void *want, size_t len)
{
    static uint8_t got[KVS_VALUE_MAX];
    struct ipc_msg m = { .w = { KVS_GET } };
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)key,
                          .send_len = strlen(key),
                          .recv_buf = (uint64_t)(uintptr_t)got,
                          .recv_cap = sizeof(got) };
    char what[96];
    snprintf(what, sizeof(what), "KVS_GET(%s) by hand", key);
    if (!expect(raw(h, &m, &x), 0, what))
        return;
    if (x.recv_len != len || m.w[1] != len || memcmp(got, want, len) != 0)
        test_fail("KVS_GET(%s) by hand: %lu bytes (w[1] = %lu), not the %zu put", key,
                  (unsigned long)x.recv_len, (unsigned long)m.w[1], len);
}

// The bad requests test uses no client library: it passes with exercises 1 and 2 alone.
static void test_bad_requests(void)
{
    int restarts = 0, after = 0;
    bool running = false;
    expect(init_info("kvs", &restarts, &running), 0, "init_info(kvs)");
    handle_t h;
    if (!expect(ns_lookup("kvs", &h), 0, "ns_lookup(kvs)"))
        return;

    expect(raw_words(h, 0, 0), E_INVAL, "operation 0");
    expect(raw_words(h, STREAM_READ, 16), E_INVAL, "STREAM_READ");
    expect(raw_words(h, STREAM_SEEK, 0), E_INVAL, "STREAM_SEEK");
    expect(raw_words(h, KVS_RPC + 1, 0), E_INVAL, "an operation after the last (KVS_RPC)");
    expect(raw_words(h, 1ULL << 40, 0), E_INVAL, "operation 2^40");

    expect(raw_words(h, KVS_PUT, 0), E_INVAL, "KVS_PUT with no buffer at all");
    expect(raw_words(h, KVS_PUT, 5), E_INVAL, "KVS_PUT of a 5-byte key with no buffer");
    expect(raw_words(h, KVS_GET, 0), E_INVAL, "KVS_GET with no buffer at all");
    expect(raw_words(h, KVS_DELETE, 0), E_INVAL, "KVS_DELETE with no buffer at all");
    expect(raw_buf(h, KVS_PUT, 4, "abc", 3), E_INVAL, "KVS_PUT, key length 4 in 3 bytes");
    expect(raw_buf(h, KVS_PUT, 1ULL << 63, "abc", 3), E_INVAL, "KVS_PUT, key length 2^63");
    expect(raw_buf(h, KVS_PUT, 0, "value", 5), E_INVAL, "KVS_PUT, key length 0");
    expect(raw_buf(h, KVS_PUT, 3, "a\0bvalue", 8), E_INVAL, "KVS_PUT of a key with a '\\0'");
    expect(raw_buf(h, KVS_GET, 0, "a\0b", 3), E_INVAL, "KVS_GET of a key with a '\\0'");
    expect(raw_buf(h, KVS_DELETE, 0, "a\0b", 3), E_INVAL, "KVS_DELETE of a key with a '\\0'");
    expect(raw_buf(h, KVS_PUT, 3, "a\nbvalue", 8), E_INVAL, "KVS_PUT of a key with a '\\n'");
    char key[KVS_KEY_MAX + 8];
    long_key(key, "x.", KVS_KEY_MAX + 1);
    expect(raw_buf(h, KVS_PUT, KVS_KEY_MAX + 1, key, KVS_KEY_MAX + 1), E_TOOBIG,
           "KVS_PUT of a key of KVS_KEY_MAX + 1 bytes, no value");

    // The layout kvs.h gives, made by hand: the key's length, then key and value.
    expect(raw_buf(h, KVS_PUT, 5, "x.rawvalue", 10), 0, "KVS_PUT(x.raw, value) by hand");
    raw_expect_value(h, "x.raw", "value", 5);

    // A list from far past the end is empty, not an error.
    struct ipc_msg m = { .w = { KVS_LIST, 1ULL << 62 } };
    static char page[IPC_BUF_MAX];
    struct ipc_xfer x = { .recv_buf = (uint64_t)(uintptr_t)page, .recv_cap = sizeof(page) };
    if (expect(raw(h, &m, &x), 0, "KVS_LIST from index 2^62"))
        expect((long)m.w[1], 0, "keys listed from index 2^62");

    // A reply that does not fit what the caller offered: the kernel refuses it, and
    // kvs goes on.
    static char big[5 + 100] = "x.biga hundred bytes";
    expect(raw_buf(h, KVS_PUT, 5, big, sizeof(big)), 0, "KVS_PUT(x.big, 100 bytes) by hand");
    m = (struct ipc_msg){ .w = { KVS_GET } };
    x = (struct ipc_xfer){ .send_buf = (uint64_t)(uintptr_t) "x.big",
                           .send_len = 5,
                           .recv_buf = (uint64_t)(uintptr_t)page,
                           .recv_cap = 10 };
    expect(raw(h, &m, &x), E_TOOBIG, "KVS_GET of 100 bytes into a 10-byte buffer");
    expect(raw_buf(h, KVS_GET, 0, "x.big", 5), E_TOOBIG,
           "KVS_GET of 100 bytes with no receive buffer");

    // A handle sent along is not kvs's business: the request is served, the handle closed.
    m = (struct ipc_msg){ .w = { KVS_PUT, 5 } };
    x = (struct ipc_xfer){ .send_buf = (uint64_t)(uintptr_t) "x.hdlv",
                           .send_len = 6,
                           .send_handle = h,
                           .send_rights = RIGHT_SEND };
    expect(raw(h, &m, &x), 0, "KVS_PUT with a handle attached");

    // Still serving, and never restarted.
    raw_expect_value(h, "x.big", big + 5, 100);
    raw_expect_value(h, "x.hdl", "v", 1);
    expect(init_info("kvs", &after, &running), 0, "init_info(kvs) after the bad requests");
    if (after != restarts || !running)
        test_fail("kvs died on a bad request (restarts %d -> %d)", restarts, after);
    const char *mine[] = { "x.raw", "x.big", "x.hdl" };
    for (int i = 0; i < 3; i++)
        expect(raw_buf(h, KVS_DELETE, 0, mine[i], strlen(mine[i])), 0, "KVS_DELETE by hand");
    expect(raw_buf(h, KVS_GET, 0, "x.raw", 5), E_NOENT, "KVS_GET of a deleted key by hand");
    sys_handle_close(h);
}

// ---- concurrency --------------------------------------------------------------------------

#define CONC_THREADS 8
#define CONC_ROUNDS  100
#define CONC_OWN     3  // keys of each thread's own
#define CONC_SHARED  2  // keys every thread writes
#define CONC_WAIT_MS 90000
#define SHARED_TAG   0xff

// The value thread t writes in round r to its key j (j = SHARED_TAG: a shared key).
// Its first bytes say who wrote it and when, the rest follows from them, and its length
// differs from writer to writer: a value mixed from two writes cannot pass value_check.
static size_t value_make(uint8_t *v, int t, int r, int j)
{
    size_t len = 8 + (size_t)((t * 97 + r * 13 + j * 5) % 300);
    v[0] = (uint8_t)t;
    v[1] = (uint8_t)r;
    v[2] = (uint8_t)(r >> 8);
    v[3] = (uint8_t)j;
    for (size_t i = 4; i < len; i++)
        v[i] = (uint8_t)(t * 31 + r * 7 + j * 3 + (int)i);
    return len;
}

// True when the len bytes at v are a whole value some thread wrote to key j.
static bool value_check(const uint8_t *v, long len, int j)
{
    uint8_t want[KVS_VALUE_MAX];
    if (len < 4 || v[3] != (uint8_t)j || v[0] >= CONC_THREADS)
        return false;
    int r = v[1] | v[2] << 8;
    if (r >= CONC_ROUNDS)
        return false;
    size_t n = value_make(want, v[0], r, j);
    return (long)n == len && memcmp(want, v, n) == 0;
}

struct conc_client {
    int index;
    int hart;
    struct uthread thread;
    int done;  // set (release) when the thread is about to return
    long ops;
};

static void own_key(char *key, int t, int j)
{
    snprintf(key, KVS_KEY_MAX + 1, "c.t%d.k%d", t, j);
}

static void shared_key(char *key, int s)
{
    snprintf(key, KVS_KEY_MAX + 1, "c.shared.%d", s);
}

static long conc_client_run(void *arg)
{
    struct conc_client *c = arg;
    int t = c->index;
    if (!pin_self(c->hart))
        test_fail("thread %d: could not pin itself to hart %d", t, c->hart);
    uint8_t v[KVS_VALUE_MAX], got[KVS_VALUE_MAX];
    char key[KVS_KEY_MAX + 1];
    bool ok = true;
    for (int r = 0; r < CONC_ROUNDS && ok; r++) {
        for (int j = 0; j < CONC_OWN && ok; j++) {
            own_key(key, t, j);
            size_t len = value_make(v, t, r, j);
            long err = kvs_put(key, v, len);
            long n = err < 0 ? err : kvs_get(key, got, sizeof(got));
            c->ops += 2;
            if (err == E_NOSYS || n == E_NOSYS)
                test_quiet();
            if (err < 0 || n < 0) {
                test_fail("thread %d round %d: %s on its own key %s", t, r,
                          abi_strerror(err < 0 ? err : n), key);
                ok = false;
            } else if (n != (long)len || memcmp(v, got, len) != 0) {
                test_fail("thread %d round %d: its own key %s does not hold what it put", t, r,
                          key);
                ok = false;
            }
        }
        int s = (r + t) % CONC_SHARED;
        shared_key(key, s);
        size_t len = value_make(v, t, r, SHARED_TAG);
        long err = kvs_put(key, v, len);
        long n = err < 0 ? err : kvs_get(key, got, sizeof(got));
        c->ops += 2;
        if (err == E_NOSYS || n == E_NOSYS)
            test_quiet();
        if (err < 0 || n < 0) {
            test_fail("thread %d round %d: %s on %s", t, r, abi_strerror(err < 0 ? err : n), key);
            ok = false;
        } else if (!value_check(got, n, SHARED_TAG)) {
            test_fail("thread %d round %d: %s holds %ld bytes no writer wrote", t, r, key, n);
            ok = false;
        }
    }
    __atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
    return 0;
}

// Waits until every client is done, at most ms; joins those that are. Returns how many
// did not finish (their threads are left behind: the process ends them when it exits).
static int clients_wait(struct uthread *threads[], int *done[], int n, uint64_t ms)
{
    uint64_t start = time_now();
    for (;;) {
        int left = 0;
        for (int i = 0; i < n; i++)
            left += !__atomic_load_n(done[i], __ATOMIC_ACQUIRE);
        if (left == 0 || ms_since(start) >= ms)
            break;
        sleep_ms(20);
    }
    int hung = 0;
    for (int i = 0; i < n; i++) {
        if (__atomic_load_n(done[i], __ATOMIC_ACQUIRE))
            uthread_join(threads[i], NULL);
        else
            hung++;
    }
    return hung;
}

static void test_concurrency(void)
{
    static struct conc_client clients[CONC_THREADS];
    struct uthread *threads[CONC_THREADS];
    int *done[CONC_THREADS];
    int harts = nharts(), started = 0;
    for (int i = 0; i < CONC_THREADS; i++) {
        clients[i] = (struct conc_client){ .index = i, .hart = i % harts };
        threads[i] = &clients[i].thread;
        done[i] = &clients[i].done;
        long err = uthread_start(&clients[i].thread, conc_client_run, &clients[i], THREAD_STACK);
        if (!expect(err, 0, "uthread_start"))
            break;
        started++;
    }
    int hung = clients_wait(threads, done, started, CONC_WAIT_MS);
    if (hung) {
        test_fail("%d of %d client threads did not finish within %d s", hung, started,
                  CONC_WAIT_MS / 1000);
        return;
    }
    // Every key is there at the end, each own key with its last round's value.
    static char all[LIST_ALL_MAX];
    long total = list_all(all);
    if (!expect(total < 0 ? total : 0, 0, "listing the keys at the end"))
        return;
    char key[KVS_KEY_MAX + 1];
    uint8_t v[KVS_VALUE_MAX], got[KVS_VALUE_MAX];
    for (int t = 0; t < started; t++) {
        for (int j = 0; j < CONC_OWN; j++) {
            own_key(key, t, j);
            if (!list_has(all, key))
                test_fail("KVS_LIST does not list %s", key);
            expect_value(key, v, value_make(v, t, CONC_ROUNDS - 1, j));
        }
    }
    for (int s = 0; s < CONC_SHARED; s++) {
        shared_key(key, s);
        if (!list_has(all, key))
            test_fail("KVS_LIST does not list %s", key);
        long n = kvs_get(key, got, sizeof(got));
        if (n >= 0 && !value_check(got, n, SHARED_TAG))
            test_fail("%s holds %ld bytes no writer wrote", key, n);
        else if (n < 0)
            test_fail("kvs_get(%s) at the end: %s", key, abi_strerror(n));
    }
    delete_prefix("c.");
}

// ---- restart -----------------------------------------------------------------------------

#define RST_CLIENTS      4
#define RST_BEFORE_PAIRS 5      // put/get pairs each client makes before the kill
#define RST_AFTER_PAIRS  10     // ... and after init says kvs runs again
#define RST_BACK_MS      10000  // how long kvs may take to come back
#define RST_WAIT_MS      60000  // how long the clients may take in all

static int rst_killing;    // set (release) just before init_kill
static int rst_restarted;  // set (release) once init says kvs runs again

struct rst_client {
    int index;
    int hart;
    struct uthread thread;
    int done;
    long pairs;        // put/get pairs that went through
    long pairs_after;  // ... of those, begun after rst_restarted was set
    int deads, noents;
};

static long rst_client_run(void *arg)
{
    struct rst_client *c = arg;
    if (!pin_self(c->hart))
        test_fail("client %d: could not pin itself to hart %d", c->index, c->hart);
    char key[KVS_KEY_MAX + 1], v[64], got[64];
    snprintf(key, sizeof(key), "r.client%d", c->index);
    for (long i = 0; c->pairs_after < RST_AFTER_PAIRS; i++) {
        bool after = __atomic_load_n(&rst_restarted, __ATOMIC_ACQUIRE);
        int len = snprintf(v, sizeof(v), "client %d pair %ld", c->index, i);
        long err = kvs_put(key, v, (size_t)len);
        long n = err < 0 ? err : kvs_get(key, got, sizeof(got));
        if (err == 0 && n == len && memcmp(v, got, (size_t)len) == 0) {
            __atomic_add_fetch(&c->pairs, 1, __ATOMIC_RELAXED);  // rst_warmed_up reads it
            c->pairs_after += after;
            continue;
        }
        // E_DEAD: kvs died answering us; E_NOENT: the put went to the old kvs, the get
        // to the new, empty one. Each at most once, and only once the kill is under way
        // (the flag is set before init_kill, so it is seen set after any such error).
        bool killing = __atomic_load_n(&rst_killing, __ATOMIC_ACQUIRE);
        bool excused = killing && ((err == E_DEAD && c->deads++ == 0) ||
                                   (err == 0 && n == E_DEAD && c->deads++ == 0) ||
                                   (err == 0 && n == E_NOENT && c->noents++ == 0));
        if (!excused) {
            char g[24];
            test_fail("client %d pair %ld: put %s, get %s%s", c->index, i, abi_strerror(err),
                      show(n, g, sizeof(g)), killing ? " (while kvs restarted)" : "");
            break;
        }
    }
    __atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
    return 0;
}

// Waits until every running client has made RST_BEFORE_PAIRS pairs; false after 10 s.
static bool rst_warmed_up(struct rst_client *clients, int n)
{
    uint64_t start = time_now();
    while (ms_since(start) < 10000) {
        int ready = 0;
        for (int i = 0; i < n; i++)
            ready += __atomic_load_n(&clients[i].pairs, __ATOMIC_RELAXED) >= RST_BEFORE_PAIRS ||
                     __atomic_load_n(&clients[i].done, __ATOMIC_ACQUIRE);
        if (ready == n)
            return true;
        sleep_ms(5);
    }
    return false;
}

// Asks init to kill kvs and waits until init says it runs again.
static bool rst_kill_kvs(void)
{
    int before = 0, after = 0;
    bool running = false;
    if (!expect(init_info("kvs", &before, &running), 0, "init_info(kvs)"))
        return false;
    __atomic_store_n(&rst_killing, 1, __ATOMIC_RELEASE);
    if (!expect(init_kill("kvs"), 0, "init_kill(kvs)"))
        return false;
    uint64_t start = time_now();
    while (ms_since(start) < RST_BACK_MS) {
        if (init_info("kvs", &after, &running) == 0 && after > before && running)
            return true;
        sleep_ms(10);
    }
    test_fail("kvs did not come back within %d s (restarts %d -> %d)", RST_BACK_MS / 1000, before,
              after);
    return false;
}

static void test_restart(void)
{
    // A key from before the kill: the new kvs must not have it.
    if (!expect(kvs_put("r.before", "old", 3), 0, "kvs_put(r.before)"))
        return;
    static struct rst_client clients[RST_CLIENTS];
    struct uthread *threads[RST_CLIENTS];
    int *done[RST_CLIENTS];
    int harts = nharts(), started = 0;
    rst_killing = rst_restarted = 0;
    for (int i = 0; i < RST_CLIENTS; i++) {
        clients[i] = (struct rst_client){ .index = i, .hart = i % harts };
        threads[i] = &clients[i].thread;
        done[i] = &clients[i].done;
        if (!expect(uthread_start(&clients[i].thread, rst_client_run, &clients[i], THREAD_STACK), 0,
                    "uthread_start"))
            break;
        started++;
    }
    if (!rst_warmed_up(clients, started))
        test_fail("the clients did not make %d put/get pairs each within 10 s", RST_BEFORE_PAIRS);
    else
        rst_kill_kvs();
    __atomic_store_n(&rst_restarted, 1, __ATOMIC_RELEASE);  // (on a failure: so they end)
    int hung = clients_wait(threads, done, started, RST_WAIT_MS);
    for (int i = 0; i < started; i++) {
        if (!__atomic_load_n(&clients[i].done, __ATOMIC_ACQUIRE))
            test_fail("client %d hangs after %ld pairs (%ld after the restart)", i,
                      clients[i].pairs, clients[i].pairs_after);
    }
    if (hung)
        return;
    int deads = 0, noents = 0;
    for (int i = 0; i < started; i++) {
        deads += clients[i].deads;
        noents += clients[i].noents;
    }
    printf("kvstests: restart: %d clients; E_DEAD seen %d times, E_NOENT %d times\n", started,
           deads, noents);
    char v[8];
    expect(kvs_get("r.before", v, sizeof(v)), E_NOENT, "kvs_get of a key from before the restart");
    put_text("r.after", "new");
    expect_value("r.after", "new", 3);
    delete_prefix("r.");
}

// ---- kv_command --------------------------------------------------------------------------

struct run_result {
    int status;
    char out[512], err[512];
};

// Reads the pipe's read end r to its end (or until size - 1 bytes), '\0'-terminated.
static void pipe_slurp(handle_t r, char *buf, size_t size)
{
    size_t used = 0;
    for (;;) {
        long n = stream_read(r, buf + used, size - 1 - used);
        if (n <= 0)
            break;
        used += (size_t)n;
        if (used == size - 1)
            break;
    }
    buf[used] = '\0';
}

// Runs kv with argv through pm, its stdout and stderr into pipes; false if it could not.
static bool run_kv(char *argv[], struct run_result *res)
{
    handle_t out_r, out_w, err_r, err_w;
    memset(res, 0, sizeof(*res));
    res->status = -1;
    if (!expect(fs_pipe(&out_r, &out_w), 0, "fs_pipe"))
        return false;
    if (!expect(fs_pipe(&err_r, &err_w), 0, "fs_pipe")) {
        stream_close(out_r);
        stream_close(out_w);
        return false;
    }
    long pid = pm_spawn("kv", argv, 0, out_w, err_w);
    bool ok = expect(pid > 0 ? 0 : pid, 0, "pm_spawn(kv)");
    if (ok)
        ok = expect(pm_wait(pid, &res->status), 0, "pm_wait(kv)");
    // kv has exited: closing the write ends lets the reads see the end.
    stream_close(out_w);
    stream_close(err_w);
    pipe_slurp(out_r, res->out, sizeof(res->out));
    pipe_slurp(err_r, res->err, sizeof(res->err));
    stream_close(out_r);
    stream_close(err_r);
    return ok;
}

// Runs kv; checks its status, its stdout (exactly) and that stderr holds err_has ("" for
// nothing at all on stderr).
static void check_kv(char *argv[], int status, const char *out, const char *err_has)
{
    struct run_result res;
    char line[96] = "kv";
    for (int i = 1; argv[i]; i++)
        snprintf(line + strlen(line), sizeof(line) - strlen(line), " %.40s", argv[i]);
    if (!run_kv(argv, &res))
        return;
    if (res.status != status)
        test_fail("`%s` exited with status %d, not %d (stderr: %.70s)", line, res.status, status,
                  res.err);
    else if (out && strcmp(res.out, out) != 0)
        test_fail("`%s` printed \"%.60s\", not \"%.60s\"", line, res.out, out);
    else if (*err_has ? !strstr(res.err, err_has) : res.err[0] != '\0')
        test_fail("`%s` wrote \"%.70s\" to stderr, %s%s%s", line, res.err,
                  *err_has ? "without \"" : "not nothing", err_has, *err_has ? "\"" : "");
    if (strstr(res.err, "lab2: exercise") || strstr(res.err, "not implemented"))
        test_quiet();  // a stub: the rest of the test says nothing new
}

static void test_kv_command(void)
{
    check_kv((char *[]){ "kv", "put", "k.greeting", "hello world", NULL }, 0, "", "");
    check_kv((char *[]){ "kv", "get", "k.greeting", NULL }, 0, "hello world\n", "");
    check_kv((char *[]){ "kv", "put", "k.other", "2", NULL }, 0, "", "");
    check_kv((char *[]){ "kv", "list", NULL }, 0, NULL, "");
    struct run_result res;
    if (run_kv((char *[]){ "kv", "list", NULL }, &res) &&
        (!list_has(res.out, "k.greeting") || !list_has(res.out, "k.other")))
        test_fail("`kv list` printed \"%.60s\", without k.greeting and k.other", res.out);
    check_kv((char *[]){ "kv", "del", "k.greeting", NULL }, 0, "", "");
    check_kv((char *[]){ "kv", "get", "k.greeting", NULL }, 1, "", "no such key");
    check_kv((char *[]){ "kv", "del", "k.greeting", NULL }, 1, "", "no such key");
    char key[KVS_KEY_MAX + 2];
    long_key(key, "k.", KVS_KEY_MAX + 1);
    check_kv((char *[]){ "kv", "put", key, "v", NULL }, 1, "", "at most 64");
    check_kv((char *[]){ "kv", NULL }, 2, "", "usage");
    check_kv((char *[]){ "kv", "frob", "k.other", NULL }, 2, "", "usage");
    check_kv((char *[]){ "kv", "get", NULL }, 2, "", "usage");
    delete_prefix("k.");
}

// ---- the list and main -----------------------------------------------------------------------

static const char *boot_interface;  // the boot word kvs=..., "msg" without one

// The calls go the way the boot word says: kvs=rpc, into kvs's RPC entry (lab 5), on the
// caller's own thread (the kernel counts them); else as messages.
static void test_interface(void)
{
    struct hart_stats before, after;
    int hart = (int)sys_hart_self();
    test_pin_self(hart);
    sys_hart_stats(hart, &before);
    long err = kvs_put("interface", "x", 1);
    sys_hart_stats(hart, &after);
    if (err < 0)
        test_fail("kvs_put: %s", kvs_strerror(err));
    const char *how = kvs_interface();
    printf("kvstests: calls go to kvs by %s\n", how ? how : "(none)");
    if (!how || strcmp(how, boot_interface) != 0)
        test_fail("calls go by %s, with kvs=%s", how ? how : "(none)", boot_interface);
    uint64_t rpcs = after.rpc_calls - before.rpc_calls;
    if ((strcmp(boot_interface, "rpc") == 0) != (rpcs > 0))
        test_fail("%lu RPC calls on this hart for one kvs_put, with kvs=%s", (unsigned long)rpcs,
                  boot_interface);
    kvs_delete("interface");
}

static const struct test_case tests[] = {
    { "interface", test_interface, 0 },     { "protocol", test_protocol, 0 },
    { "bounds", test_bounds, 0 },           { "bad_requests", test_bad_requests, 0 },
    { "concurrency", test_concurrency, 0 }, { "restart", test_restart, 0 },
    { "kv_command", test_kv_command, 0 },
};

static const struct test_suite suite = {
    .name = "kvstests",
    .tests = tests,
    .ntests = (int)(sizeof(tests) / sizeof(tests[0])),
};

int main(int argc, char *argv[])
{
    boot_interface = arg_value(argc, argv, "kvs");
    if (!boot_interface)
        boot_interface = "msg";
    return test_suite_main(&suite, argc, argv);
}
