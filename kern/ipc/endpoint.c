// IPC endpoints (see endpoint.h and ipc_state.h).
#include "ipc/endpoint.h"
#include "abi/errno.h"
#include "arch/trapframe.h"
#include "lib/assert.h"
#include "lib/string.h"
#include "mm/kalloc.h"
#include "mm/uvm.h"
#include "proc/process.h"
#include "proc/sched.h"
#include "proc/thread.h"

#include <stddef.h>

struct endpoint *endpoint_create(void)
{
    struct endpoint *ep = kalloc_zpage();  // one page: simple, and endpoints are few
    if (!ep)
        return NULL;
    kobj_init(&ep->obj, KOBJ_ENDPOINT);
    spin_init(&ep->lock, "endpoint");
    ep->state = EP_IDLE;
    return ep;
}

void endpoint_destroy(struct endpoint *ep)
{
    // Queued threads hold references: none can be left.
    assert(ep->head == NULL);
    kfree_page(ep);
}

// ---- the queue: by priority, first come first served within one ---------------------
// Caller holds ep->lock for all of these.

static void update_state(struct endpoint *ep)
{
    if (!ep->head)
        ep->state = EP_IDLE;
    else
        ep->state = ep->head->ipc.receiving ? EP_RECV : EP_SEND;
}

static void queue_insert(struct endpoint *ep, struct thread *t, bool at_front)
{
    struct thread **link = &ep->head;
    while (*link && ((*link)->priority > t->priority ||
                     (!at_front && (*link)->priority == t->priority)))
        link = &(*link)->ipc.next;
    t->ipc.next = *link;
    *link = t;
    t->ipc.queued_on = ep;
    update_state(ep);
}

static struct thread *queue_pop(struct endpoint *ep)
{
    struct thread *t = ep->head;
    if (t) {
        ep->head = t->ipc.next;
        t->ipc.next = NULL;
        t->ipc.queued_on = NULL;
        update_state(ep);
    }
    return t;
}

static bool queue_remove(struct endpoint *ep, struct thread *t)
{
    for (struct thread **link = &ep->head; *link; link = &(*link)->ipc.next) {
        if (*link == t) {
            *link = t->ipc.next;
            t->ipc.next = NULL;
            t->ipc.queued_on = NULL;
            update_state(ep);
            return true;
        }
    }
    return false;
}

// ---- waiting and waking ------------------------------------------------------------------

static void set_phase(struct thread *t, enum ipc_phase phase)
{
    spin_lock(&t->lock);
    t->ipc.phase = phase;
    spin_unlock(&t->lock);
}

// The other side is done with t: wake it with result.
static void complete(struct thread *t, long result)
{
    spin_lock(&t->lock);
    t->ipc.done = true;
    t->ipc.result = result;
    t->ipc.phase = IPC_IDLE;
    if (t->state == T_SLEEPING && t->chan == &t->ipc)
        sched_make_runnable(t);
    spin_unlock(&t->lock);
}

// Sleeps until completed, or until killed in a phase it may leave. Returns the
// phase it gave up in (IPC_IDLE when completed).
static enum ipc_phase block(struct thread *me)
{
    spin_lock(&me->lock);
    // Killed while the other side moves data into us, we still wait: it is brief.
    while (!me->ipc.done && (!me->killed || me->ipc.phase == IPC_REPLYING)) {
        me->chan = &me->ipc;
        me->state = T_SLEEPING;
        sched_switch();
    }
    enum ipc_phase phase = me->ipc.done ? IPC_IDLE : me->ipc.phase;
    if (phase == IPC_WAIT_REPLY)
        me->ipc.phase = IPC_ABANDONED;  // a reply that comes now gets E_DEAD
    spin_unlock(&me->lock);
    return phase;
}

// Waits for the other side; a killed thread leaves its queue. Returns its result.
static long wait_for_partner(struct thread *me, struct endpoint *ep)
{
    for (;;) {
        enum ipc_phase phase = block(me);
        if (phase == IPC_IDLE)
            return me->ipc.result;
        if (phase != IPC_QUEUED)
            return E_DEAD;  // abandoned a reply
        spin_lock(&ep->lock);
        bool removed = me->ipc.queued_on == ep && queue_remove(ep, me);
        spin_unlock(&ep->lock);
        if (removed)
            return E_DEAD;
        // Taken off the queue just now by the other side: wait for what it does.
    }
}

// ---- moving a message -------------------------------------------------------------------

struct outcome {
    long sender;    // an error that is the sender's fault, or 0
    long receiver;  // an error that is the receiver's fault, or 0
};

// The sender's buffer, copied into the receiver's memory through a kernel page.
static void move_buffer(struct thread *from, struct thread *to, struct outcome *o,
                        uint64_t *len)
{
    uint64_t n = from->ipc.xfer_addr ? from->ipc.x.send_len : 0;
    *len = n;
    if (n == 0)
        return;
    if (!to->ipc.xfer_addr || to->ipc.x.recv_cap < n) {
        o->sender = E_TOOBIG;
        return;
    }
    uint8_t *page = kalloc_page();
    if (!page) {
        o->sender = E_NOMEM;
        return;
    }
    if (copy_in(from->process, page, from->ipc.x.send_buf, n))
        o->sender = E_FAULT;
    else if (copy_out(to->process, to->ipc.x.recv_buf, page, n))
        o->receiver = E_FAULT;
    kfree_page(page);
}

// Moves from's message into to: the words into its registers, the buffer into its
// memory, the handle into its table. badge goes to to's a5.
static struct outcome transfer(struct thread *from, struct thread *to, uint64_t badge)
{
    struct outcome o = { 0, 0 };
    uint64_t len = 0;
    handle_t handle = 0;
    move_buffer(from, to, &o, &len);
    if (!o.sender && !o.receiver && from->ipc.send_obj) {
        long h = handle_install_badged(to->process, from->ipc.send_obj, from->ipc.send_rights,
                                       from->ipc.send_badge);
        if (h < 0)
            o.receiver = h;
        else
            handle = (handle_t)h;
    }
    if (!o.sender && !o.receiver && to->ipc.xfer_addr) {
        uint64_t base = to->ipc.xfer_addr;
        if (copy_out(to->process, base + offsetof(struct ipc_xfer, recv_len), &len, 8) ||
            copy_out(to->process, base + offsetof(struct ipc_xfer, recv_handle), &handle, 4)) {
            o.receiver = E_FAULT;
            if (handle)
                handle_remove(to->process, handle);
        }
    }
    if (o.sender || o.receiver)
        return o;
    for (int i = 0; i < IPC_WORDS; i++)
        TF_A(to->tf, 1 + i) = from->ipc.w[i];
    TF_A(to->tf, 5) = badge;
    return o;
}

// ---- preparing and finishing a system call ----------------------------------------------

static void reset(struct thread *me)
{
    me->ipc.done = false;
    me->ipc.result = 0;
    me->ipc.phase = IPC_IDLE;
    me->ipc.xfer_addr = 0;
    me->ipc.send_obj = NULL;
    me->ipc.is_call = false;
    me->ipc.receiving = false;
}

// Reads the caller's xfer block, if it gave one.
static long read_xfer(struct thread *me, uint64_t addr)
{
    me->ipc.xfer_addr = addr;
    if (!addr)
        return 0;
    if (copy_in(me->process, &me->ipc.x, addr, sizeof me->ipc.x))
        return E_FAULT;
    return 0;
}

// What the calling thread sends: words, buffer and handle, checked now.
static long prepare_send(struct thread *me, uint64_t *regs, uint64_t badge, uint64_t xfer)
{
    for (int i = 0; i < IPC_WORDS; i++)
        me->ipc.w[i] = regs[1 + i];
    me->ipc.badge = badge;
    long err = read_xfer(me, xfer);
    if (err || !xfer)
        return err;
    if (me->ipc.x.send_len > IPC_BUF_MAX)
        return E_TOOBIG;
    if (me->ipc.x.send_handle == 0)
        return 0;
    struct handle entry;
    err = handle_lookup_entry(me->process, me->ipc.x.send_handle, KOBJ_NONE, RIGHT_TRANSFER,
                              &me->ipc.send_obj, &entry);
    if (err)
        return err;
    me->ipc.send_rights = me->ipc.x.send_rights & entry.rights;
    me->ipc.send_badge = entry.badge;
    return 0;
}

static void finish(struct thread *me)
{
    if (me->ipc.send_obj)
        kobj_put(me->ipc.send_obj);
    me->ipc.send_obj = NULL;
}

// A thread owes at most one reply: receiving again fails the caller it still owes.
static void drop_pending_reply(struct thread *me)
{
    struct thread *caller = me->ipc.reply_to;
    if (!caller)
        return;
    me->ipc.reply_to = NULL;
    spin_lock(&caller->lock);
    bool waiting = caller->ipc.phase == IPC_WAIT_REPLY;
    if (waiting)
        caller->ipc.phase = IPC_REPLYING;
    spin_unlock(&caller->lock);
    if (waiting)
        complete(caller, E_DEAD);
    thread_put(caller);
}

// ---- the calls ---------------------------------------------------------------------------

// Delivers the calling thread's message to a waiting receiver, if there is one.
// Caller holds ep->lock. Returns 1 when delivered, 0 when nobody waits, or an error.
static long deliver_to_receiver(struct endpoint *ep, struct thread *me)
{
    while (ep->state == EP_RECV) {
        struct thread *r = queue_pop(ep);
        struct outcome o = transfer(me, r, me->ipc.badge);
        if (o.sender) {
            queue_insert(ep, r, true);  // it keeps its place
            return o.sender;
        }
        if (o.receiver) {
            complete(r, o.receiver);
            continue;
        }
        if (me->ipc.is_call) {
            kobj_get(&me->obj);
            r->ipc.reply_to = me;
            set_phase(me, IPC_WAIT_REPLY);
        }
        ep->messages++;
        complete(r, 0);
        return 1;
    }
    return 0;
}

static long send_or_call(struct endpoint *ep, uint64_t badge, uint64_t *regs, bool is_call)
{
    struct thread *me = thread_current();
    reset(me);
    me->ipc.is_call = is_call;
    long err = prepare_send(me, regs, badge, regs[5]);
    if (err) {
        finish(me);
        return err;
    }
    spin_lock(&ep->lock);
    long delivered = ep->closed ? E_DEAD : deliver_to_receiver(ep, me);
    if (delivered == 0 && !is_call && (regs[6] & IPC_NONBLOCK))
        delivered = E_AGAIN;
    if (delivered < 0) {
        spin_unlock(&ep->lock);
        finish(me);
        return delivered;
    }
    if (delivered == 0) {
        me->ipc.receiving = false;
        set_phase(me, IPC_QUEUED);
        queue_insert(ep, me, false);
    }
    spin_unlock(&ep->lock);
    err = (delivered == 1 && !is_call) ? 0 : wait_for_partner(me, ep);
    finish(me);
    return err;
}

long ipc_call(struct endpoint *ep, uint64_t badge, uint64_t *regs)
{
    return send_or_call(ep, badge, regs, true);
}

long ipc_send(struct endpoint *ep, uint64_t badge, uint64_t *regs)
{
    return send_or_call(ep, badge, regs, false);
}

long ipc_recv(struct endpoint *ep, uint64_t *regs)
{
    struct thread *me = thread_current();
    drop_pending_reply(me);
    reset(me);
    long err = read_xfer(me, regs[5]);
    if (err)
        return err;
    spin_lock(&ep->lock);
    while (ep->state == EP_SEND) {
        struct thread *s = queue_pop(ep);
        struct outcome o = transfer(s, me, s->ipc.badge);
        if (o.sender) {
            complete(s, o.sender);
            continue;
        }
        if (o.receiver) {
            queue_insert(ep, s, true);
            spin_unlock(&ep->lock);
            return o.receiver;
        }
        ep->messages++;
        if (s->ipc.is_call) {
            kobj_get(&s->obj);
            me->ipc.reply_to = s;
            set_phase(s, IPC_WAIT_REPLY);
        } else {
            complete(s, 0);
        }
        spin_unlock(&ep->lock);
        return 0;
    }
    if (ep->closed || (regs[6] & IPC_NONBLOCK)) {
        spin_unlock(&ep->lock);
        return ep->closed ? E_DEAD : E_AGAIN;
    }
    me->ipc.receiving = true;
    set_phase(me, IPC_QUEUED);
    queue_insert(ep, me, false);
    spin_unlock(&ep->lock);
    return wait_for_partner(me, ep);
}

long ipc_reply(uint64_t *regs)
{
    struct thread *me = thread_current();
    struct thread *caller = me->ipc.reply_to;
    if (!caller)
        return E_INVAL;
    me->ipc.reply_to = NULL;
    reset(me);
    long err = prepare_send(me, regs, 0, regs[5]);
    spin_lock(&caller->lock);
    bool waiting = caller->ipc.phase == IPC_WAIT_REPLY;
    if (waiting)
        caller->ipc.phase = IPC_REPLYING;  // it cannot leave now: we write into it
    spin_unlock(&caller->lock);
    if (!waiting) {
        err = E_DEAD;  // it was killed while waiting
    } else if (err) {
        complete(caller, err);  // our reply was bad: the caller learns it too
    } else {
        struct outcome o = transfer(me, caller, 0);
        complete(caller, o.sender ? o.sender : o.receiver);
        err = o.sender;
    }
    thread_put(caller);
    finish(me);
    return err;
}

void ipc_thread_exit(struct thread *t)
{
    drop_pending_reply(t);
}

// Atomic, not under ep->lock: a handle to one endpoint may be installed while the
// lock of another is held (a transfer), and two endpoint locks are never nested.
void endpoint_receivers_changed(struct endpoint *ep, int delta)
{
    if (__atomic_add_fetch(&ep->receivers, delta, __ATOMIC_ACQ_REL) != 0)
        return;
    // The last handle that could receive is gone: nobody will ever answer.
    spin_lock(&ep->lock);
    ep->closed = true;
    struct thread *t;
    while ((t = queue_pop(ep)) != NULL)
        complete(t, E_DEAD);
    spin_unlock(&ep->lock);
}
