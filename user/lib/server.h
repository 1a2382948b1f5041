// The receive loop every user-level server shares: a pool of threads in ipc_recv on one
// endpoint, each calling the server's handler for a request and replying with what it
// leaves in struct server_req.
//
//   struct server s = { .ep = ep, .name = "pm", .handle = pm_handle, .max_threads = 16 };
//   server_run(&s);            serve on this thread, for ever
//
// Why a pool: the kernel sends a reply to the call the *replying thread* last received,
// so a request that must wait (a console read waiting for a line, pm_wait waiting for an
// exit) holds its thread until it can be answered. Before waiting, the handler calls
// server_will_block(r): if no other thread is left receiving, the pool starts one more
// (up to max_threads), so the server keeps answering everyone else. Threads are never
// stopped; a server has a handful. With max_threads reached, requests queue in the
// kernel until a blocked one is answered: slower, never wrong.
//
// The handler reads r->req (words and badge), r->data/r->len (the bytes received) and
// r->handle (a handle received, or 0; the loop closes it after the handler unless the
// handler takes it by setting r->handle = 0). It answers by filling r->reply, the first
// r->out_len bytes of r->out (IPC_BUF_MAX of room), and r->give (a handle to pass back,
// with r->give_rights; r->give_close moves it: the reply closes our copy). reply[0] is
// 0 unless the handler sets an error. A handler that must know whether its reply
// arrived (the caller may have died meanwhile) replies itself with server_reply(r).
//
// Also here: struct ulock, a small mutex for servers' shared state.
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <abi/types.h>
#include <shuttle/syscalls.h>

// A mutex whose waiters yield: the holder may be a preempted thread on the same hart.
// Not recursive.
struct ulock {
    int locked;
};

static inline void ulock_acquire(struct ulock *l)
{
    // Acquire semantics: nothing done under the lock is seen before the lock is ours.
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        sys_yield();
}

static inline void ulock_release(struct ulock *l)
{
    // Release semantics: everything done under the lock is seen before it is free.
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

struct server_req;

struct server {
    handle_t ep;                           // the endpoint served (needs RIGHT_RECV)
    const char *name;                      // for messages
    void (*handle)(struct server_req *r);  // answers one request
    // Takes a notice from the kernel (IPC_NOTICE: what, and the badge), if not NULL:
    // IPC_NOTICE_CLOSED says the last handle with a badge minted with MINT_NOTIFY_CLOSED
    // closed. No reply goes back.
    void (*notice)(struct server *s, uint64_t what, uint64_t badge);
    void *ctx;        // the server's own, for the handler
    int max_threads;  // 0 means 1

    struct ulock lock;
    // lock must be held when using these:
    int threads;  // threads in the pool
    int idle;     // threads in (or about to enter) ipc_recv
};

struct server_req {
    struct server *srv;
    struct ipc_msg req;   // the request's words; req.badge names the client's handle
    const uint8_t *data;  // the bytes received ...
    uint64_t len;         // ... and how many
    handle_t handle;      // a handle received, or 0 (see above)

    uint64_t reply[IPC_WORDS];
    uint8_t *out;  // IPC_BUF_MAX bytes of room for the reply's buffer
    uint64_t out_len;
    handle_t give;  // a handle to send with the reply, or 0
    uint32_t give_rights;
    bool give_close;  // move give: the reply closes it (IPC_MOVE)
    bool replied;     // set by server_reply

    // The loop's own: the message and transfer the system calls use.
    struct ipc_msg msg;
    struct ipc_xfer xfer;
};

// Serves s->ep on the calling thread and the pool's; returns only when receiving fails
// for a reason retrying cannot fix (the endpoint handle is bad), with that error.
long server_run(struct server *s);

// The handler is about to wait for something other than the processor.
void server_will_block(struct server_req *r);

// Replies now, with what r holds; returns ipc_reply's status (E_DEAD: the caller died).
long server_reply(struct server_req *r);

// Sets reply[0], the reply's status: 0 or a negative E_*.
static inline void server_status(struct server_req *r, long status)
{
    r->reply[0] = (uint64_t)status;
}
