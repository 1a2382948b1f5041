// IPC endpoints, the general path (see endpoint.h and ipc_state.h; ipc/fastpath.c
// takes the common case of a null call and reply without coming here).
//
// Who guards what. A queued thread (phase SEND_QUEUED or RECV_QUEUED) belongs to its
// endpoint's lock: only a holder of ep->lock takes it off the queue, and whoever does
// owns it until it runs again. A caller waiting for its reply (WAIT_REPLY) belongs to
// its own t->lock: the replier claims it there (REPLYING), and so does a kill. A thread
// changes its own state to T_BLOCKED holding its t->lock, after checking it was not
// killed: a kill takes t->lock too, so it either comes first (and the thread does not
// block) or finds the thread blocked (and takes it out: ipc_abort).
#include "ipc/endpoint.h"
#include "ipc/badges.h"
#include "ipc/rpc.h"
#include "abi/errno.h"
#include "lib/assert.h"
#include "lib/string.h"
#include "mm/failalloc.h"
#include "mm/uvm.h"
#include "proc/process.h"
#include "proc/sched.h"
#include "proc/thread.h"

struct endpoint endpoints[NENDPOINT];

void endpoint_init(void)
{
    for (int i = 0; i < NENDPOINT; i++)
        spin_init(&endpoints[i].lock, "endpoint", RANK_ENDPOINT);
}

struct endpoint *endpoint_create(void)
{
    if (failalloc_now(FAIL_ENDPOINT))
        return NULL;
    for (int i = 0; i < NENDPOINT; i++) {
        struct endpoint *ep = &endpoints[i];
        if (READ_ONCE(ep->in_use) || __atomic_exchange_n(&ep->in_use, 1, __ATOMIC_ACQUIRE))
            continue;
        spin_lock(&ep->lock);
        kobj_init(&ep->obj, KOBJ_ENDPOINT);
        ep->state = EP_IDLE;
        ep->head = NULL;
        ep->closed = false;
        ep->receivers = 0;
        ep->messages = 0;
        ep->notices = ep->notices_tail = NO_NOTICE;
        ep->badge_records = 0;
        memset(&ep->rpc, 0, sizeof ep->rpc);
        spin_unlock(&ep->lock);
        return ep;
    }
    return NULL;
}

void endpoint_destroy(struct endpoint *ep)
{
    // Queued threads hold references: none can be left.
    spin_lock(&ep->lock);
    assert(ep->head == NULL);
    ep->closed = true;
    badge_notices_drop(ep);
    spin_unlock(&ep->lock);
    rpc_endpoint_destroyed(ep);
    __atomic_store_n(&ep->in_use, 0, __ATOMIC_RELEASE);
}

int endpoint_count(void)
{
    int n = 0;
    for (int i = 0; i < NENDPOINT; i++)
        n += READ_ONCE(endpoints[i].in_use);
    return n;
}

// ---- phases: the one place they change ------------------------------------------------

void ipc_phase_panic(struct thread *t, enum ipc_phase to)
{
    panic("ipc: thread %d cannot go from phase %d to %d", t->id, t->ipc.phase, to);
}

// ---- the queue: by priority, first come first served within one -----------------------
// Caller holds ep->lock for all of these.

static void update_state(struct endpoint *ep)
{
    assert(holding(&ep->lock));
    if (!ep->head)
        ep->state = EP_IDLE;
    else
        ep->state = ep->head->ipc.phase == IPC_RECV_QUEUED ? EP_RECV : EP_SEND;
}

void ipc_queue_insert(struct endpoint *ep, struct thread *t, enum ipc_phase phase, bool at_front)
{
    assert(holding(&ep->lock));
    struct thread **link = &ep->head;
    while (*link &&
           ((*link)->priority > t->priority || (!at_front && (*link)->priority == t->priority)))
        link = &(*link)->ipc.next;
    t->ipc.next = *link;
    *link = t;
    t->ipc.queued_on = ep;
    if (t->ipc.phase != phase)  // else one popped off is put back: it keeps its phase
        ipc_set_phase(t, phase);
    update_state(ep);
}

static void unqueued(struct endpoint *ep, struct thread *t)
{
    t->ipc.next = NULL;
    t->ipc.queued_on = NULL;
    update_state(ep);
}

struct thread *ipc_queue_pop(struct endpoint *ep)
{
    assert(holding(&ep->lock));
    struct thread *t = ep->head;
    if (t) {
        ep->head = t->ipc.next;
        unqueued(ep, t);
    }
    return t;
}

static bool queue_remove(struct endpoint *ep, struct thread *t)
{
    assert(holding(&ep->lock));
    for (struct thread **link = &ep->head; *link; link = &(*link)->ipc.next) {
        if (*link == t) {
            *link = t->ipc.next;
            unqueued(ep, t);
            return true;
        }
    }
    return false;
}

// ---- what a sender holds ------------------------------------------------------------------

void ipc_begin(struct thread *me)
{
    struct trapframe *tf = me->tf;
    me->ipc.xfer_addr = TF_A(tf, IPC_REG_XFER);
    me->ipc.flags = (uint32_t)TF_A(tf, IPC_REG_FLAGS);
    // The outputs a receive does not set are 0, whatever ends the call.
    TF_A(tf, IPC_REG_BADGE) = 0;
    TF_A(tf, IPC_REG_RECV_LEN) = 0;
    TF_A(tf, IPC_REG_RECV_HANDLE) = 0;
}

static void reset(struct thread *me)
{
    me->ipc.send_obj = NULL;
    me->ipc.is_call = false;
    me->ipc.badge = 0;
}

// Reads the caller's xfer block, if it gave one.
static long read_xfer(struct thread *me)
{
    uint64_t addr = me->ipc.xfer_addr;
    if (!addr)
        return 0;
    if (copy_in(me->domain, &me->ipc.x, addr, sizeof me->ipc.x))
        return E_FAULT;
    return 0;
}

// What the calling thread sends besides its words (which stay in its registers): the
// buffer's bounds and the handle, checked now.
static long prepare_send(struct thread *me, uint64_t badge)
{
    me->ipc.badge = badge;
    long err = read_xfer(me);
    if (err || !me->ipc.xfer_addr)
        return err;
    if (me->ipc.x.send_len > IPC_BUF_MAX)
        return E_TOOBIG;
    if (me->ipc.x.send_handle == 0)
        return 0;
    struct handle entry;
    err = (me->ipc.flags & IPC_MOVE ? handle_take : handle_lookup_copy)(
        me->domain, me->ipc.x.send_handle, KOBJ_NONE, RIGHT_TRANSFER, &me->ipc.send_obj, &entry);
    if (err)
        return err;
    me->ipc.send_rights = me->ipc.x.send_rights & entry.rights;
    me->ipc.send_badge = entry.badge;
    me->ipc.send_flags = entry.flags & HANDLE_COPIED;
    return 0;
}

// The sender's message went, or never will: drop the handle it was passing along. May
// run under an endpoint's lock: handle_copy_done only queues what it sets off.
static void sender_done(struct thread *s)
{
    if (s->ipc.send_obj) {
        struct handle sent = { s->ipc.send_obj, s->ipc.send_rights, s->ipc.send_flags,
                               s->ipc.send_badge };
        handle_copy_done(&sent);
    }
    s->ipc.send_obj = NULL;
}

// ---- moving a message -----------------------------------------------------------------

struct outcome {
    long sender;    // an error that is the sender's fault, or 0
    long receiver;  // an error that is the receiver's fault, or 0
};

// Moves from's message into to: the words into its registers, the buffer into its
// memory, the handle into its table; badge, length and handle into a5..a7. A handle the
// receiver has no room for fails the sender (E_LIMIT), not the receiver: a receiver must
// never be stuck behind a message it cannot take.
static struct outcome transfer(struct thread *from, struct thread *to, uint64_t badge)
{
    struct outcome o = { 0, 0 };
    uint64_t len = from->ipc.xfer_addr ? from->ipc.x.send_len : 0;
    handle_t handle = 0;
    if (len) {
        if (!to->ipc.xfer_addr || to->ipc.x.recv_cap < len) {
            o.sender = E_TOOBIG;
            return o;
        }
        bool src_fault;
        if (uvm_copy_between(to->domain, to->ipc.x.recv_buf, from->domain, from->ipc.x.send_buf,
                             len, &src_fault)) {
            *(src_fault ? &o.sender : &o.receiver) = E_FAULT;
            return o;
        }
    }
    if (from->ipc.send_obj) {
        long h = handle_install_badged(to->domain, from->ipc.send_obj, from->ipc.send_rights,
                                       from->ipc.send_badge, from->ipc.send_flags);
        if (h < 0) {
            o.sender = h;
            return o;
        }
        handle = (handle_t)h;
    }
    for (int i = 0; i < IPC_WORDS; i++)
        TF_A(to->tf, IPC_REG_WORD + i) = TF_A(from->tf, IPC_REG_WORD + i);
    TF_A(to->tf, IPC_REG_BADGE) = badge;
    TF_A(to->tf, IPC_REG_RECV_LEN) = len;
    TF_A(to->tf, IPC_REG_RECV_HANDLE) = (uint64_t)handle;
    return o;
}

// ---- finishing a blocked thread's IPC -----------------------------------------------------

// t, blocked and no longer on any queue or claimed by this caller, is done: its status
// goes in its a0 and it is made runnable.
static void wake_with(struct thread *t, long status)
{
    spin_lock(&t->lock);
    assert(t->state == T_BLOCKED);
    ipc_set_status(t, status);
    ipc_set_phase(t, IPC_IDLE);
    sched_wake(t);
    spin_unlock(&t->lock);
}

// Like wake_with, but leaves t blocked for the caller to hand the hart to (sched_block)
// or wake (handoff_wake).
static void complete(struct thread *t, long status)
{
    spin_lock(&t->lock);
    ipc_set_status(t, status);
    ipc_set_phase(t, IPC_IDLE);
    spin_unlock(&t->lock);
}

static void handoff_wake(struct thread *t)
{
    if (!t)
        return;
    spin_lock(&t->lock);
    sched_wake(t);
    spin_unlock(&t->lock);
}

// The calling thread waits in ep's queue. Caller holds ep->lock; it stays held until the
// thread is off this hart (sched_block releases it), so nobody can run the thread on its
// stack before that. The caller's reference to ep goes (the queue holds one). Returns
// only when the thread was killed first (E_DEAD), with ep unlocked and its reference
// still the caller's.
static long block_in_queue(struct thread *me, struct endpoint *ep, enum ipc_phase phase,
                           struct thread *handoff)
{
    assert(holding(&ep->lock));
    spin_lock(&me->lock);
    if (me->killed) {
        spin_unlock(&me->lock);
        spin_unlock(&ep->lock);
        handoff_wake(handoff);
        return E_DEAD;
    }
    ipc_queue_insert(ep, me, phase, false);
    kobj_put(&ep->obj);
    me->state = T_BLOCKED;
    sched_block(handoff, &ep->lock);
}

// The calling thread's call was received by r: it waits for the reply, and r runs (here
// if it may). Returns only when the thread was killed first (E_DEAD); r then replies to
// nobody.
static long wait_for_reply(struct thread *me, struct thread *r)
{
    spin_lock(&me->lock);
    if (me->killed) {
        spin_unlock(&me->lock);
        handoff_wake(r);
        return E_DEAD;
    }
    ipc_set_phase(me, IPC_WAIT_REPLY);
    me->state = T_BLOCKED;
    sched_block(r, NULL);
}

// ---- send and call ---------------------------------------------------------------------

// Delivers the calling thread's message to a receiver waiting on ep. Caller holds
// ep->lock, and the state is EP_RECV. Returns the receiver, blocked, completed and off
// the queue; NULL with *err set when the sender's message is at fault; NULL with *err 0
// when every receiver failed (the state may now be anything).
static struct thread *deliver(struct endpoint *ep, struct thread *me, long *err)
{
    assert(holding(&ep->lock));
    *err = 0;
    while (ep->state == EP_RECV) {
        struct thread *r = ipc_queue_pop(ep);
        struct outcome o = transfer(me, r, me->ipc.badge);
        if (o.sender) {
            ipc_queue_insert(ep, r, IPC_RECV_QUEUED, true);  // it keeps its place
            *err = o.sender;
            return NULL;
        }
        if (o.receiver) {
            wake_with(r, o.receiver);
            continue;
        }
        ep->messages++;
        complete(r, 0);
        return r;
    }
    return NULL;
}

static long send_or_call(struct endpoint *ep, uint64_t badge, bool is_call)
{
    struct thread *me = thread_current();
    reset(me);
    me->ipc.is_call = is_call;
    long err = prepare_send(me, badge);
    if (err)
        goto out;
    spin_lock(&ep->lock);
    switch (ep->state) {
    case EP_RECV: {
        struct thread *r = deliver(ep, me, &err);
        if (r) {
            spin_unlock(&ep->lock);
            kobj_put(&ep->obj);
            sender_done(me);  // the receiver's table holds the handle now
            if (!is_call) {
                handoff_wake(r);
                return 0;
            }
            // r owes me a reply.
            trace(TRACE_IPC_CALL, (uint32_t)r->id, (uint32_t)me->domain->pid);
            r->ipc.reply_to = me;
            r->ipc.reply_id = me->id;
            return wait_for_reply(me, r);
        }
        if (err) {
            spin_unlock(&ep->lock);
            goto out;
        }
        // Every receiver failed: wait like anyone finding none.
        __attribute__((fallthrough));
    }
    case EP_IDLE:
    case EP_SEND:
        err = ep->closed ? E_DEAD : !is_call && (me->ipc.flags & IPC_NONBLOCK) ? E_AGAIN : 0;
        if (!err && is_call)
            trace(TRACE_IPC_CALL, 0, (uint32_t)me->domain->pid);
        if (!err)
            err = block_in_queue(me, ep, IPC_SEND_QUEUED, NULL);  // killed, if it returns
        else
            spin_unlock(&ep->lock);
        goto out;
    }
    panic("ipc: endpoint in state %d", ep->state);
out:
    kobj_put(&ep->obj);
    sender_done(me);
    return err;
}

long ipc_call(struct endpoint *ep, uint64_t badge)
{
    return send_or_call(ep, badge, true);
}

long ipc_send(struct endpoint *ep, uint64_t badge)
{
    return send_or_call(ep, badge, false);
}

// ---- receive ----------------------------------------------------------------------------

// The caller me owes a reply still waits for it (the thread in that slot is the same
// one, and not killed meanwhile). Caller holds caller->lock.
static bool still_waiting(struct thread *me, struct thread *caller)
{
    assert(holding(&caller->lock));
    return caller->id == me->ipc.reply_id && caller->ipc.phase == IPC_WAIT_REPLY;
}

// A thread owes at most one reply: receiving again fails the caller it still owes.
static void drop_pending_reply(struct thread *me)
{
    struct thread *caller = me->ipc.reply_to;
    if (!caller)
        return;
    me->ipc.reply_to = NULL;
    spin_lock(&caller->lock);
    if (still_waiting(me, caller)) {
        ipc_set_status(caller, E_DEAD);
        ipc_set_phase(caller, IPC_IDLE);
        sched_wake(caller);
    }
    spin_unlock(&caller->lock);
}

// The calling thread takes s's message (s was first in ep's queue). Caller holds ep->lock.
// Returns 1 when received, 0 when s's message failed on its side (s is told; try the
// next sender), or the receiver's error (s keeps its place).
static long take_from(struct endpoint *ep, struct thread *me, struct thread *s)
{
    assert(holding(&ep->lock));
    struct outcome o = transfer(s, me, s->ipc.badge);
    if (o.receiver) {
        ipc_queue_insert(ep, s, IPC_SEND_QUEUED, true);
        return o.receiver;
    }
    sender_done(s);
    if (o.sender) {
        wake_with(s, o.sender);
        return 0;
    }
    ep->messages++;
    if (!s->ipc.is_call) {
        wake_with(s, 0);
        return 1;
    }
    // s waits for my reply now, unless it was killed: then my reply goes nowhere.
    me->ipc.reply_to = s;
    me->ipc.reply_id = s->id;
    spin_lock(&s->lock);
    if (s->killed) {
        ipc_set_status(s, E_DEAD);
        ipc_set_phase(s, IPC_IDLE);
        sched_wake(s);
    } else {
        ipc_set_phase(s, IPC_WAIT_REPLY);
    }
    spin_unlock(&s->lock);
    return 1;
}

// A closing notice for badge, in t's registers (its status is the caller's to set).
static void notice_into(struct thread *t, uint64_t badge)
{
    TF_A(t->tf, IPC_REG_WORD + 0) = IPC_NOTICE_CLOSED;
    TF_A(t->tf, IPC_REG_WORD + 1) = 0;
    TF_A(t->tf, IPC_REG_WORD + 2) = 0;
    TF_A(t->tf, IPC_REG_WORD + 3) = 0;
    TF_A(t->tf, IPC_REG_BADGE) = badge;
    TF_A(t->tf, IPC_REG_RECV_LEN) = 0;
    TF_A(t->tf, IPC_REG_RECV_HANDLE) = 0;
}

void endpoint_post_notice(struct endpoint *ep, int notice)
{
    assert_no_lock_held();
    spin_lock(&ep->lock);
    if (ep->closed) {
        badge_notice_take(ep, notice);  // nobody will receive it
    } else if (ep->state == EP_RECV) {
        struct thread *r = ipc_queue_pop(ep);
        notice_into(r, badge_notice_take(ep, notice));
        wake_with(r, IPC_NOTICE);
    } else {
        badge_notice_push(ep, notice);
    }
    spin_unlock(&ep->lock);
}

// Receives on ep for the calling thread; handoff is a thread it just completed (its
// caller, after a reply), which runs here if this thread blocks.
static long receive(struct endpoint *ep, struct thread *handoff)
{
    struct thread *me = thread_current();
    drop_pending_reply(me);
    reset(me);
    long err = read_xfer(me);
    if (err)
        goto out;
    spin_lock(&ep->lock);
    if (ep->notices != NO_NOTICE) {
        notice_into(me, badge_notice_pop(ep));
        spin_unlock(&ep->lock);
        err = IPC_NOTICE;
        goto out;
    }
    for (;;) {
        switch (ep->state) {
        case EP_SEND:
            err = take_from(ep, me, ipc_queue_pop(ep));
            if (err == 0)
                continue;  // that sender's message was bad: the next one
            spin_unlock(&ep->lock);
            err = err < 0 ? err : 0;  // received (1), or this receiver's error
            goto out;
        case EP_IDLE:
        case EP_RECV:
            err = ep->closed ? E_DEAD : (me->ipc.flags & IPC_NONBLOCK) ? E_AGAIN : 0;
            if (!err) {
                err = block_in_queue(me, ep, IPC_RECV_QUEUED, handoff);  // killed, if it returns
                kobj_put(&ep->obj);
                return err;
            }
            spin_unlock(&ep->lock);
            goto out;
        }
    }
out:
    kobj_put(&ep->obj);
    handoff_wake(handoff);
    return err;
}

long ipc_recv(struct endpoint *ep)
{
    return receive(ep, NULL);
}

// ---- reply ----------------------------------------------------------------------------

// Replies for the calling thread to the caller it owes. Returns the status, and in
// *caller the caller, completed but still blocked, for the thread to hand the hart to or
// wake; NULL when there is none to wake.
static long reply(struct thread **caller_out)
{
    struct thread *me = thread_current();
    struct thread *caller = me->ipc.reply_to;
    *caller_out = NULL;
    if (!caller)
        return E_INVAL;
    me->ipc.reply_to = NULL;
    reset(me);
    long err = prepare_send(me, 0);
    spin_lock(&caller->lock);
    bool waiting = still_waiting(me, caller);
    if (waiting)
        ipc_set_phase(caller, IPC_REPLYING);  // it cannot leave now: we write into it
    spin_unlock(&caller->lock);
    if (!waiting) {
        err = E_DEAD;  // it was killed while waiting
    } else if (err) {
        complete(caller, err);  // our reply was bad: the caller learns it too
        *caller_out = caller;
    } else {
        struct outcome o = transfer(me, caller, 0);
        trace(TRACE_IPC_REPLY, (uint32_t)caller->id, (uint32_t)me->domain->pid);
        complete(caller, o.sender ? o.sender : o.receiver);
        *caller_out = caller;
        err = o.sender;
    }
    sender_done(me);
    return err;
}

long ipc_reply(void)
{
    struct thread *caller;
    long err = reply(&caller);
    handoff_wake(caller);
    return err;
}

long ipc_reply_recv(struct endpoint *ep)
{
    // The reply's error is not returned: the caller it was for may have died, and the
    // server's loop goes on either way. The received message's status is.
    struct thread *caller = NULL;
    if (thread_current()->ipc.reply_to)
        reply(&caller);
    return receive(ep, caller);
}

// ---- deaths ------------------------------------------------------------------------------

void ipc_thread_exit(struct thread *t)
{
    drop_pending_reply(t);
}

void ipc_abort(struct thread *t)
{
    assert_no_lock_held();
    // Queued: only the endpoint's lock may take it off. The table slot stays an
    // endpoint, so its lock can be taken even if this one was destroyed meanwhile.
    struct endpoint *ep = READ_ONCE(t->ipc.queued_on);
    if (ep) {
        spin_lock(&ep->lock);
        spin_lock(&t->lock);
        bool ours =
            t->ipc.queued_on == ep && t->state == T_BLOCKED && t->killed && queue_remove(ep, t);
        spin_unlock(&t->lock);
        if (ours) {
            sender_done(t);
            wake_with(t, E_DEAD);
        }
        spin_unlock(&ep->lock);
        if (ours)
            return;
    }
    // Waiting for a reply: abandon it (the replier then gets E_DEAD). Being replied to,
    // or already completed: whoever does that wakes it, and it leaves at user_return.
    spin_lock(&t->lock);
    if (t->state == T_BLOCKED && t->killed && t->ipc.phase == IPC_WAIT_REPLY) {
        ipc_set_status(t, E_DEAD);
        ipc_set_phase(t, IPC_IDLE);
        sched_wake(t);
    }
    spin_unlock(&t->lock);
}

// Atomic, not under ep->lock: a handle to one endpoint may be installed while the
// lock of another is held (a transfer), and two endpoint locks are never nested.
static void receivers_changed(struct endpoint *ep, int delta)
{
    if (__atomic_add_fetch(&ep->receivers, delta, __ATOMIC_ACQ_REL) != 0)
        return;
    // The last handle that could receive is gone: nobody will ever answer.
    spin_lock(&ep->lock);
    ep->closed = true;
    badge_notices_drop(ep);
    rpc_endpoint_closed(ep);
    struct thread *t;
    while ((t = ipc_queue_pop(ep)) != NULL) {
        sender_done(t);
        wake_with(t, E_DEAD);
    }
    spin_unlock(&ep->lock);
}

void endpoint_handle_changed(struct endpoint *ep, uint32_t rights, uint64_t badge, uint32_t flags,
                             int delta)
{
    if (flags & HANDLE_WATCHED)
        badge_handles_changed(ep, badge, delta);
    if (rights & RIGHT_RECV)
        receivers_changed(ep, delta);
}
