// ipctests: message passing tested from user space. init runs it for the boot argument
// `run=ipctests` (all tests) or with `ipctests=NAME,NAME` as well (those only). The
// output contract is usertests': each test prints `TEST <name>: ok <nonce>` or
// `TEST <name>: FAIL <why> <nonce>` (the nonce from the word nonce=...), failures
// beyond a test's first get `ipctests:` lines of their own, and the exit status is 0
// when all passed. The runner is user/lib/testsuite.c's.
//
// Servers are threads of this process, or copies of this program started with
// `ipctests --child MODE` from the boot archive (spawn_from_bootfs, which needs the
// archive handle) and given an endpoint as startup handle STARTUP_H_SPARE:
//   echo     answers every call: w[0] + 1, the badge, the buffer echoed
//   hang     answers one call, then receives the next and never answers it
//   caller   calls once (and waits for ever: the test kills it)
// Processes are killed and waited for with their process handle, not through pm, so
// that the tests depend on the kernel alone.
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootfs.h"
#include "ipc.h"
#include "spawn.h"
#include "testsuite.h"
#include "ulib.h"
#include "uthread.h"

#define KERNEL_VA 0xffffffc080200000ULL  // the kernel's text: never user memory
#define BAD_VA    0x10ULL                // below USER_MIN: never mapped
#define MAP_VA_A  0x3000000000ULL        // free places to map regions at
#define MAP_VA_B  0x3000100000ULL
#define MS        1000000ULL  // ns

// Operations of the echo servers (w[0]); anything else is echoed as w[0] + 1.
#define OP_STOP 0x5707  // the in-process server answers, then its thread ends

// ---- helpers ------------------------------------------------------------------------------

// Fails unless got == want; what names the call.
static void expect(long got, long want, const char *what)
{
    char g[24], w[24];
    if (got == want)
        return;
    snprintf(g, sizeof(g), "%s", got < 0 ? abi_strerror(got) : "");
    snprintf(w, sizeof(w), "%s", want < 0 ? abi_strerror(want) : "");
    if (got >= 0)
        snprintf(g, sizeof(g), "%ld", got);
    if (want >= 0)
        snprintf(w, sizeof(w), "%ld", want);
    test_fail("%s: %s, not %s", what, g, w);
}

static handle_t new_endpoint(void)
{
    long ep = sys_endpoint_create();
    if (ep < 0) {
        test_fail("sys_endpoint_create: %s", abi_strerror(ep));
        return 0;
    }
    return (handle_t)ep;
}

static handle_t dup_rights(handle_t h, uint32_t rights)
{
    long d = sys_handle_dup(h, rights);
    if (d < 0) {
        test_fail("sys_handle_dup: %s", abi_strerror(d));
        return 0;
    }
    return (handle_t)d;
}

// One call with words only; returns the call's status, the reply in *m.
static long call_words(handle_t ep, struct ipc_msg *m, uint64_t w0, uint64_t w1)
{
    *m = (struct ipc_msg){ .w = { w0, w1, 0, 0 } };
    return ipc_call(ep, m, NULL);
}

// ---- the servers ------------------------------------------------------------------------

// The echo server's answer to m (received with x's buffer holding len bytes).
static void echo_answer(struct ipc_msg *m, struct ipc_xfer *x, void *buf)
{
    uint64_t len = x->recv_len;
    if (x->recv_handle)
        sys_handle_close(x->recv_handle);
    m->w[0] += 1;
    m->w[3] = m->badge;
    *x = (struct ipc_xfer){ .send_buf = (uint64_t)(uintptr_t)buf,
                            .send_len = len,
                            .recv_buf = (uint64_t)(uintptr_t)buf,
                            .recv_cap = IPC_BUF_MAX };
}

// Serves ep until OP_STOP (when stop) or until the endpoint is gone; returns how many
// calls it answered.
static long echo_loop(handle_t ep, bool stop, uint8_t *buf)
{
    struct ipc_msg m;
    struct ipc_xfer x = { .recv_buf = (uint64_t)(uintptr_t)buf, .recv_cap = IPC_BUF_MAX };
    long served = 0;
    long err = ipc_recv(ep, &m, &x, 0);
    for (;;) {
        if (err < 0) {
            if (err == E_DEAD || err == E_BADHANDLE)
                return served;
            x = (struct ipc_xfer){ .recv_buf = (uint64_t)(uintptr_t)buf, .recv_cap = IPC_BUF_MAX };
            err = ipc_recv(ep, &m, &x, 0);
            continue;
        }
        bool last = stop && m.w[0] == OP_STOP;
        echo_answer(&m, &x, buf);
        served++;
        if (last) {
            ipc_reply(&m, &x);
            return served;
        }
        err = ipc_reply_recv(ep, &m, &x);
    }
}

// The echo server of the in-process tests (stop: until OP_STOP) and of the child
// processes (until killed).
static long echo_serve(handle_t ep, bool stop)
{
    uint8_t *buf = malloc(IPC_BUF_MAX);
    if (!buf)
        return E_NOMEM;
    long served = echo_loop(ep, stop, buf);
    free(buf);
    return served;
}

static long echo_thread(void *arg)
{
    return echo_serve((handle_t)(uintptr_t)arg, true);
}

struct server_thread {
    struct uthread t;
    handle_t ep;
};

static bool server_start(struct server_thread *s, handle_t ep)
{
    s->ep = ep;
    long err = uthread_start(&s->t, echo_thread, (void *)(uintptr_t)ep, UTHREAD_STACK_DEFAULT);
    if (err < 0) {
        test_fail("uthread_start: %s", abi_strerror(err));
        return false;
    }
    return true;
}

// Stops the server with OP_STOP; returns how many calls it answered.
static long server_stop(struct server_thread *s)
{
    struct ipc_msg m;
    long err = call_words(s->ep, &m, OP_STOP, 0);
    if (err < 0)
        test_fail("stopping the server: %s", abi_strerror(err));
    long served = -1;
    uthread_join(&s->t, &served);
    return served;
}

// ---- child processes ------------------------------------------------------------------------

// Starts `ipctests --child mode` with ep as its STARTUP_H_SPARE.
static long child_start(const char *mode, handle_t ep, handle_t *proc)
{
    char *argv[] = { "ipctests", "--child", (char *)mode, NULL };
    handle_t give[STARTUP_MAX_HANDLES] = { 0 };
    give[STARTUP_H_STDOUT] = startup_handle(STARTUP_H_STDOUT);
    give[STARTUP_H_STDERR] = startup_handle(STARTUP_H_STDERR);
    give[STARTUP_H_SPARE] = ep;
    long err = spawn_from_bootfs("ipctests", argv, give, STARTUP_MAX_HANDLES, proc);
    if (err < 0)
        test_fail("cannot start an ipctests child (%s): %s", mode, abi_strerror(err));
    return err;
}

// Kills a child and waits for it; its handle is closed.
static void child_end(handle_t proc)
{
    int status;
    long err = sys_process_kill(proc);
    if (err == 0)
        err = sys_process_wait(proc, &status);
    if (err < 0)
        test_fail("killing a child: %s", abi_strerror(err));
    sys_handle_close(proc);
}

static int child_main(const char *mode)
{
    handle_t ep = startup_handle(STARTUP_H_SPARE);
    struct ipc_msg m;
    if (strcmp(mode, "echo") == 0)
        return echo_serve(ep, false) >= 0 ? 0 : 1;
    if (strcmp(mode, "hang") == 0) {
        if (ipc_recv(ep, &m, NULL, 0) < 0 || ipc_reply(&m, NULL) < 0)
            return 1;
        ipc_recv(ep, &m, NULL, 0);
        for (;;)
            sys_sleep(1000 * MS);  // owing a reply, until killed
    }
    if (strcmp(mode, "hold") == 0) {
        for (;;)
            sys_sleep(1000 * MS);  // holding ep, until killed
    }
    if (strcmp(mode, "caller") == 0) {
        call_words(ep, &m, 0xca11, 0);
        return 0;
    }
    printf("ipctests: no child mode %s\n", mode);
    return 1;
}

// ---- ping_pong -------------------------------------------------------------------------------

// n calls with words and a buffer of a varying length, each checked against its echo.
static void ping_pong_rounds(handle_t ep, int n, const char *who)
{
    static uint8_t out[IPC_BUF_MAX], in[IPC_BUF_MAX];
    for (int i = 0; i < n && !test_failed(); i++) {
        uint64_t len = i == n - 1 ? IPC_BUF_MAX : (uint64_t)(i * 37) % IPC_BUF_MAX;
        for (uint64_t k = 0; k < len; k++)
            out[k] = (uint8_t)(i + k * 7);
        struct ipc_msg m = { .w = { (uint64_t)i * 2, 0xa1, 0xb2, 0xc3 } };
        struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)out,
                              .send_len = len,
                              .recv_buf = (uint64_t)(uintptr_t)in,
                              .recv_cap = IPC_BUF_MAX };
        long err = ipc_call(ep, &m, &x);
        if (err < 0)
            test_fail("%s: call %d: %s", who, i, abi_strerror(err));
        else if (m.w[0] != (uint64_t)i * 2 + 1 || m.w[1] != 0xa1 || m.w[2] != 0xb2)
            test_fail("%s: call %d: reply words %lx %lx %lx", who, i, (unsigned long)m.w[0],
                      (unsigned long)m.w[1], (unsigned long)m.w[2]);
        else if (x.recv_len != len || memcmp(in, out, len) != 0)
            test_fail("%s: call %d: %lu bytes sent, %lu came back (or different ones)", who, i,
                      (unsigned long)len, (unsigned long)x.recv_len);
    }
}

// ipc_send delivers to a waiting receiver without waiting for a reply, and there is then
// nobody to reply to.
static long send_receiver(void *arg)
{
    handle_t ep = (handle_t)(uintptr_t)arg;
    struct ipc_msg m;
    long err = ipc_recv(ep, &m, NULL, 0);
    if (err < 0)
        return err;
    if (m.w[0] != 0x5e4d)
        return -100;
    return ipc_reply(&m, NULL) == E_INVAL ? 0 : -101;
}

static void test_ping_pong(void)
{
    handle_t ep = new_endpoint();
    struct server_thread s;
    if (ep && server_start(&s, ep)) {
        ping_pong_rounds(ep, 200, "thread server");
        long served = server_stop(&s);
        if (served != 200 + 1)
            test_fail("the thread server answered %ld calls, not 201", served);
    }
    handle_t proc;
    if (ep && child_start("echo", ep, &proc) == 0) {
        ping_pong_rounds(ep, 200, "process server");
        child_end(proc);
    }
    struct uthread t;
    if (ep && uthread_start(&t, send_receiver, (void *)(uintptr_t)ep, UTHREAD_STACK_DEFAULT) == 0) {
        sys_sleep(10 * MS);  // let it wait, so the send finds it
        struct ipc_msg m = { .w = { 0x5e4d } };
        expect(ipc_send(ep, &m, NULL, 0), 0, "ipc_send to a waiting receiver");
        long value = -999;
        uthread_join(&t, &value);
        if (value == -100)
            test_fail("the receiver of ipc_send got other words");
        else if (value == -101)
            test_fail("ipc_reply after receiving a send did not say E_INVAL");
        else if (value < 0)
            test_fail("the receiver of ipc_send: %s", abi_strerror(value));
    }
    if (ep)
        sys_handle_close(ep);
}

// ---- many_clients ------------------------------------------------------------------------

#define CLIENTS      8
#define CLIENT_CALLS 200

static handle_t order_ep;
static uint64_t order_next[CLIENTS];  // the server's: the sequence number it expects next
static long order_errors;

// Answers CLIENTS * CLIENT_CALLS calls, checking each client's sequence numbers.
static long order_server(void *arg)
{
    struct ipc_msg m;
    long err = ipc_recv(order_ep, &m, NULL, 0);
    for (int n = 0; n < CLIENTS * CLIENT_CALLS; n++) {
        if (err < 0)
            return err;
        uint64_t id = m.w[0], seq = m.w[1];
        bool ok = id < CLIENTS && seq == order_next[id];
        if (!ok)
            order_errors++;
        else
            order_next[id]++;
        m.w[2] = ok;
        err = n + 1 < CLIENTS * CLIENT_CALLS ? ipc_reply_recv(order_ep, &m, NULL)
                                             : ipc_reply(&m, NULL);
    }
    return err;
}

// Returns how many replies were not what it expected.
static long order_client(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    long bad = 0;
    for (uint64_t seq = 0; seq < CLIENT_CALLS; seq++) {
        struct ipc_msg m = { .w = { id, seq } };
        long err = ipc_call(order_ep, &m, NULL);
        if (err < 0)
            return -1000 + err;
        bad += m.w[0] != id || m.w[1] != seq || m.w[2] != 1;
    }
    return bad;
}

static void test_many_clients(void)
{
    order_ep = new_endpoint();
    if (!order_ep)
        return;
    memset(order_next, 0, sizeof(order_next));
    order_errors = 0;
    struct uthread server, clients[CLIENTS];
    if (uthread_start(&server, order_server, NULL, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot start the server thread");
        return;
    }
    int started = 0;
    for (int i = 0; i < CLIENTS; i++) {
        if (uthread_start(&clients[i], order_client, (void *)(uintptr_t)i, UTHREAD_STACK_DEFAULT) <
            0) {
            test_fail("cannot start client thread %d", i);
            clients[i].handle = 0;
        } else {
            started++;
        }
    }
    for (int i = 0; i < CLIENTS; i++) {
        long value = -999;
        if (clients[i].handle)
            uthread_join(&clients[i], &value);
        if (value < -900)
            test_fail("client %d: a call failed: %s", i, abi_strerror(value + 1000));
        else if (value > 0)
            test_fail("client %d: %ld replies out of order or wrong", i, value);
    }
    if (started < CLIENTS)
        sys_handle_close(order_ep);  // the server waits for calls that will never come
    long value = -999;
    uthread_join(&server, &value);
    if (started == CLIENTS && value < 0)
        test_fail("the server: %s", abi_strerror(value));
    if (order_errors)
        test_fail("the server saw %ld calls out of order", order_errors);
    for (int i = 0; i < started; i++)
        if (order_next[i] != CLIENT_CALLS)
            test_fail("client %d was served %lu times, not %d", i, (unsigned long)order_next[i],
                      CLIENT_CALLS);
    if (started == CLIENTS)
        sys_handle_close(order_ep);
}

// ---- badges ---------------------------------------------------------------------------------

// The badge the echo server saw for a call on h (it returns it in w[3]), or ~0 on error.
static uint64_t badge_seen(handle_t h)
{
    struct ipc_msg m;
    long err = call_words(h, &m, 1, 0);
    if (err < 0) {
        test_fail("a call on handle %d: %s", h, abi_strerror(err));
        return ~0ULL;
    }
    return m.w[3];
}

static void test_badges(void)
{
    static const uint64_t badges[] = { 1, 42, 0x7edcba9876543210ULL };
    handle_t ep = new_endpoint();
    struct server_thread s;
    if (!ep || !server_start(&s, ep))
        return;
    if (badge_seen(ep) != 0)
        test_fail("the unbadged handle delivered a badge");
    handle_t minted[3] = { 0 };
    for (int i = 0; i < 3; i++) {
        long h = sys_handle_mint(ep, badges[i], RIGHT_SEND | RIGHT_DUP | RIGHT_TRANSFER, 0);
        if (h < 0) {
            test_fail("sys_handle_mint(badge %lx): %s", (unsigned long)badges[i], abi_strerror(h));
            continue;
        }
        minted[i] = (handle_t)h;
        uint64_t b = badge_seen(minted[i]);
        if (b != badges[i])
            test_fail("a handle minted with badge %lx delivered %lx", (unsigned long)badges[i],
                      (unsigned long)b);
    }
    if (minted[1]) {
        // A copy keeps its badge, or a client could strip it and pose as the server's own.
        handle_t d = dup_rights(minted[1], RIGHT_SEND);
        if (d && badge_seen(d) != badges[1])
            test_fail("a duplicate of a badged handle lost its badge");
        if (d)
            sys_handle_close(d);
        expect(sys_handle_mint(minted[1], 7, RIGHT_SEND, 0), E_PERM,
               "minting from a badged handle");
    }
    expect(sys_handle_mint(ep, 0, RIGHT_SEND, 0), E_INVAL, "minting badge 0");
    expect(sys_handle_mint(ep, 5, 1u << 20, 0), E_INVAL, "minting with rights that do not exist");
    expect(sys_handle_mint(ep, 5, RIGHT_SEND, 2), E_INVAL, "minting with flags that do not exist");
    handle_t no_dup = dup_rights(ep, RIGHT_SEND);
    if (no_dup) {
        expect(sys_handle_mint(no_dup, 5, RIGHT_SEND, 0), E_RIGHTS, "minting without RIGHT_DUP");
        sys_handle_close(no_dup);
    }
    server_stop(&s);
    for (int i = 0; i < 3; i++)
        if (minted[i])
            sys_handle_close(minted[i]);
    sys_handle_close(ep);
}

// ---- handle_transfer -------------------------------------------------------------------------

// The receiving side: tries what the region handle it gets allows, and answers
//   w[0] = region_map writable, w[1] = region_map read-only, w[2] = the first byte read
//   through the read-only mapping, w[3] = sys_handle_dup of it.
static long transfer_receiver(void *arg)
{
    handle_t ep = (handle_t)(uintptr_t)arg;
    for (;;) {
        struct ipc_msg m;
        struct ipc_xfer x = { 0 };
        long err = ipc_recv(ep, &m, &x, 0);
        if (err < 0)
            return err;
        if (m.w[0] == OP_STOP) {
            ipc_reply(&m, NULL);
            return 0;
        }
        handle_t h = x.recv_handle;
        m.w[0] =
            (uint64_t)sys_region_map(h, H_SELF, MAP_VA_B, 0, PAGE_SIZE, PROT_READ | PROT_WRITE);
        if ((long)m.w[0] == 0)
            sys_mem_unmap(H_SELF, MAP_VA_B, PAGE_SIZE);
        m.w[1] = (uint64_t)sys_region_map(h, H_SELF, MAP_VA_B, 0, PAGE_SIZE, PROT_READ);
        m.w[2] = (long)m.w[1] == 0 ? *(volatile uint8_t *)(uintptr_t)MAP_VA_B : 0xfff;
        if ((long)m.w[1] == 0)
            sys_mem_unmap(H_SELF, MAP_VA_B, PAGE_SIZE);
        long d = h ? sys_handle_dup(h, RIGHT_READ) : E_BADHANDLE;
        m.w[3] = (uint64_t)d;
        if (d > 0)
            sys_handle_close((handle_t)d);
        if (h)
            sys_handle_close(h);
        ipc_reply(&m, NULL);
    }
}

// Sends region handle h with rights; expects the receiver to map it read-only only.
static void transfer_read_only(handle_t ep, handle_t h, uint32_t rights, const char *how)
{
    struct ipc_msg m = { .w = { 1 } };
    struct ipc_xfer x = { .send_handle = h, .send_rights = rights };
    long err = ipc_call(ep, &m, &x);
    if (err < 0) {
        test_fail("%s: sending the handle: %s", how, abi_strerror(err));
        return;
    }
    expect((long)m.w[0], E_RIGHTS, "mapping writable a region received read-only");
    expect((long)m.w[1], 0, "mapping read-only a region received read-only");
    if ((long)m.w[1] == 0 && m.w[2] != 0x5a)
        test_fail("%s: the receiver read %lx, not the 5a written", how, (unsigned long)m.w[2]);
    expect((long)m.w[3], E_RIGHTS, "duplicating a handle received without RIGHT_DUP");
}

static long move_receiver(void *arg)
{
    struct ipc_msg m = { 0 };
    struct ipc_xfer x = { 0 };
    long err = ipc_recv((handle_t)(uintptr_t)arg, &m, &x, 0);
    return err < 0 ? err : (long)x.recv_handle;
}

// IPC_MOVE: the sender's handle is closed as the message takes it, and also when the
// message then fails; a handle the call never took stays.
static void moved_handles(handle_t r)
{
    handle_t ep = new_endpoint();
    handle_t a = dup_rights(r, RIGHT_READ | RIGHT_TRANSFER);
    handle_t b = dup_rights(r, RIGHT_READ | RIGHT_TRANSFER);
    struct uthread t;
    if (!ep || !a || !b ||
        uthread_start(&t, move_receiver, (void *)(uintptr_t)ep, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot set up the moves");
        return;
    }
    struct ipc_msg m = { .w = { 1 } };
    struct ipc_xfer x = { .send_handle = a, .send_rights = RIGHT_READ };
    expect(ipc_send(ep, &m, &x, IPC_MOVE), 0, "a send that moves a handle");
    long got = 0;
    uthread_join(&t, &got);
    // The receiver is in our process: it may get a's very slot, which proves a went.
    if (got != a)
        expect(sys_handle_close(a), E_BADHANDLE, "closing the handle moved");
    expect(got > 0 ? sys_handle_close((handle_t)got) : got, 0, "closing the handle received");
    x.send_handle = b;
    expect(ipc_send(ep, &m, &x, IPC_NONBLOCK | IPC_MOVE), E_AGAIN, "a move nobody receives");
    expect(sys_handle_close(b), E_BADHANDLE, "closing a handle moved into a failed send");
    x.send_handle = 999;
    expect(ipc_send(ep, &m, &x, IPC_NONBLOCK | IPC_MOVE), E_BADHANDLE, "moving handle 999");
    x.send_handle = r;
    expect(ipc_recv(ep, &m, &x, IPC_MOVE), E_INVAL, "ipc_recv with IPC_MOVE");
    expect(ipc_reply_flags(&m, &x, IPC_MOVE), E_INVAL, "a moving reply with no caller");
    expect(ipc_reply_recv_flags(ep, &m, &x, 0x80), E_INVAL, "ipc_reply_recv with an unknown flag");
    expect(sys_handle_close(dup_rights(r, RIGHT_READ)), 0, "r, still open after all that");
    sys_handle_close(ep);
}

static void test_handle_transfer(void)
{
    handle_t ep = new_endpoint();
    long region = sys_region_create(PAGE_SIZE);
    if (region < 0) {
        test_fail("sys_region_create: %s", abi_strerror(region));
        return;
    }
    handle_t r = (handle_t)region;
    long err = sys_region_map(r, H_SELF, MAP_VA_A, 0, PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (err < 0) {
        test_fail("mapping the region: %s", abi_strerror(err));
    } else {
        *(volatile uint8_t *)(uintptr_t)MAP_VA_A = 0x5a;
        sys_mem_unmap(H_SELF, MAP_VA_A, PAGE_SIZE);
    }
    struct uthread t;
    if (!ep ||
        uthread_start(&t, transfer_receiver, (void *)(uintptr_t)ep, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot start the receiver");
        sys_handle_close(r);
        return;
    }
    // Fewer rights asked for than held: they arrive cut down.
    transfer_read_only(ep, r, RIGHT_READ, "sent with RIGHT_READ");
    // More asked for than held: cut down to the handle's own.
    handle_t ro = dup_rights(r, RIGHT_READ | RIGHT_TRANSFER);
    if (ro) {
        transfer_read_only(ep, ro, RIGHT_ALL, "a read-only handle sent with RIGHT_ALL");
        sys_handle_close(ro);
    }
    // A handle without RIGHT_TRANSFER cannot be sent at all.
    handle_t keep = dup_rights(r, RIGHT_READ | RIGHT_WRITE);
    if (keep) {
        struct ipc_msg m = { .w = { 1 } };
        struct ipc_xfer x = { .send_handle = keep, .send_rights = RIGHT_READ };
        expect(ipc_call(ep, &m, &x), E_RIGHTS, "sending a handle without RIGHT_TRANSFER");
        sys_handle_close(keep);
    }
    struct ipc_msg m = { .w = { 1 } };
    struct ipc_xfer x = { .send_handle = 999, .send_rights = RIGHT_READ };
    expect(ipc_call(ep, &m, &x), E_BADHANDLE, "sending handle 999");
    moved_handles(r);
    struct ipc_msg stop;
    call_words(ep, &stop, OP_STOP, 0);
    long value = -999;
    uthread_join(&t, &value);
    if (value < 0)
        test_fail("the receiver: %s", abi_strerror(value));
    sys_handle_close(r);
    sys_handle_close(ep);
}

// ---- bad_args ------------------------------------------------------------------------------

// Every IPC call that takes an endpoint, with handle h: each must fail with want.
static void every_call_fails(handle_t h, long want, const char *what)
{
    char label[96];
    struct ipc_msg m = { 0 };
    snprintf(label, sizeof(label), "ipc_call on %s", what);
    expect(ipc_call(h, &m, NULL), want, label);
    snprintf(label, sizeof(label), "ipc_send on %s", what);
    expect(ipc_send(h, &m, NULL, IPC_NONBLOCK), want, label);
    snprintf(label, sizeof(label), "ipc_recv on %s", what);
    expect(ipc_recv(h, &m, NULL, IPC_NONBLOCK), want, label);
    snprintf(label, sizeof(label), "ipc_reply_recv on %s", what);
    expect(ipc_reply_recv(h, &m, NULL), want, label);
}

static void bad_handles(handle_t ep)
{
    every_call_fails(0, E_BADHANDLE, "handle 0");
    every_call_fails(999, E_BADHANDLE, "handle 999");
    every_call_fails(-7, E_BADHANDLE, "handle -7");
    every_call_fails(H_SELF, E_BADHANDLE, "H_SELF");
    long n = sys_notify_create();
    if (n > 0) {
        every_call_fails((handle_t)n, E_BADHANDLE, "a notification");
        sys_handle_close((handle_t)n);
    }
    expect(sys_notify_signal(ep, 1), E_BADHANDLE, "sys_notify_signal on an endpoint");
    expect(sys_notify_wait(ep, IPC_NONBLOCK), E_BADHANDLE, "sys_notify_wait on an endpoint");
}

static void bad_rights(handle_t ep)
{
    struct ipc_msg m = { 0 };
    handle_t send_only = dup_rights(ep, RIGHT_SEND);
    if (send_only) {
        expect(ipc_recv(send_only, &m, NULL, IPC_NONBLOCK), E_RIGHTS, "ipc_recv on SEND only");
        expect(ipc_reply_recv(send_only, &m, NULL), E_RIGHTS, "ipc_reply_recv on SEND only");
        sys_handle_close(send_only);
    }
    handle_t recv_only = dup_rights(ep, RIGHT_RECV);
    if (recv_only) {
        expect(ipc_call(recv_only, &m, NULL), E_RIGHTS, "ipc_call on RECV only");
        expect(ipc_send(recv_only, &m, NULL, IPC_NONBLOCK), E_RIGHTS, "ipc_send on RECV only");
        sys_handle_close(recv_only);
    }
}

// With an echo server receiving on ep: bad buffers and lengths.
static void bad_buffers(handle_t ep)
{
    static uint8_t buf[IPC_BUF_MAX + 1];
    struct ipc_msg m = { 0 };
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)buf, .send_len = IPC_BUF_MAX + 1 };
    expect(ipc_call(ep, &m, &x), E_TOOBIG, "ipc_call with IPC_BUF_MAX + 1 bytes");
    expect(ipc_send(ep, &m, &x, IPC_NONBLOCK), E_TOOBIG, "ipc_send with IPC_BUF_MAX + 1 bytes");
    x = (struct ipc_xfer){ .send_buf = BAD_VA, .send_len = 16 };
    expect(ipc_call(ep, &m, &x), E_FAULT, "ipc_call sending from an unmapped buffer");
    x = (struct ipc_xfer){ .send_buf = KERNEL_VA, .send_len = 16 };
    expect(ipc_call(ep, &m, &x), E_FAULT, "ipc_call sending from the kernel's memory");
    expect(ipc_call(ep, &m, (struct ipc_xfer *)(uintptr_t)BAD_VA), E_FAULT,
           "ipc_call with an unmapped struct ipc_xfer");
    expect(ipc_call(ep, &m, (struct ipc_xfer *)(uintptr_t)KERNEL_VA), E_FAULT,
           "ipc_call with a struct ipc_xfer in the kernel");
    // The echo server sends the 16 bytes back: to nowhere, then into too little room.
    x = (struct ipc_xfer){
        .send_buf = (uint64_t)(uintptr_t)buf, .send_len = 16, .recv_buf = BAD_VA, .recv_cap = 16
    };
    expect(ipc_call(ep, &m, &x), E_FAULT, "a reply into an unmapped buffer");
    x = (struct ipc_xfer){ .send_buf = (uint64_t)(uintptr_t)buf,
                           .send_len = 16,
                           .recv_buf = (uint64_t)(uintptr_t)buf,
                           .recv_cap = 8 };
    expect(ipc_call(ep, &m, &x), E_TOOBIG, "a reply of 16 bytes into room for 8");
    // The server survived all that and still answers.
    x = (struct ipc_xfer){ .send_buf = (uint64_t)(uintptr_t)buf,
                           .send_len = 16,
                           .recv_buf = (uint64_t)(uintptr_t)buf,
                           .recv_cap = 16 };
    m = (struct ipc_msg){ .w = { 41 } };
    long err = ipc_call(ep, &m, &x);
    if (err < 0 || m.w[0] != 42 || x.recv_len != 16)
        test_fail("the server does not answer after bad calls: %s", abi_strerror(err));
}

// A receiver with room for 8 bytes: a 16-byte message is the sender's E_TOOBIG.
static long small_receiver(void *arg)
{
    handle_t ep = (handle_t)(uintptr_t)arg;
    uint8_t small[8];
    struct ipc_msg m;
    struct ipc_xfer x = { .recv_buf = (uint64_t)(uintptr_t)small, .recv_cap = sizeof(small) };
    long err = ipc_recv(ep, &m, &x, 0);
    if (err == 0)
        ipc_reply(&m, NULL);
    return err == 0 ? (long)x.recv_len : err;
}

static void bad_receiver_room(void)
{
    handle_t ep = new_endpoint();
    struct uthread t;
    if (!ep || uthread_start(&t, small_receiver, (void *)(uintptr_t)ep, UTHREAD_STACK_DEFAULT) < 0)
        return;
    sys_sleep(10 * MS);
    uint8_t buf[16] = { 0 };
    struct ipc_msg m = { 0 };
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)buf, .send_len = 16 };
    expect(ipc_call(ep, &m, &x), E_TOOBIG, "16 bytes to a receiver with room for 8");
    x.send_len = 8;
    expect(ipc_call(ep, &m, &x), 0, "8 bytes to a receiver with room for 8");
    long value = -999;
    uthread_join(&t, &value);
    if (value != 8)
        test_fail("the receiver got %ld bytes, not 8", value);
    sys_handle_close(ep);
}

static void test_bad_args(void)
{
    handle_t ep = new_endpoint();
    if (!ep)
        return;
    bad_handles(ep);
    bad_rights(ep);
    struct ipc_msg m = { 0 };
    expect(ipc_reply(&m, NULL), E_INVAL, "ipc_reply with no caller");
    expect(ipc_send(ep, &m, NULL, IPC_NONBLOCK), E_AGAIN, "ipc_send, nonblocking, nobody waiting");
    expect(ipc_recv(ep, &m, NULL, IPC_NONBLOCK), E_AGAIN, "ipc_recv, nonblocking, nothing sent");
    expect(ipc_recv(ep, &m, NULL, 0x80), E_INVAL, "ipc_recv with an unknown flag");
    expect(ipc_send(ep, &m, NULL, 0x80), E_INVAL, "ipc_send with an unknown flag");
    struct server_thread s;
    if (server_start(&s, ep)) {
        bad_buffers(ep);
        server_stop(&s);
    }
    bad_receiver_room();
    sys_handle_close(ep);
}

// ---- server_death -------------------------------------------------------------------------

static long blocked_caller(void *arg)
{
    struct ipc_msg m;
    return call_words((handle_t)(uintptr_t)arg, &m, 2, 0);
}

// A server process killed while it owes a reply: the caller gets E_DEAD, and so does
// every later call (the endpoint closed with its last receiver).
static void death_mid_call(void)
{
    handle_t ep = new_endpoint();
    handle_t proc;
    if (!ep || child_start("hang", ep, &proc) < 0)
        return;
    handle_t send = dup_rights(ep, RIGHT_SEND);
    sys_handle_close(ep);  // the child holds the only handle that receives
    struct ipc_msg m;
    expect(call_words(send, &m, 1, 0), 0, "the first call to the hanging server");
    struct uthread t;
    if (uthread_start(&t, blocked_caller, (void *)(uintptr_t)send, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot start the caller");
        child_end(proc);
        return;
    }
    sys_sleep(50 * MS);  // the server receives the call, and keeps it
    child_end(proc);
    long value = -999;
    uthread_join(&t, &value);
    expect(value, E_DEAD, "a call whose server was killed");
    expect(call_words(send, &m, 3, 0), E_DEAD, "a call after the server died");
    sys_handle_close(send);
}

// Callers queued on an endpoint whose last receiving handle closes: all woken, E_DEAD.
static void death_queued(void)
{
    enum { QUEUED = 4 };
    handle_t ep = new_endpoint();
    handle_t send = ep ? dup_rights(ep, RIGHT_SEND) : 0;
    if (!send)
        return;
    struct uthread t[QUEUED];
    for (int i = 0; i < QUEUED; i++)
        if (uthread_start(&t[i], blocked_caller, (void *)(uintptr_t)send, UTHREAD_STACK_DEFAULT) <
            0)
            t[i].handle = 0;
    sys_sleep(50 * MS);  // all queued
    sys_handle_close(ep);
    for (int i = 0; i < QUEUED; i++) {
        long value = -999;
        if (!t[i].handle) {
            test_fail("cannot start caller %d", i);
            continue;
        }
        uthread_join(&t[i], &value);
        expect(value, E_DEAD, "a queued call when the endpoint closed");
    }
    sys_handle_close(send);
}

static void test_server_death(void)
{
    death_mid_call();
    death_queued();
}

// ---- dead_caller -------------------------------------------------------------------------

static void test_dead_caller(void)
{
    handle_t ep = new_endpoint();
    handle_t send = ep ? dup_rights(ep, RIGHT_SEND | RIGHT_TRANSFER) : 0;
    handle_t proc;
    if (!send || child_start("caller", send, &proc) < 0)
        return;
    sys_handle_close(send);
    struct ipc_msg m;
    long err = ipc_recv(ep, &m, NULL, 0);
    if (err < 0 || m.w[0] != 0xca11)
        test_fail("receiving the child's call: %s, w[0] = %lx", abi_strerror(err),
                  (unsigned long)m.w[0]);
    child_end(proc);
    m.w[0] = 1;
    expect(ipc_reply(&m, NULL), E_DEAD, "a reply to a killed caller");
    expect(ipc_reply(&m, NULL), E_INVAL, "a second reply");
    sys_handle_close(ep);
}

// ---- no_leaks ----------------------------------------------------------------------------

#define LEAK_CALLS    10000
#define LEAK_RESTARTS 100

// calls calls with a buffer and, every tenth, a handle the server closes.
static void leak_calls(handle_t ep, int calls)
{
    static uint8_t buf[64];
    for (int i = 0; i < calls && !test_failed(); i++) {
        handle_t give = i % 10 == 0 ? dup_rights(ep, RIGHT_SEND | RIGHT_TRANSFER) : 0;
        struct ipc_msg m = { .w = { (uint64_t)i } };
        struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)buf,
                              .send_len = sizeof(buf),
                              .recv_buf = (uint64_t)(uintptr_t)buf,
                              .recv_cap = sizeof(buf),
                              .send_handle = give,
                              .send_rights = RIGHT_SEND };
        long err = ipc_call(ep, &m, &x);
        if (err < 0 || m.w[0] != (uint64_t)i + 1)
            test_fail("call %d: %s", i, abi_strerror(err));
        if (give)
            sys_handle_close(give);
    }
}

static void leak_restarts(int n)
{
    for (int i = 0; i < n && !test_failed(); i++) {
        handle_t ep = new_endpoint();
        handle_t proc;
        if (!ep || child_start("echo", ep, &proc) < 0)
            return;
        struct ipc_msg m;
        long err = call_words(ep, &m, 7, 0);
        if (err < 0 || m.w[0] != 8)
            test_fail("restart %d: the server did not answer: %s", i, abi_strerror(err));
        child_end(proc);
        sys_handle_close(ep);
    }
}

static void leak_round(int calls, int restarts)
{
    handle_t ep = new_endpoint();
    struct server_thread s;
    if (!ep || !server_start(&s, ep))
        return;
    leak_calls(ep, calls);
    server_stop(&s);
    sys_handle_close(ep);
    leak_restarts(restarts);
}

static void test_no_leaks(void)
{
    leak_round(200, 3);  // warm-up: this process's heap and the kernel's caches fill
    struct sys_stats before = test_counts_settled();
    leak_round(LEAK_CALLS, LEAK_RESTARTS);
    test_expect_counts(&before, "calls and restarts");
}

// ---- notifications -------------------------------------------------------------------------

static long late_signaller(void *arg)
{
    sys_sleep(20 * MS);
    return sys_notify_signal((handle_t)(uintptr_t)arg, 0x40);
}

static void test_notifications(void)
{
    long n = sys_notify_create();
    if (n < 0) {
        test_fail("sys_notify_create: %s", abi_strerror(n));
        return;
    }
    handle_t h = (handle_t)n;
    expect(sys_notify_wait(h, IPC_NONBLOCK), E_AGAIN, "a nonblocking wait with no bits");
    expect(sys_notify_signal(h, 0x5), 0, "signal 0x5");
    expect(sys_notify_wait(h, 0), 0x5, "the wait after signal 0x5");
    expect(sys_notify_wait(h, IPC_NONBLOCK), E_AGAIN, "a wait after the bits were taken");
    sys_notify_signal(h, 0x1);
    sys_notify_signal(h, 0x2);
    sys_notify_signal(h, 0x2);
    expect(sys_notify_wait(h, IPC_NONBLOCK), 0x3, "the wait after signals 1, 2, 2");
    struct uthread t;
    if (uthread_start(&t, late_signaller, (void *)(uintptr_t)h, UTHREAD_STACK_DEFAULT) == 0) {
        uint64_t start = time_now();
        expect(sys_notify_wait(h, 0), 0x40, "a wait for a signal 20 ms later");
        if (time_now() - start < time_from_ms(10))
            test_fail("the blocking wait returned before the signal");
        uthread_join(&t, NULL);
    }
    expect(sys_notify_signal(h, 0), E_INVAL, "signalling no bits");
    expect(sys_notify_signal(h, 1ULL << 63), E_INVAL, "signalling bit 63");
    expect(sys_notify_wait(h, 0x80), E_INVAL, "waiting with an unknown flag");
    handle_t send_only = dup_rights(h, RIGHT_SEND);
    if (send_only) {
        expect(sys_notify_wait(send_only, IPC_NONBLOCK), E_RIGHTS, "waiting on SEND only");
        sys_handle_close(send_only);
    }
    handle_t recv_only = dup_rights(h, RIGHT_RECV);
    if (recv_only) {
        expect(sys_notify_signal(recv_only, 1), E_RIGHTS, "signalling on RECV only");
        sys_handle_close(recv_only);
    }
    expect(sys_notify_signal(999, 1), E_BADHANDLE, "signalling handle 999");
    sys_handle_close(h);
}

// ---- fast_path ---------------------------------------------------------------------------------

#define FAST_CALLS 200

static bool fast_path_off;  // the boot argument ipcfast=0 is there

// Answers null calls, on the hart of its argument, with words + 1 and the badge.
static long pinned_echo(void *arg)
{
    uint64_t hart = (uint64_t)(uintptr_t)arg;
    sys_thread_set_affinity(H_SELF_THREAD, 1ULL << hart);
    struct ipc_msg m;
    long err = ipc_recv(order_ep, &m, NULL, 0);
    while (err == 0 && m.w[0] != OP_STOP) {
        m.w[0]++;
        m.w[1] = m.badge;
        err = ipc_reply_recv(order_ep, &m, NULL);
    }
    if (err == 0)
        ipc_reply(&m, NULL);
    return err;
}

static struct hart_stats hart_now(int hart)
{
    struct hart_stats st;
    memset(&st, 0, sizeof(st));
    if (sys_hart_stats(hart, &st) < 0)
        test_fail("sys_hart_stats failed");
    return st;
}

// Null calls between two threads pinned to one hart are all the fast path's (both the
// call and the reply_recv), unless ipcfast=0; a call with a buffer never is. Either way
// every reply is right.
static void test_fast_path(void)
{
    int hart = (int)sys_hart_self();
    sys_thread_set_affinity(H_SELF_THREAD, 1ULL << hart);
    hart = (int)sys_hart_self();
    order_ep = new_endpoint();
    long minted = order_ep ? sys_handle_mint(order_ep, 0xbad9e, RIGHT_SEND, 0) : E_INVAL;
    struct uthread t;
    if (minted < 0 ||
        uthread_start(&t, pinned_echo, (void *)(uintptr_t)hart, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot set up the server");
        return;
    }
    // Warm-up calls instead of a sleep, which assumed the server reached ipc_recv in time:
    // once a reply_recv has answered one, the server waits in its receive whenever this
    // thread runs, so every counted call finds it there.
    for (int i = 0; i < 10 && !test_failed(); i++) {
        struct ipc_msg m = { .w = { 0 } };
        long err = ipc_call((handle_t)minted, &m, NULL);
        if (err < 0 || m.w[0] != 1)
            test_fail("warm-up call %d: %s", i, abi_strerror(err));
    }
    struct hart_stats before = hart_now(hart);
    for (int i = 0; i < FAST_CALLS && !test_failed(); i++) {
        struct ipc_msg m = { .w = { (uint64_t)i, 0, 7, 8 } };
        long err = ipc_call((handle_t)minted, &m, NULL);
        if (err < 0 || m.w[0] != (uint64_t)i + 1 || m.w[1] != 0xbad9e || m.w[2] != 7)
            test_fail("null call %d: %s, words %lx %lx %lx", i, abi_strerror(err),
                      (unsigned long)m.w[0], (unsigned long)m.w[1], (unsigned long)m.w[2]);
    }
    struct hart_stats after = hart_now(hart);
    uint64_t fast = after.ipc_fast - before.ipc_fast;
    if (fast_path_off && fast != 0)
        test_fail("ipcfast=0, yet the fast path took %lu calls", (unsigned long)fast);
    if (!fast_path_off && fast < 2 * FAST_CALLS)
        test_fail("the fast path took %lu of the %d calls and replies", (unsigned long)fast,
                  2 * FAST_CALLS);
    // A buffer takes the general path, which finds the server has no room for it.
    uint8_t byte = 42;
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)&byte, .send_len = 1 };
    before = hart_now(hart);
    struct ipc_msg m = { .w = { 1 } };
    expect(ipc_call((handle_t)minted, &m, &x), E_TOOBIG, "a call with a byte, to no room");
    after = hart_now(hart);
    if (after.ipc_slow - before.ipc_slow < 1)
        test_fail("a call with a buffer was not handed to the general path");
    m = (struct ipc_msg){ .w = { OP_STOP } };
    expect(ipc_call((handle_t)minted, &m, NULL), 0, "stopping the server");
    long value = -999;
    uthread_join(&t, &value);
    if (value < 0)
        test_fail("the server: %s", abi_strerror(value));
    sys_handle_close((handle_t)minted);
    sys_handle_close(order_ep);
}

// ---- closing notices ----------------------------------------------------------------------

#define NOTICE_ROUNDS 4200  // more than the kernel's table of watched badges holds

// Expects the next thing ep has to receive, without waiting, to be a closing notice for
// badge (or nothing at all, if badge is 0).
static void expect_notice(handle_t ep, uint64_t badge, const char *when)
{
    struct ipc_msg m = { 0 };
    long err = ipc_recv(ep, &m, NULL, IPC_NONBLOCK);
    if (badge == 0 && err != E_AGAIN)
        test_fail("%s: a receive returned %ld (badge %lx), not E_AGAIN", when, err,
                  (unsigned long)m.badge);
    if (badge && (err != IPC_NOTICE || m.w[0] != IPC_NOTICE_CLOSED || m.badge != badge))
        test_fail("%s: a receive returned %ld, w[0] %lu, badge %lx; not a notice for %lx", when,
                  err, (unsigned long)m.w[0], (unsigned long)m.badge, (unsigned long)badge);
}

// The same, for a notice set off on another hart (a process torn down there): it is
// posted from that hart's kobj_reap, a moment after the close, so wait for it a while.
static void expect_notice_soon(handle_t ep, uint64_t badge, const char *when)
{
    struct ipc_msg m = { 0 };
    long err = E_AGAIN;
    for (int ms = 0; ms < 2000 && err == E_AGAIN; ms++) {
        err = ipc_recv(ep, &m, NULL, IPC_NONBLOCK);
        if (err == E_AGAIN)
            sys_sleep(MS);
    }
    if (err != IPC_NOTICE || m.w[0] != IPC_NOTICE_CLOSED || m.badge != badge)
        test_fail("%s: a receive returned %ld, w[0] %lu, badge %lx; not a notice for %lx", when,
                  err, (unsigned long)m.w[0], (unsigned long)m.badge, (unsigned long)badge);
}

static long notice_receiver(void *arg)
{
    struct ipc_msg m = { 0 };
    long err = ipc_recv((handle_t)(uintptr_t)arg, &m, NULL, 0);
    return err == IPC_NOTICE && m.w[0] == IPC_NOTICE_CLOSED ? (long)m.badge : err;
}

// Copies in this process: the notice comes at the last close of a copy of the minted
// handle, not before; a handle minted with the same badge without asking does not count.
static void notice_at_last_close(handle_t ep)
{
    long h1 = sys_handle_mint(ep, 0x51, RIGHT_SEND | RIGHT_DUP, MINT_NOTIFY_CLOSED);
    expect(h1 > 0 ? 0 : h1, 0, "minting with MINT_NOTIFY_CLOSED");
    if (h1 < 0)
        return;
    expect(sys_handle_mint(ep, 0x51, RIGHT_SEND, MINT_NOTIFY_CLOSED), E_EXIST,
           "asking twice about one badge");
    long h2 = sys_handle_dup((handle_t)h1, RIGHT_SEND);
    long unasked = sys_handle_mint(ep, 0x51, RIGHT_SEND, 0);
    expect_notice(ep, 0, "two copies open");
    sys_handle_close((handle_t)h1);
    expect_notice(ep, 0, "one copy open");
    sys_handle_close((handle_t)h2);
    expect_notice(ep, 0x51, "every copy closed, though another handle has the badge");
    expect_notice(ep, 0, "after the notice was received");
    sys_handle_close((handle_t)unasked);
    expect_notice(ep, 0, "the handle minted without asking closed");
    long again = sys_handle_mint(ep, 0x51, RIGHT_SEND, MINT_NOTIFY_CLOSED);
    expect(again > 0 ? 0 : again, 0, "asking again once the notice came");
    sys_handle_close((handle_t)again);
    expect_notice(ep, 0x51, "that copy closed");
}

// A copy in a message counts from the send to the receive: the sender may close its own
// meanwhile.
static handle_t flight_ep, flight_handle;

static long flight_sender(void *arg)
{
    (void)arg;
    struct ipc_msg m = { .w = { 1 } };
    struct ipc_xfer x = { .send_handle = flight_handle, .send_rights = RIGHT_SEND };
    return ipc_send(flight_ep, &m, &x, 0);
}

static void notice_in_flight(handle_t ep)
{
    flight_ep = new_endpoint();
    long h = sys_handle_mint(ep, 0x54, RIGHT_SEND | RIGHT_TRANSFER, MINT_NOTIFY_CLOSED);
    struct uthread t;
    if (!flight_ep || h < 0) {
        test_fail("cannot set up a message with a handle");
        return;
    }
    flight_handle = (handle_t)h;
    if (uthread_start(&t, flight_sender, NULL, 16 * 1024) < 0)
        return;
    sys_sleep(5 * MS);  // the sender waits in flight_ep's queue, the handle with it
    sys_handle_close(flight_handle);
    expect_notice(ep, 0, "the only copy in a message not yet received");
    struct ipc_msg m;
    struct ipc_xfer x = { 0 };
    expect(ipc_recv(flight_ep, &m, &x, 0), 0, "receiving the message");
    expect_notice(ep, 0, "the copy received");
    long sent = 0;
    uthread_join(&t, &sent);
    expect(sent, 0, "the send");
    if (x.recv_handle)
        sys_handle_close(x.recv_handle);
    expect_notice(ep, 0x54, "the received copy closed");
    sys_handle_close(flight_ep);
}

// A copy in a child that is killed: its death closes it.
static void notice_after_holder_killed(handle_t ep)
{
    long h = sys_handle_mint(ep, 0x52, RIGHT_SEND | RIGHT_TRANSFER, MINT_NOTIFY_CLOSED);
    handle_t child;
    if (h < 0 || child_start("hold", (handle_t)h, &child) < 0)
        return;
    sys_handle_close((handle_t)h);
    expect_notice(ep, 0, "the child still holds a copy");
    child_end(child);
    expect_notice_soon(ep, 0x52, "the child killed");
}

// A receiver already waiting is woken with the notice.
static void notice_wakes_receiver(handle_t ep)
{
    long h = sys_handle_mint(ep, 0x53, RIGHT_SEND, MINT_NOTIFY_CLOSED);
    struct uthread t;
    if (h < 0 || uthread_start(&t, notice_receiver, (void *)(uintptr_t)ep, 16 * 1024) < 0) {
        test_fail("cannot set up a receiver");
        return;
    }
    sys_sleep(5 * MS);  // let it block (if it has not, it finds the notice queued)
    sys_handle_close((handle_t)h);
    long got = 0;
    uthread_join(&t, &got);
    expect(got, 0x53, "the waiting receiver's notice (its badge)");
}

// A server that replies with a watched handle made for the reply, moving it, and then
// waits for a message that never comes (arg: its endpoint; the notices go to notices).
static handle_t notices;

static long moving_server(void *arg)
{
    handle_t srv = (handle_t)(uintptr_t)arg;
    struct ipc_msg m = { 0 };
    struct ipc_xfer x = { 0 };
    long err = ipc_recv(srv, &m, NULL, 0);
    long h = err < 0
                 ? err
                 : sys_handle_mint(notices, 0x56, RIGHT_SEND | RIGHT_TRANSFER, MINT_NOTIFY_CLOSED);
    if (h < 0)
        return h;
    x.send_handle = (handle_t)h;
    x.send_rights = RIGHT_SEND;
    err = ipc_reply_recv_flags(srv, &m, &x, IPC_MOVE);  // then waits: nothing else comes
    return err == E_DEAD ? 0 : err;
}

// The notice for a handle a server moved into its reply comes at the client's close,
// while the server still waits in the receive half of its reply_recv.
static void notice_after_moved_reply(handle_t ep)
{
    handle_t srv = new_endpoint();
    struct uthread t;
    notices = ep;
    if (!srv || uthread_start(&t, moving_server, (void *)(uintptr_t)srv, 16 * 1024) < 0) {
        test_fail("cannot start the moving server");
        return;
    }
    struct ipc_msg m = { 0 };
    struct ipc_xfer x = { 0 };
    expect(ipc_call(srv, &m, &x), 0, "a call answered with a moved handle");
    expect(x.recv_handle ? 0 : -1, 0, "a handle in the reply");
    expect_notice(ep, 0, "the client holds the only copy");
    sys_handle_close(x.recv_handle);
    expect_notice(ep, 0x56, "the client closed the moved handle");
    sys_handle_close(srv);  // the server's receive ends with E_DEAD
    long err = -1;
    uthread_join(&t, &err);
    expect(err, 0, "the moving server");
}

// Notices nobody receives go when their endpoint goes, whichever closes first.
static void notices_not_leaked(void)
{
    for (int i = 0; i < NOTICE_ROUNDS; i++) {
        long ep = sys_endpoint_create();
        long h = ep < 0 ? ep : sys_handle_mint((handle_t)ep, 7, RIGHT_SEND, MINT_NOTIFY_CLOSED);
        if (h < 0) {
            test_fail("round %d: %s", i, abi_strerror(h));
            if (ep > 0)
                sys_handle_close((handle_t)ep);
            return;
        }
        bool endpoint_first = i & 1;
        sys_handle_close((handle_t)(endpoint_first ? ep : h));
        sys_handle_close((handle_t)(endpoint_first ? h : ep));
    }
}

static void test_closing_notices(void)
{
    handle_t ep = new_endpoint();
    if (!ep)
        return;
    notice_at_last_close(ep);
    notice_in_flight(ep);
    notice_after_holder_killed(ep);
    notice_wakes_receiver(ep);
    notice_after_moved_reply(ep);
    notices_not_leaked();
    sys_handle_close(ep);
}

// ---- the list and main -----------------------------------------------------------------------

static const struct test_case tests[] = {
    { "ping_pong", test_ping_pong, TEST_NEEDS_BOOTFS },
    { "many_clients", test_many_clients, 0 },
    { "badges", test_badges, 0 },
    { "handle_transfer", test_handle_transfer, 0 },
    { "bad_args", test_bad_args, 0 },
    { "server_death", test_server_death, TEST_NEEDS_BOOTFS },
    { "dead_caller", test_dead_caller, TEST_NEEDS_BOOTFS },
    { "no_leaks", test_no_leaks, TEST_NEEDS_BOOTFS },
    { "notifications", test_notifications, 0 },
    { "fast_path", test_fast_path, 0 },
    { "closing_notices", test_closing_notices, TEST_NEEDS_BOOTFS },
};

// The tests that start copies of this program fail at once without a boot archive.
static const char *precondition(const struct test_case *t)
{
    const void *elf;
    uint64_t size;
    if ((t->flags & TEST_NEEDS_BOOTFS) && bootfs_find("ipctests", &elf, &size) < 0)
        return "no boot archive to start servers from";
    return NULL;
}

static const struct test_suite suite = {
    .name = "ipctests",
    .tests = tests,
    .ntests = (int)(sizeof(tests) / sizeof(tests[0])),
    .precondition = precondition,
};

int main(int argc, char *argv[])
{
    if (argc >= 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);
    const char *fast = arg_value(argc, argv, "ipcfast");
    fast_path_off = fast && strcmp(fast, "0") == 0;
    return test_suite_main(&suite, argc, argv);
}
