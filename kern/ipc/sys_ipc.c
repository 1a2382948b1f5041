// System calls for endpoints, notifications and interrupts (kern/abi/syscalls.list).
// The IPC calls are @raw: regs are the caller's a0..a7 (see <abi/types.h>, "IPC").
#include "ipc/badges.h"
#include "ipc/endpoint.h"
#include "ipc/irq.h"
#include "ipc/notify.h"
#include "proc/process.h"
#include "proc/syscall.h"
#include "proc/thread.h"

static long install_new(struct kobject *o, uint32_t rights)
{
    long h = handle_install(process_current(), o, rights);
    kobj_put(o);  // the handle holds it now
    return h;
}

long sys_endpoint_create(void)
{
    struct endpoint *ep = endpoint_create();
    if (!ep)
        return E_LIMIT;
    return install_new(&ep->obj, RIGHT_SEND | RIGHT_RECV | RIGHT_DUP | RIGHT_TRANSFER);
}

long sys_handle_mint(handle_t endpoint, uint64_t badge, uint32_t rights, uint32_t flags)
{
    if (badge == 0 || (rights & ~RIGHT_ALL) || (flags & ~MINT_NOTIFY_CLOSED))
        return E_INVAL;
    struct kobject *o;
    struct handle entry;
    long err =
        handle_lookup_entry(process_current(), endpoint, KOBJ_ENDPOINT, RIGHT_DUP, &o, &entry);
    if (err)
        return err;
    struct endpoint *ep = (struct endpoint *)o;
    bool watch = flags & MINT_NOTIFY_CLOSED;
    long h = entry.badge ? E_PERM : 0;  // a badge cannot be changed: that would forge a client
    if (!h && watch)
        h = badge_watch(ep, badge);  // before the handle exists: it counts from there
    if (!h) {
        h = handle_install_badged(process_current(), o, rights & entry.rights, badge,
                                  watch ? HANDLE_WATCHED : 0);
        if (h < 0 && watch)
            badge_unwatch(ep, badge);
    }
    kobj_put(o);
    return h;
}

// Checks the flags in a6, then takes the call's arguments out of the registers. Every
// IPC call starts here.
static long begin(uint64_t *regs, uint32_t allowed)
{
    if (regs[IPC_REG_FLAGS] & ~(uint64_t)allowed)
        return E_INVAL;
    ipc_begin(thread_current());
    return 0;
}

// The endpoint a0 names, with the rights the call needs, and the badge of that handle.
static long get_endpoint(uint64_t *regs, uint32_t rights, struct endpoint **ep, uint64_t *badge)
{
    struct kobject *o;
    struct handle entry;
    long err = handle_lookup_entry(process_current(), (handle_t)regs[IPC_REG_ENDPOINT],
                                   KOBJ_ENDPOINT, rights, &o, &entry);
    if (err)
        return err;
    *ep = (struct endpoint *)o;
    *badge = entry.badge;
    return 0;
}

// The endpoint calls take the reference get_endpoint() gave: one that may block never
// returns here to drop it (ipc/endpoint.c drops it as it blocks).
static long with_endpoint(uint64_t *regs, uint32_t flags, uint32_t rights,
                          long (*op)(struct endpoint *, uint64_t))
{
    struct endpoint *ep;
    uint64_t badge;
    long err = begin(regs, flags);
    if (!err)
        err = get_endpoint(regs, rights, &ep, &badge);
    return err ? err : op(ep, badge);
}

static long recv_op(struct endpoint *ep, uint64_t badge)
{
    return ipc_recv(ep);
}

static long reply_recv_op(struct endpoint *ep, uint64_t badge)
{
    return ipc_reply_recv(ep);
}

long sys_ipc_call(uint64_t *regs)
{
    return with_endpoint(regs, IPC_MOVE, RIGHT_SEND, ipc_call);
}

long sys_ipc_send(uint64_t *regs)
{
    return with_endpoint(regs, IPC_NONBLOCK | IPC_MOVE, RIGHT_SEND, ipc_send);
}

long sys_ipc_recv(uint64_t *regs)
{
    return with_endpoint(regs, IPC_NONBLOCK, RIGHT_RECV, recv_op);
}

long sys_ipc_reply(uint64_t *regs)
{
    long err = begin(regs, IPC_MOVE);
    return err ? err : ipc_reply();
}

long sys_ipc_reply_recv(uint64_t *regs)
{
    return with_endpoint(regs, IPC_MOVE, RIGHT_RECV, reply_recv_op);
}

// ---- notifications and interrupts ------------------------------------------------------

long sys_notify_create(void)
{
    struct notify *n = notify_create();
    if (!n)
        return E_NOMEM;
    return install_new(&n->obj, RIGHT_SEND | RIGHT_RECV | RIGHT_DUP | RIGHT_TRANSFER);
}

static long get_notify(handle_t h, uint32_t rights, struct notify **out)
{
    struct kobject *o;
    long err = handle_lookup(process_current(), h, KOBJ_NOTIFY, rights, &o);
    if (!err)
        *out = (struct notify *)o;
    return err;
}

long sys_notify_signal(handle_t notify, uint64_t bits)
{
    if (bits == 0 || (bits >> 63))
        return E_INVAL;  // bit 63 would make notify_wait's result negative
    struct notify *n;
    long err = get_notify(notify, RIGHT_SEND, &n);
    if (err)
        return err;
    notify_signal(n, bits);
    kobj_put(&n->obj);
    return 0;
}

long sys_notify_wait(handle_t notify, uint32_t flags)
{
    if (flags & ~IPC_NONBLOCK)
        return E_INVAL;
    struct notify *n;
    long err = get_notify(notify, RIGHT_RECV, &n);
    if (err)
        return err;
    err = notify_wait(n, flags & IPC_NONBLOCK);
    kobj_put(&n->obj);
    return err;
}

static long get_irq(handle_t h, struct irq **out)
{
    struct kobject *o;
    long err = handle_lookup(process_current(), h, KOBJ_IRQ, RIGHT_RECV, &o);
    if (!err)
        *out = (struct irq *)o;
    return err;
}

long sys_irq_bind(handle_t irq_handle, handle_t notify, uint64_t bits)
{
    if (bits == 0 || (bits >> 63))
        return E_INVAL;
    struct irq *irq;
    long err = get_irq(irq_handle, &irq);
    if (err)
        return err;
    struct notify *n;
    err = get_notify(notify, RIGHT_SEND, &n);
    if (!err) {
        err = irq_bind(irq, n, bits);
        kobj_put(&n->obj);
    }
    kobj_put(&irq->obj);
    return err;
}

long sys_irq_ack(handle_t irq_handle)
{
    struct irq *irq;
    long err = get_irq(irq_handle, &irq);
    if (err)
        return err;
    err = irq_ack(irq);
    kobj_put(&irq->obj);
    return err;
}
