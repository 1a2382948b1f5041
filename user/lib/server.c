// The server pool (see server.h). Each thread owns one struct server_req with its own
// buffers, so handlers on different threads share only what the server locks itself.
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "uthread.h"

#define POOL_STACK    (16 * 1024)
#define RECV_RETRY_NS 10000000ULL  // pause after a failed receive, so a fault cannot spin

static struct server_req *req_alloc(struct server *s)
{
    struct server_req *r = calloc(1, sizeof(*r) + 2 * IPC_BUF_MAX);
    if (!r)
        return NULL;
    r->srv = s;
    r->out = (uint8_t *)(r + 1);
    return r;
}

// The transfer for the next system call: the reply's part from r (when there is a
// reply to send), the receive part always.
static void xfer_prepare(struct server_req *r, bool with_reply)
{
    struct ipc_xfer *x = &r->xfer;
    memset(x, 0, sizeof(*x));
    uint8_t *in = r->out + IPC_BUF_MAX;
    x->recv_buf = (uint64_t)(uintptr_t)in;
    x->recv_cap = IPC_BUF_MAX;
    if (with_reply) {
        memcpy(r->msg.w, r->reply, sizeof(r->reply));
        x->send_buf = (uint64_t)(uintptr_t)r->out;
        x->send_len = r->out_len;
        x->send_handle = r->give;
        x->send_rights = r->give_rights;
    }
}

// The flags of a reply: a handle made only for it is moved (IPC_MOVE), so the kernel
// closes our copy as the reply takes it. Closing it after the system call would be too
// late with ipc_reply_recv, which returns only when the next message comes: until then
// the handle's last close, and so its closing notice, would wait.
static uint32_t reply_flags(const struct server_req *r)
{
    return r->give && r->give_close ? IPC_MOVE : 0;
}

static void reply_done(struct server_req *r)
{
    r->give = 0;
    r->give_close = false;
}

// Fills r from what was received and runs the handler.
static void dispatch(struct server *s, struct server_req *r)
{
    r->req = r->msg;
    r->data = r->out + IPC_BUF_MAX;
    r->len = r->xfer.recv_len;
    r->handle = r->xfer.recv_handle;
    memset(r->reply, 0, sizeof(r->reply));
    r->out_len = 0;
    r->give = 0;
    r->give_rights = 0;
    r->give_close = false;
    r->replied = false;
    s->handle(r);
    if (r->handle) {  // the handler did not keep it
        sys_handle_close(r->handle);
        r->handle = 0;
    }
}

long server_reply(struct server_req *r)
{
    xfer_prepare(r, true);
    long err = ipc_reply_flags(&r->msg, &r->xfer, reply_flags(r));
    reply_done(r);
    r->replied = true;
    return err;
}

static void idle_add(struct server *s, int d)
{
    ulock_acquire(&s->lock);
    s->idle += d;
    ulock_release(&s->lock);
}

static long pool_loop(void *arg)
{
    struct server *s = arg;
    struct server_req *r = req_alloc(s);
    if (!r) {
        printf("%s: no memory for a server thread\n", s->name);
        return E_NOMEM;
    }
    bool pending = false;  // a reply to send before the next receive
    for (;;) {
        xfer_prepare(r, pending);
        idle_add(s, 1);
        long err = pending ? ipc_reply_recv_flags(s->ep, &r->msg, &r->xfer, reply_flags(r))
                           : ipc_recv(s->ep, &r->msg, &r->xfer, 0);
        idle_add(s, -1);
        if (pending)
            reply_done(r);
        pending = false;
        if (err == E_BADHANDLE || err == E_RIGHTS) {
            printf("%s: cannot receive on handle %d: %s\n", s->name, s->ep, abi_strerror(err));
            return err;
        }
        if (err < 0) {
            if (r->xfer.recv_handle)
                sys_handle_close(r->xfer.recv_handle);
            sys_sleep(RECV_RETRY_NS);
            continue;
        }
        if (err == IPC_NOTICE) {  // from the kernel: no reply goes back
            if (s->notice)
                s->notice(s, r->msg.w[0], r->msg.badge);
            continue;
        }
        dispatch(s, r);
        pending = !r->replied;
    }
}

long server_run(struct server *s)
{
    ulock_acquire(&s->lock);
    s->threads++;
    ulock_release(&s->lock);
    return pool_loop(s);
}

void server_will_block(struct server_req *r)
{
    struct server *s = r->srv;
    int max = s->max_threads > 0 ? s->max_threads : 1;
    ulock_acquire(&s->lock);
    bool grow = s->idle == 0 && s->threads < max;
    if (grow)
        s->threads++;
    ulock_release(&s->lock);
    if (!grow)
        return;
    // Pool threads run until the process ends: their struct uthread is never joined.
    struct uthread *t = malloc(sizeof(*t));
    long err = t ? uthread_start(t, pool_loop, s, POOL_STACK) : E_NOMEM;
    if (err < 0) {
        free(t);
        ulock_acquire(&s->lock);
        s->threads--;
        ulock_release(&s->lock);
        printf("%s: cannot start another server thread: %s\n", s->name, abi_strerror(err));
    }
}
