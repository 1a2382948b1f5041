// Migrating-thread RPC (see rpc.h and rpc_state.h).
//
// The fast path (no FP state to move, an activation free, nobody queued, nothing dying)
// takes no lock but the calling thread's own: the endpoint is looked up like the IPC
// fast path does (ipc/fastpath.c), activations are bits taken and given back with
// atomics, and the server is pinned by the endpoint reference the frame holds (the
// registration holds the server's) and kept from its teardown by the visitor count.
#include "ipc/rpc.h"
#include "abi/errno.h"
#include "arch/riscv.h"
#include "arch/trap.h"
#include "ipc/endpoint.h"
#include "lib/assert.h"
#include "lib/console.h"
#include "lib/string.h"
#include "mm/uvm.h"
#include "proc/process.h"
#include "proc/sched.h"
#include "proc/usertrap.h"

_Static_assert(offsetof(struct rpc_frame, s) == RPC_FRAME_S(0), "uservec.S");
_Static_assert(offsetof(struct rpc_frame, gp) == RPC_FRAME_GP, "uservec.S");
_Static_assert(RPC_ACTIVATIONS_MAX <= 32, "activations are the bits of a uint32_t");

// ---- registration --------------------------------------------------------------------

long sys_rpc_register(handle_t endpoint, uint64_t entry, uint64_t stacks, uint64_t n)
{
    struct process *p = process_current();
    if (n == 0 || n > RPC_ACTIVATIONS_MAX)
        return E_INVAL;
    if (uvm_check_range(stacks, n * RPC_STACK_SIZE) || entry % 2)
        return E_RANGE;
    if (uvm_check_access(p, stacks, n * RPC_STACK_SIZE, PTE_W) ||
        uvm_check_access(p, entry, 2, PTE_X))
        return E_FAULT;
    struct kobject *o;
    long err = handle_lookup(p, endpoint, KOBJ_ENDPOINT, RIGHT_RECV, &o);
    if (err)
        return err;
    struct endpoint *ep = (struct endpoint *)o;
    struct rpc_server *s = &ep->rpc;
    spin_lock(&ep->lock);
    if (ep->closed) {
        err = E_DEAD;
    } else if (s->entry) {
        err = E_BUSY;  // one server, one entry: a second would steal the first's callers
    } else {
        kobj_get(&p->obj);
        s->server = p;
        s->stacks = stacks;
        s->n = (uint32_t)n;
        __atomic_store_n(&s->free, (uint32_t)((1ULL << n) - 1), __ATOMIC_RELAXED);
        __atomic_store_n(&s->entry, entry, __ATOMIC_RELEASE);  // last: the fast path reads it first
    }
    spin_unlock(&ep->lock);
    kobj_put(o);
    return err;
}

void rpc_endpoint_destroyed(struct endpoint *ep)
{
    // The last reference went: no frame holds the endpoint, so no thread is inside.
    struct rpc_server *s = &ep->rpc;
    spin_lock(&ep->lock);
    assert(s->head == NULL);
    struct process *server = s->entry ? s->server : NULL;
    s->entry = 0;
    s->server = NULL;
    spin_unlock(&ep->lock);
    if (server)
        kobj_put(&server->obj);
}

void rpc_endpoint_closed(struct endpoint *ep)
{
    assert(holding(&ep->lock));
    for (struct thread *t = ep->rpc.head; t; t = t->rpc.wait_next)
        thread_wakeup(&t->rpc.wq, &ep->lock);  // each sees ep->closed
}

// ---- activations -----------------------------------------------------------------------

// The lowest free activation, taken; -1 when none is.
static int take_activation(struct rpc_server *s)
{
    uint32_t free = __atomic_load_n(&s->free, __ATOMIC_RELAXED);
    while (free) {
        if (__atomic_compare_exchange_n(&s->free, &free, free & (free - 1), false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
            int a = 0;  // no ctz instruction (no Zbb), and libgcc's is not linked in
            while (!(free & (1u << a)))
                a++;
            return a;
        }
    }
    return -1;
}

static void wake_first_waiter(struct endpoint *ep)
{
    spin_lock(&ep->lock);
    if (ep->rpc.head)
        thread_wakeup(&ep->rpc.head->rpc.wq, &ep->lock);
    spin_unlock(&ep->lock);
}

// The activation is free again. The bit is set before the queue is looked at, and a
// caller joins the queue before it looks at the bits (both SEQ_CST): a caller about to
// sleep either sees the bit or is seen here and woken.
static void give_back_activation(struct endpoint *ep, int a)
{
    __atomic_fetch_or(&ep->rpc.free, 1u << a, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ep->rpc.waiting, __ATOMIC_SEQ_CST))
        wake_first_waiter(ep);
}

static void unlink_waiter(struct rpc_server *s, struct thread *me)
{
    struct thread **link = &s->head, *prev = NULL;
    while (*link != me) {
        prev = *link;
        link = &prev->rpc.wait_next;
    }
    *link = me->rpc.wait_next;
    if (s->tail == me)
        s->tail = prev;
    me->rpc.wait_next = NULL;
}

// Waits in ep's queue until this thread is first and an activation is free: 0 with it
// in *a, or E_DEAD (the endpoint closed, or the thread was killed). Interrupts on.
static long wait_for_activation(struct thread *me, struct endpoint *ep, int *a)
{
    struct rpc_server *s = &ep->rpc;
    long err = 0;
    spin_lock(&ep->lock);
    me->rpc.wait_next = NULL;
    if (s->tail)
        s->tail->rpc.wait_next = me;
    else
        s->head = me;
    s->tail = me;
    __atomic_add_fetch(&s->waiting, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        if (ep->closed || thread_killed(me)) {
            err = E_DEAD;
            break;
        }
        if (s->head == me && (*a = take_activation(s)) >= 0)
            break;
        thread_sleep_on(&me->rpc.wq, &ep->lock);
    }
    unlink_waiter(s, me);
    __atomic_sub_fetch(&s->waiting, 1, __ATOMIC_SEQ_CST);
    if (s->head && __atomic_load_n(&s->free, __ATOMIC_SEQ_CST))
        thread_wakeup(&s->head->rpc.wq, &ep->lock);  // the next in line, for what is left
    spin_unlock(&ep->lock);
    return err;
}

// ---- floating point --------------------------------------------------------------------
// The f registers are the thread's, in whatever domain it runs. fs0-fs11 and fcsr are
// the caller's to keep across a call, and no domain may read another's values: so a
// call or return by a thread that has FP state parks what the caller keeps in the frame
// and starts the other side with all-zero f registers, loaded lazily at its first use.

static const uint8_t callee_saved_f[12] = { 8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27 };

static void fp_reset(struct hart *h, struct thread *me, struct trapframe *tf)
{
    memset(tf->f, 0, sizeof tf->f);
    tf->fcsr = 0;
    if (h->fp_owner == me)
        h->fp_owner = NULL;
    me->fp_hart = NULL;  // nothing of it is live in any hart's f registers
    w_sstatus((r_sstatus() & ~SSTATUS_FS) | SSTATUS_FS_OFF);
}

static void fp_park(struct hart *h, struct thread *me, struct rpc_frame *f, struct trapframe *tf)
{
    if ((r_sstatus() & SSTATUS_FS) == SSTATUS_FS_DIRTY)
        fp_save(tf);
    for (int i = 0; i < 12; i++)
        f->fs[i] = tf->f[callee_saved_f[i]];
    f->fcsr = tf->fcsr;
    f->fp_saved = true;
    fp_reset(h, me, tf);
}

static void fp_unpark(struct hart *h, struct thread *me, struct rpc_frame *f, struct trapframe *tf)
{
    fp_reset(h, me, tf);
    if (!f->fp_saved)
        return;
    for (int i = 0; i < 12; i++)
        tf->f[callee_saved_f[i]] = f->fs[i];
    tf->fcsr = f->fcsr;
}

// ---- entering and leaving ----------------------------------------------------------------

// Enters ep's server on activation a (taken; the caller's reference to ep goes to the
// frame): pushes the frame and points tf at the entry. E_DEAD when the server is exiting
// or this thread was killed; then a and the reference are given back. Interrupts off.
static long enter(struct hart *h, struct thread *me, struct endpoint *ep, int a, uint64_t badge,
                  struct trapframe *tf, struct rpc_frame **out)
{
    struct rpc_server *s = &ep->rpc;
    struct process *server = s->server;
    if (!process_visit(server))
        goto dead;
    spin_lock_fast(&me->lock);
    // Under my lock, as a kill reads depth and domain: a kill of my home that came first
    // ends the call here; one of the server that comes later finds me inside it.
    if (me->killed || READ_ONCE(server->exiting)) {
        spin_unlock_fast(&me->lock);
        process_unvisit(server);
        goto dead;
    }
    struct rpc_frame *f = &me->rpc.frames[me->rpc.depth++];
    f->domain = me->domain;
    me->domain = server;
    spin_unlock_fast(&me->lock);
    f->ep = ep;
    f->activation = a;
    f->ra = tf->x[1];
    f->sp = TF_SP(tf);
    f->tp = tf->x[4];
    f->pc = tf->sepc;
    f->fp_saved = false;
    if (me->fp_hart)
        fp_park(h, me, f, tf);
    sched_load_address_space(h, server);
    tf->sepc = s->entry;
    TF_SP(tf) = s->stacks + (uint64_t)(a + 1) * RPC_STACK_SIZE;
    TF_A(tf, 5) = badge;
    h->rpc_calls++;
    *out = f;
    return 0;
dead:
    give_back_activation(ep, a);
    kobj_put(&ep->obj);
    return E_DEAD;
}

// Pops the top frame: the caller's domain again, the activation free. The frame stays
// readable until this thread pushes another. Interrupts off.
static struct rpc_frame *leave(struct hart *h, struct thread *me, struct trapframe *tf)
{
    struct rpc_frame *f = &me->rpc.frames[me->rpc.depth - 1];
    struct process *server = me->domain;
    if (me->ipc.reply_to)
        ipc_thread_exit(me);  // a message the entry received and never answered: E_DEAD
    spin_lock_fast(&me->lock);
    me->rpc.depth--;
    me->domain = f->domain;
    // A kill at depth > 0 was the server's, and it is left now. One of the home that
    // came meanwhile waited (kill_thread): the home's exiting says so (user_return).
    me->killed = false;
    spin_unlock_fast(&me->lock);
    if (f->fp_saved || me->fp_hart)
        fp_unpark(h, me, f, tf);
    sched_load_address_space(h, f->domain);
    process_unvisit(server);  // last: from here the server may be torn down
    give_back_activation(f->ep, f->activation);
    kobj_put(&f->ep->obj);
    return f;
}

// The caller's registers, whole, into tf: the callee-saved from the frame, the rest 0
// (nothing of the server's leaks back). For the slow ways out, which end in userret.
static void frame_to_trapframe(const struct rpc_frame *f, struct trapframe *tf, long status)
{
    memset(tf->x, 0, sizeof tf->x);
    tf->x[1] = f->ra;
    TF_SP(tf) = f->sp;
    tf->x[3] = f->gp;
    tf->x[4] = f->tp;
    tf->x[8] = f->s[0];
    tf->x[9] = f->s[1];
    for (int i = 2; i < 12; i++)
        tf->x[16 + i] = f->s[i];  // s2-s11 are x18-x27
    tf->sepc = f->pc;
    TF_A(tf, 0) = (uint64_t)status;
}

void rpc_unwind(struct thread *me, long err)
{
    intr_off();
    struct rpc_frame *f = leave(this_hart(), me, me->tf);
    frame_to_trapframe(f, me->tf, err);
    user_return();  // which unwinds again if the caller's domain is ending too
}

void rpc_fault(struct thread *me, uint64_t scause)
{
    struct process *server = me->domain;
    printf("%s[%d]: RPC entry of thread %d (%s) faulted: %s at address %#lx, pc %#lx; "
           "the call returns E_FAULT\n",
           server->name, server->pid, me->id, me->process->name, trap_cause_name(scause),
           me->tf->stval, me->tf->sepc);
    rpc_unwind(me, E_FAULT);
}

// ---- the calls ------------------------------------------------------------------------------

static struct rpc_go failed(long err)
{
    syscall_exit_checks();  // a kill or an object to reap, as every system call does
    return (struct rpc_go){ NULL, err };
}

// Everything the fast path left: the precise error, a wait for an activation.
static struct rpc_go call_slow(struct hart *h, struct thread *me, handle_t handle,
                               struct trapframe *tf)
{
    if (me->rpc.depth >= RPC_DEPTH_MAX)
        return failed(E_LIMIT);
    struct kobject *o;
    struct handle entry;
    intr_on();
    long err = handle_lookup_entry(me->domain, handle, KOBJ_ENDPOINT, RIGHT_SEND, &o, &entry);
    intr_off();
    if (err)
        return failed(err);
    struct endpoint *ep = (struct endpoint *)o;
    int a = -1;
    if (!__atomic_load_n(&ep->rpc.entry, __ATOMIC_ACQUIRE))
        err = E_NOENT;
    else if (READ_ONCE(ep->closed))
        err = E_DEAD;
    else if (__atomic_load_n(&ep->rpc.waiting, __ATOMIC_SEQ_CST) ||
             (a = take_activation(&ep->rpc)) < 0) {
        intr_on();
        err = wait_for_activation(me, ep, &a);
        intr_off();
    }
    struct rpc_frame *f = NULL;
    if (err)
        kobj_put(o);
    else
        err = enter(this_hart(), me, ep, a, entry.badge, tf, &f);  // may have moved hart
    if (err)
        return failed(err);
    this_hart()->rpc_slow++;
    return (struct rpc_go){ f, 0 };
}

// A reference to o unless it is being destroyed (refs 0).
ALWAYS_INLINE bool kobj_tryget(struct kobject *o)
{
    uint32_t refs = __atomic_load_n(&o->refs, __ATOMIC_RELAXED);
    while (refs) {
        if (__atomic_compare_exchange_n(&o->refs, &refs, refs + 1, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            return true;
    }
    return false;
}

struct rpc_go rpc_call_enter(uint64_t handle, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3,
                             uint64_t unused, struct trapframe *tf)
{
    struct hart *h = this_hart();
    struct thread *me = h->current;
    struct process *dom = me->domain;
    struct rpc_go go = { NULL, 0 };
    struct handle e;
    uint32_t seq;
    tf->sepc += 4;  // past the ecall
    // The words go where the entry finds them (a0-a3); the caller keeps none of its own
    // argument registers across the call, so on any way back these are simply lost.
    TF_A(tf, 0) = w0;
    TF_A(tf, 1) = w1;
    TF_A(tf, 2) = w2;
    TF_A(tf, 3) = w3;
    // The handle names an endpoint I may send on, still (the count unchanged after the
    // reference is taken: endpoint_in_table's slot cannot have changed hands under it).
    struct endpoint *ep;
    int a;
    if (me->rpc.depth >= RPC_DEPTH_MAX || !process_handle_peek(dom, (handle_t)handle, &e, &seq) ||
        !(e.rights & RIGHT_SEND) || !(ep = endpoint_in_table(e.obj)))
        return call_slow(h, me, (handle_t)handle, tf);
    if (!kobj_tryget(&ep->obj))
        return call_slow(h, me, (handle_t)handle, tf);
    if (READ_ONCE(dom->handle_seq) != seq || !__atomic_load_n(&ep->rpc.entry, __ATOMIC_ACQUIRE) ||
        READ_ONCE(ep->closed) || __atomic_load_n(&ep->rpc.waiting, __ATOMIC_SEQ_CST) ||
        (a = take_activation(&ep->rpc)) < 0) {
        kobj_put(&ep->obj);
        return call_slow(h, me, (handle_t)handle, tf);
    }
    go.error = enter(h, me, ep, a, e.badge, tf, &go.frame);
    return go.error ? failed(go.error) : go;
}

struct rpc_go rpc_return_leave(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t unused4,
                               uint64_t unused5, struct trapframe *tf)
{
    struct hart *h = this_hart();
    struct thread *me = h->current;
    tf->sepc += 4;
    if (me->rpc.depth == 0)
        return failed(E_PERM);  // not inside a call: nothing to return from
    struct rpc_frame *f = leave(h, me, tf);
    tf->x[1] = f->ra;
    TF_SP(tf) = f->sp;
    tf->x[4] = f->tp;
    tf->sepc = f->pc;
    TF_A(tf, 0) = 0;
    TF_A(tf, 1) = w0;
    TF_A(tf, 2) = w1;
    TF_A(tf, 3) = w2;
    TF_A(tf, 4) = w3;
    // Back in a domain that is ending (the home: this thread dies; a server: unwind
    // further), or with objects to reap: the slow way out, with the whole register set.
    if (READ_ONCE(me->domain->exiting) | kobj_reap_pending()) {
        frame_to_trapframe(f, tf, 0);
        TF_A(tf, 1) = w0;
        TF_A(tf, 2) = w1;
        TF_A(tf, 3) = w2;
        TF_A(tf, 4) = w3;
        user_return();
    }
    return (struct rpc_go){ f, 0 };
}
