// The IPC fast path (see fastpath.h), after seL4's fastpath.c: a chain of guards, each
// falling back to the general path, then the shortest road from one thread's ecall to
// the other thread's sret. No run queue, no scheduler, no swtch: the partner's registers
// are loaded from its trapframe, and this thread is left blocked with a continuation (it
// too resumes in user mode, from its trapframe: ipc/ipc_state.h).
//
// The guards: the call carries no buffer, handle or flags; the endpoint holds a waiting
// receiver (for call) or no waiting sender (for reply_recv, whose caller waits for the
// reply); the partner may run on this hart and is at least as urgent as anything queued
// for it; nobody was killed.
//
// Looking the handle up without p->lock or a reference. The entry is read through the
// handle table's sequence count (process_handle_peek), so it is one consistent entry.
// The object it names is then used without a reference, which is safe for an endpoint
// only: endpoints live in a fixed table (ipc/endpoint.h), so whatever the entry names now,
// locking that table slot's lock is harmless. Once the lock is held, an unchanged
// sequence count says the handle still names the endpoint, and a handle holds a
// reference: the endpoint is alive, and stays so while its lock is held.
//
// Stacks. This code runs on the thread that blocks. Nobody may run that thread before
// this hart is off its stack, and the hart is on it until the last instruction before
// userret. So the lock that keeps others from it (its own for a caller waiting for a
// reply; the endpoint's for a receiver in the queue) is released last, in assembly
// (ipc_fastpath_exit), after the last use of the stack.
#include "ipc/fastpath.h"
#include "ipc/badges.h"
#include "ipc/endpoint.h"
#include "lib/assert.h"
#include "proc/process.h"
#include "proc/sched.h"
#include "proc/usertrap.h"

void ipc_fastpath_enable(bool on)
{
    for (int i = 0; i < MAX_HARTS; i++)
        harts[i].ipc_fastpath = on;
}

// fastpath_exit.S: frees the lock word, then userret(tf). No stack from here on.
__attribute__((noreturn)) void ipc_fastpath_exit(struct trapframe *tf, uint32_t *lock_word);

// The endpoint the handle in a0 names with the rights needed, read without locks, and
// the handle table's sequence count it was read at; NULL sends the call down the
// general path.
ALWAYS_INLINE struct endpoint *peek_endpoint(struct process *p, struct trapframe *tf,
                                             uint32_t rights, uint64_t *badge, uint32_t *seq)
{
    struct handle e;
    if (!process_handle_peek(p, (handle_t)TF_A(tf, IPC_REG_ENDPOINT), &e, seq) ||
        (e.rights & rights) != rights)
        return NULL;
    *badge = e.badge;
    return endpoint_in_table(e.obj);
}

// The partner may take this hart: its affinity allows it and nothing queued for the hart
// is more urgent.
ALWAYS_INLINE bool may_run_here(struct hart *h, struct thread *t)
{
    return (t->affinity & h->mask) && t->priority >= sched_highest_waiting(h);
}

// The message, or reply, in the caller's registers goes into to's.
ALWAYS_INLINE void copy_message(struct trapframe *from, struct thread *to, uint64_t badge)
{
    struct trapframe *t = to->tf;
    TF_A(t, IPC_REG_STATUS) = 0;
    TF_A(t, IPC_REG_WORD + 0) = TF_A(from, IPC_REG_WORD + 0);
    TF_A(t, IPC_REG_WORD + 1) = TF_A(from, IPC_REG_WORD + 1);
    TF_A(t, IPC_REG_WORD + 2) = TF_A(from, IPC_REG_WORD + 2);
    TF_A(t, IPC_REG_WORD + 3) = TF_A(from, IPC_REG_WORD + 3);
    TF_A(t, IPC_REG_BADGE) = badge;
    TF_A(t, IPC_REG_RECV_LEN) = 0;
    TF_A(t, IPC_REG_RECV_HANDLE) = 0;
}

// This hart leaves prev (blocked, its continuation set) for next, in user mode. The
// hart holds release, and only that; it is freed after the last use of the stack.
__attribute__((noreturn)) ALWAYS_INLINE void
switch_to_user(struct hart *h, struct thread *prev, struct thread *next, struct spinlock *release)
{
    sched_switch_out_fp(h, prev);
    sched_switch_in_user(h, next);
    h->ipc_fast++;
    release->owner = NULL;
    ipc_fastpath_exit(next->tf, &release->locked);
}

// A guard failed: the general path takes the call.
__attribute__((noreturn)) static void general(struct hart *h, struct trapframe *tf)
{
    h->ipc_slow++;
    user_syscall(tf);
}

void ipc_fastpath_call(struct trapframe *tf)
{
    struct hart *h = this_hart();
    struct thread *me = h->current;
    uint64_t badge;
    uint32_t seq;
    assert(h->noff == 0);  // no lock held: the two below are taken in order
    if ((TF_A(tf, IPC_REG_XFER) | TF_A(tf, IPC_REG_FLAGS)) || !h->ipc_fastpath)
        general(h, tf);
    struct endpoint *ep = peek_endpoint(me->domain, tf, RIGHT_SEND, &badge, &seq);
    if (!ep)
        general(h, tf);
    spin_lock_fast(&ep->lock);
    struct thread *r = ep->head;
    if (READ_ONCE(me->domain->handle_seq) != seq || ep->state != EP_RECV || !may_run_here(h, r))
        goto unlock_ep;
    spin_lock_fast(&me->lock);
    if (me->killed)
        goto unlock_me;

    // Committed. r leaves the queue (ipc_queue_pop, inline: the threads behind it are
    // receivers too) with the message; I wait for its reply.
    ep->head = r->ipc.next;
    ep->state = ep->head ? EP_RECV : EP_IDLE;
    ep->messages++;
    r->ipc.next = NULL;
    r->ipc.queued_on = NULL;
    ipc_change_phase(r, IPC_RECV_QUEUED, IPC_IDLE);
    spin_unlock_fast(&ep->lock);
    copy_message(tf, r, badge);
    r->ipc.reply_to = me;
    r->ipc.reply_id = me->id;
    ipc_change_phase(me, IPC_IDLE, IPC_WAIT_REPLY);
    me->state = T_BLOCKED;
    sched_set_continuation(me);
    switch_to_user(h, me, r, &me->lock);

unlock_me:
    spin_unlock_fast(&me->lock);
unlock_ep:
    spin_unlock_fast(&ep->lock);
    general(h, tf);
}

void ipc_fastpath_reply_recv(struct trapframe *tf)
{
    struct hart *h = this_hart();
    struct thread *me = h->current;
    struct thread *caller = me->ipc.reply_to;
    uint64_t badge;
    uint32_t seq;
    assert(h->noff == 0);  // no lock held: the ones below are taken in order
    if ((TF_A(tf, IPC_REG_XFER) | TF_A(tf, IPC_REG_FLAGS)) || !h->ipc_fastpath || !caller ||
        !may_run_here(h, caller))
        general(h, tf);
    struct endpoint *ep = peek_endpoint(me->domain, tf, RIGHT_RECV, &badge, &seq);
    if (!ep)
        general(h, tf);
    spin_lock_fast(&ep->lock);
    if (READ_ONCE(me->domain->handle_seq) != seq || ep->state == EP_SEND || ep->closed ||
        ep->notices != NO_NOTICE)
        goto unlock_ep;
    spin_lock_fast(&caller->lock);
    if (caller->id != me->ipc.reply_id || caller->ipc.phase != IPC_WAIT_REPLY || caller->killed) {
        spin_unlock_fast(&caller->lock);
        goto unlock_ep;
    }

    // Committed to the reply: it goes straight into the caller's registers.
    copy_message(tf, caller, 0);
    ipc_change_phase(caller, IPC_WAIT_REPLY, IPC_IDLE);
    spin_unlock_fast(&caller->lock);
    me->ipc.reply_to = NULL;
    // I block. Rather than take my own lock against a kill, I write my state, then read
    // killed, with a full fence between; kill_thread() writes killed, then reads the
    // state, likewise: one of us sees the other's write. A kill that sees me blocked
    // takes me out of the queue through ep->lock, which I hold until I am off this stack.
    me->state = T_BLOCKED;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (READ_ONCE(me->killed)) {
        // The reply went; the receive is the general path's, which sees the kill.
        me->state = T_RUNNING;
        spin_unlock_fast(&ep->lock);
        spin_lock(&caller->lock);
        sched_wake(caller);
        spin_unlock(&caller->lock);
        general(h, tf);
    }
    // I wait in the queue, with no room for a buffer or a handle.
    me->ipc.xfer_addr = 0;
    me->ipc.flags = 0;
    if (ep->state == EP_IDLE) {  // ipc_queue_insert, inline, for the usual empty queue
        ep->head = me;
        ep->state = EP_RECV;
        me->ipc.next = NULL;
        me->ipc.queued_on = ep;
        ipc_change_phase(me, IPC_IDLE, IPC_RECV_QUEUED);
    } else {
        ipc_queue_insert(ep, me, IPC_RECV_QUEUED, false);
    }
    sched_set_continuation(me);
    switch_to_user(h, me, caller, &ep->lock);

unlock_ep:
    spin_unlock_fast(&ep->lock);
    general(h, tf);
}
