// Migrating-thread RPC (see rpc.h and rpc_state.h).
//
// The fast path (the f registers off, an activation free, nobody queued, nothing dying)
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
#include "lib/trace.h"
#include "mm/uvm.h"
#include "proc/process.h"
#include "proc/sched.h"
#include "proc/usertrap.h"

_Static_assert(offsetof(struct rpc_frame, s) == RPC_FRAME_S(0), "uservec.S");
_Static_assert(offsetof(struct rpc_frame, gp) == RPC_FRAME_GP, "uservec.S");
_Static_assert(RPC_ACTIVATIONS_MAX <= 32, "activations are the bits of a uint32_t");

// Trapframe slots (registers x[i]) the entry never reads, where uservec.S passes what
// rpc_call has besides the words.
#define CALL_HANDLE     5  // t0: the handle called
#define CALL_WINDOW     6  // t1, t2: the caller's window
#define CALL_WINDOW_LEN 7

// ---- registration --------------------------------------------------------------------

// Changes what the lock-free readers see, as one. Caller holds ep->lock.
static void registration_change(struct rpc_server *s, uint64_t entry, uint64_t stacks,
                                struct process *server)
{
    if (!entry)  // the end of one: no bit may outlive it into the next, which sets its own
        __atomic_store_n(&s->free, 0, __ATOMIC_RELAXED);
    uint32_t gen = s->gen;
    __atomic_store_n(&s->gen, gen + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);  // odd before any field changes
    WRITE_ONCE(s->entry, entry);
    WRITE_ONCE(s->stacks, stacks);
    WRITE_ONCE(s->server, server);
    __atomic_store_n(&s->gen, gen + 2, __ATOMIC_RELEASE);
}

// A consistent copy of what ep's registration says, read without its lock: false when
// nothing is registered or it was changing (then there is nothing to call, or the slow
// half looks again).
struct registration {
    uint32_t gen;
    uint64_t entry, stacks;
    struct process *server;
};

ALWAYS_INLINE bool registration_read(struct rpc_server *s, struct registration *r)
{
    r->gen = __atomic_load_n(&s->gen, __ATOMIC_ACQUIRE);
    r->entry = READ_ONCE(s->entry);
    r->stacks = READ_ONCE(s->stacks);
    r->server = READ_ONCE(s->server);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);  // the fields before gen again
    return !(r->gen & 1) && r->entry && READ_ONCE(s->gen) == r->gen;
}

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
        // The activations first: a caller that reads the registration finds them free.
        __atomic_store_n(&s->free, (uint32_t)((1ULL << n) - 1), __ATOMIC_RELAXED);
        s->orphaned = false;
        registration_change(s, entry, stacks, p);
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
    registration_change(s, 0, 0, NULL);
    spin_unlock(&ep->lock);
    if (server)
        kobj_put(&server->obj);
}

void rpc_server_gone(struct process *p)
{
    // Nothing runs in p any more (its teardown): no frame is inside it. Its endpoints
    // may outlive it (init keeps a server's endpoint across restarts): they take a new
    // registration, from the next incarnation.
    for (int i = 0; i < NENDPOINT; i++) {
        struct endpoint *ep = &endpoints[i];
        if (READ_ONCE(ep->rpc.server) != p)
            continue;
        spin_lock(&ep->lock);
        bool ours = ep->rpc.entry && ep->rpc.server == p;
        if (ours) {
            registration_change(&ep->rpc, 0, 0, NULL);
            ep->rpc.orphaned = true;
            rpc_endpoint_closed(ep);  // the queue sees no entry: E_DEAD
        }
        spin_unlock(&ep->lock);
        if (ours)
            kobj_put(&p->obj);
    }
}

void rpc_endpoint_closed(struct endpoint *ep)
{
    assert(holding(&ep->lock));
    for (struct thread *t = ep->rpc.head; t; t = t->rpc.wait_next)
        thread_wakeup(&t->rpc.wq, &ep->lock);  // each sees ep->closed
}

long sys_rpc_copy(uint64_t offset, uaddr_t buf, uint64_t len, uint32_t direction)
{
    struct thread *me = thread_current();
    if (direction != RPC_COPY_IN && direction != RPC_COPY_OUT)
        return E_INVAL;
    if (me->rpc.depth == 0)
        return E_PERM;  // no caller, no window
    const struct rpc_frame *f = &me->rpc.frames[me->rpc.depth - 1];
    if (len > f->window_len || offset > f->window_len - len)
        return E_RANGE;
    if (len == 0)
        return 0;
    bool src_fault;
    if (direction == RPC_COPY_IN)
        return uvm_copy_between(me->domain, buf, f->domain, f->window + offset, len, &src_fault);
    return uvm_copy_between(f->domain, f->window + offset, me->domain, buf, len, &src_fault);
}

// ---- activations -----------------------------------------------------------------------

// The lowest free activation, taken; -1 when none is.
ALWAYS_INLINE int take_activation(struct rpc_server *s)
{
    uint32_t free = __atomic_load_n(&s->free, __ATOMIC_RELAXED);
    while (free) {
        // One AMO clears the bit, where a compare-and-swap loop costs twice the
        // instructions; the bit was ours if it was still set when it went.
        uint32_t bit = free & -free;
        free = __atomic_fetch_and(&s->free, ~bit, __ATOMIC_ACQUIRE);
        if (free & bit) {
            int a = 0;  // no ctz instruction (no Zbb), and libgcc's is not linked in
            while (bit >>= 1)
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
ALWAYS_INLINE void give_back_activation(struct endpoint *ep, int a)
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
        if (ep->closed || !s->entry || thread_killed(me)) {
            err = E_DEAD;  // closed, or its server ended (rpc_server_gone)
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
// the caller's to keep across a call, and no domain may read another's values. Most
// calls use no FP at all, so this is done lazily. A call starts with the thread's f
// registers off (sstatus.FS): its values are all in tf->f, and no hart takes its
// registers for the thread's (fp_hart NULL). An entry that never runs an FP instruction
// leaves them there, untouched. One that does traps first (usertrap.c's fp_first_use),
// and rpc_fp_first_use parks what the caller keeps in the frame and zeroes the rest; the
// return then zeroes the server's and puts the caller's back. A caller whose f registers
// are live on its hart (FS not off) takes the slow half, which puts them in tf->f first.

static const uint8_t callee_saved_f[12] = { 8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27 };

// Nothing of the thread's FP state in any hart's f registers: all of it in tf->f.
static void fp_off(struct hart *h, struct thread *me)
{
    if (h->fp_owner == me)
        h->fp_owner = NULL;
    me->fp_hart = NULL;
    w_sstatus((r_sstatus() & ~SSTATUS_FS) | SSTATUS_FS_OFF);
}

// (enter uses this: until lab 5's exercise 1 is written, "unused" keeps the build quiet.)
__attribute__((unused)) static void fp_to_trapframe(struct hart *h, struct thread *me,
                                                    struct trapframe *tf)
{
    if ((r_sstatus() & SSTATUS_FS) == SSTATUS_FS_DIRTY)
        fp_save(tf);
    fp_off(h, me);
}

void rpc_fp_first_use(struct thread *me)
{
    struct rpc_frame *f = &me->rpc.frames[me->rpc.depth - 1];
    struct trapframe *tf = me->tf;
    if (f->fp_saved)
        return;  // parked already (an earlier first use, on another hart)
    for (int i = 0; i < 12; i++)
        f->fs[i] = tf->f[callee_saved_f[i]];
    f->fcsr = tf->fcsr;
    f->fp_saved = true;
    memset(tf->f, 0, sizeof tf->f);
    tf->fcsr = 0;
}

// (leave uses this: until lab 5's exercise 2 is written, "unused" keeps the build quiet.)
__attribute__((unused)) static void fp_unpark(struct hart *h, struct thread *me,
                                              struct rpc_frame *f, struct trapframe *tf)
{
    memset(tf->f, 0, sizeof tf->f);  // the server's values go
    for (int i = 0; i < 12; i++)
        tf->f[callee_saved_f[i]] = f->fs[i];
    tf->fcsr = f->fcsr;
    fp_off(h, me);
}

// ---- entering and leaving ----------------------------------------------------------------

#if SOL >= 5
// The rest of entering, for enter() and rpc_call_fast(), once the frame is pushed, the
// domain is the server's and FP is off: what the caller keeps that the assembly does not
// goes in the frame, and tf starts the entry (r's) on activation a's stack.
ALWAYS_INLINE void start_entry(struct hart *h, struct rpc_frame *f, struct endpoint *ep, int a,
                               const struct registration *r, uint64_t badge, struct trapframe *tf)
{
    f->server = r->server;
    f->ep = ep;
    f->activation = a;
    f->window = tf->x[CALL_WINDOW];
    f->window_len = tf->x[CALL_WINDOW_LEN];
    f->ra = tf->x[1];
    f->sp = TF_SP(tf);
    f->tp = tf->x[4];
    f->pc = tf->sepc + 4;  // past the ecall
    f->fp_saved = false;
    sched_load_address_space(h, r->server);
    tf->sepc = r->entry;
    TF_SP(tf) = r->stacks + (uint64_t)(a + 1) * RPC_STACK_SIZE;
    TF_A(tf, 5) = badge;
    h->rpc_calls++;
    // LAB 6 exercise 2: record the entry in the hart's trace (lib/trace.h: TRACE_RPC_ENTER,
    // the depth after and the server's pid), here; and the return (TRACE_RPC_RETURN, the
    // depth after and the pid returned to) in leave() and rpc_return_fast.
#if SOL >= 6
    trace_on_hart(h, TRACE_RPC_ENTER, (uint32_t)h->current->rpc.depth, (uint32_t)r->server->pid);
#endif
}
#endif

// Enters ep's server on activation a (taken; the caller's reference to ep goes to the
// frame): pushes the frame, tf becomes the entry's (its words are there already). NULL
// when the server is exiting or this thread was killed (then a and the reference are
// given back). Interrupts off.
ALWAYS_INLINE struct rpc_frame *enter(struct hart *h, struct thread *me, struct endpoint *ep, int a,
                                      uint64_t badge, struct trapframe *tf)
{
    // LAB 5 exercise 1: enter the server: read the registration (registration_read), count
    // me as the server's visitor (process_visit), then under my lock (a kill reads depth
    // and domain under it) refuse if I was killed, the server is exiting or the
    // registration changed since it was read; push a frame with what the caller keeps that
    // the assembly does not (ra, sp, tp, the pc past the ecall, the window from
    // CALL_WINDOW*, the domain, ep, the server and the activation); park FP state; load
    // the server's address space; point tf at the entry: pc, the activation's stack top,
    // the badge in a5; count the call (h->rpc_calls). On failure give back what was taken
    // and return NULL.
#if SOL >= 5
    struct registration r;
    if (!registration_read(&ep->rpc, &r))
        goto dead;
    struct process *server = r.server;
    if (!process_visit(server))
        goto dead;
    spin_lock_fast(&me->lock);
    // Under my lock, as a kill reads depth and domain: a kill of my home that came first
    // ends the call here; one of the server that comes later finds me inside it. The
    // registration unchanged once I count as a visitor: its server cannot go now.
    if (me->killed || READ_ONCE(server->exiting) || READ_ONCE(ep->rpc.gen) != r.gen) {
        spin_unlock_fast(&me->lock);
        process_unvisit(server);
        goto dead;
    }
    struct rpc_frame *f = &me->rpc.frames[me->rpc.depth++];
    f->domain = me->domain;
    me->domain = server;
    spin_unlock_fast(&me->lock);
    fp_to_trapframe(h, me, tf);  // the entry starts with FP off (see "floating point")
    start_entry(h, f, ep, a, &r, badge, tf);
    return f;
dead:
    give_back_activation(ep, a);
    kobj_put(&ep->obj);
    return NULL;
#else
    static bool said;
    if (!said) {
        said = true;
        printf("lab5: exercise 1 is not done (kern/ipc/rpc.c: enter)\n");
    }
    give_back_activation(ep, a);
    kobj_put(&ep->obj);
    return NULL;
#endif
}

// Pops the top frame: the caller's domain again, the activation free. The frame stays
// readable until this thread pushes another. Interrupts off.
ALWAYS_INLINE struct rpc_frame *leave(struct hart *h, struct thread *me, struct trapframe *tf)
{
    // LAB 5 exercise 2: leave the server: answer a message the entry owes (ipc_thread_exit),
    // pop the frame under my lock (depth, domain, and killed: a kill at depth > 0 was the
    // server's), restore FP state, load the caller's address space (only then may the
    // server go), then give back what enter took: the activation, then the visit (then
    // the server may go, and a new one register), then the reference to ep.
#if SOL >= 5
    struct rpc_frame *f = &me->rpc.frames[me->rpc.depth - 1];
    struct process *server = f->server;
    if (me->ipc.reply_to)
        ipc_thread_exit(me);  // a message the entry received and never answered: E_DEAD
    spin_lock_fast(&me->lock);
    me->rpc.depth--;
    me->domain = f->domain;
    // A kill at depth > 0 was the server's, and it is left now. One of the home that
    // came meanwhile waited (kill_thread): the home's exiting says so (user_return).
    me->killed = false;
    spin_unlock_fast(&me->lock);
    if (f->fp_saved)
        fp_unpark(h, me, f, tf);
    sched_load_address_space(h, f->domain);
#if SOL >= 6
    trace_on_hart(h, TRACE_RPC_RETURN, (uint32_t)me->rpc.depth, (uint32_t)f->domain->pid);
#endif
    // The activation before the visit: once the visit is given back the server may be
    // torn down and a new one register, whose bits a late give-back would corrupt.
    give_back_activation(f->ep, f->activation);
    process_unvisit(server);  // from here the server may be torn down
    kobj_put(&f->ep->obj);
    return f;
#else
    panic("lab5: exercise 2 is not done (kern/ipc/rpc.c: leave): thread %d cannot return", me->id);
#endif
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
    // LAB 5 exercise 3: a fault in the entry is the call's, not the server's: report it
    // and unwind the call with E_FAULT (its activation is free again, the server lives).
    // The stub does what a fault anywhere else does: the process it happened in dies.
#if SOL >= 5
    printf("%s[%d]: RPC entry of thread %d (%s) faulted: %s at address %#lx, pc %#lx; "
           "the call returns E_FAULT\n",
           server->name, server->pid, me->id, me->process->name, trap_cause_name(scause),
           me->tf->stval, me->tf->sepc);
    rpc_unwind(me, E_FAULT);
#else
    printf("%s[%d]: killed: %s at address %#lx, pc %#lx\n", server->name, server->pid,
           trap_cause_name(scause), me->tf->stval, me->tf->sepc);
    process_exit_all(server, EXIT_FAULT);
    rpc_unwind(me, E_DEAD);
#endif
}

// ---- the calls ------------------------------------------------------------------------------
//
// Each call has a fast half and a slow half (arch/uservec.S calls the slow one when the
// fast one gives up). The fast halves call no function at all: a leaf needs none of the
// registers a call makes it save, which in a debug build is a third of its cost. So they
// take nothing they might have to give back through a call: what they hold when they
// give up, they leave in the trapframe's spare slots for the slow half to give back, and
// what a return leaves to do (wake a queued caller, reap) is flagged in the low bits of
// the frame it returns, for rpc_return_finish.

// The fast halves are leaves (they call nothing): a frame pointer there would only cost
// a prologue, and a backtrace never starts inside one.
#define FAST_HALF __attribute__((optimize("omit-frame-pointer")))

// What rpc_call_fast holds when it gives up: more trapframe slots the entry never reads.
#define HELD_EP         28  // t3: a reference to this endpoint, or 0
#define HELD_ACTIVATION 29  // t4: an activation of it + 1, or 0
#define HELD_VISIT      30  // t5: the server counted as visited, or 0

ALWAYS_INLINE struct rpc_frame *give_up(struct trapframe *tf, struct endpoint *ep, int a,
                                        struct process *visited)
{
    tf->x[HELD_EP] = (uint64_t)ep;
    tf->x[HELD_ACTIVATION] = (uint64_t)(a + 1);
    tf->x[HELD_VISIT] = (uint64_t)visited;
    return NULL;
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

// The common call: the handle names an endpoint I may send on with a server registered,
// an activation free and nobody queued, the server not exiting, the f registers off, no lock
// contended. The words are in tf's a0-a3 already (uservec.S).
FAST_HALF struct rpc_frame *rpc_call_fast(uint64_t handle_reg, struct trapframe *tf)
{
    // LAB 5 exercise 4 (the fast path): what enter() does, for the common call, with no
    // function call at all; give up (give_up) on anything uncommon, before any change
    // that the slow half could not undo from what give_up records.
#if SOL >= 5
    handle_t handle = (handle_t)handle_reg;  // cut to 32 bits, as every call's handle is
    struct hart *h = this_hart();
    struct thread *me = h->current;
    struct process *dom = me->domain;
    struct handle e;
    uint32_t seq;
    int depth = me->rpc.depth;
    struct endpoint *ep;
    struct registration r;
    bool fp_live = (r_sstatus() & SSTATUS_FS) != SSTATUS_FS_OFF;
    if (depth >= RPC_DEPTH_MAX || fp_live || !process_handle_peek(dom, handle, &e, &seq) ||
        !(e.rights & RIGHT_SEND) || !(ep = endpoint_in_table(e.obj)) ||
        !registration_read(&ep->rpc, &r))
        return give_up(tf, NULL, -1, NULL);
    // Nobody queued for an activation (relaxed: a caller that barges past one just
    // queued is unfair once, not wrong: give_back_activation wakes the queue).
    struct process *server = r.server;
    if (READ_ONCE(ep->closed) | (READ_ONCE(ep->rpc.waiting) != 0) || READ_ONCE(server->exiting) ||
        !kobj_tryget(&ep->obj))
        return give_up(tf, NULL, -1, NULL);
    // The count unchanged after the reference is taken: the handle still names ep (its
    // table slot cannot have changed hands under a handle that holds it).
    int a;
    if (READ_ONCE(dom->handle_seq) != seq || (a = take_activation(&ep->rpc)) < 0)
        return give_up(tf, ep, -1, NULL);
    if (__atomic_exchange_n(&me->lock.locked, 1, __ATOMIC_ACQUIRE))
        return give_up(tf, ep, a, NULL);
    me->lock.owner = h;
    __atomic_add_fetch(&server->visitors, 1, __ATOMIC_SEQ_CST);  // process_visit's order
    // Under my lock, as a kill reads depth and domain: a kill of my home that came first
    // ends the call (slowly); one of the server that comes later finds me inside it. The
    // registration unchanged once I count as a visitor: its server cannot go now.
    if (me->killed | READ_ONCE(server->exiting) || READ_ONCE(ep->rpc.gen) != r.gen) {
        spin_unlock_fast(&me->lock);
        return give_up(tf, ep, a, server);
    }
    struct rpc_frame *f = &me->rpc.frames[depth];
    me->rpc.depth = depth + 1;
    f->domain = dom;
    me->domain = server;
    spin_unlock_fast(&me->lock);
    me->fp_hart = NULL;  // FP off: no hart's f registers are the thread's (fp_off)
    start_entry(h, f, ep, a, &r, e.badge, tf);
    return f;
#else
    return give_up(tf, NULL, -1, NULL);  // every call takes the slow half
#endif
}

// The call fails with err, returned as a system call's result (in tf's a0).
static struct rpc_frame *failed(struct trapframe *tf, long err)
{
    tf->sepc += 4;  // past the ecall
    TF_A(tf, 0) = (uint64_t)err;
    syscall_exit_checks();  // a kill or an object to reap, as every system call does
    return NULL;
}

// Everything the fast half left: the precise error, a wait for an activation.
struct rpc_frame *rpc_call_slow(struct trapframe *tf)
{
    struct thread *me = thread_current();
    struct endpoint *held = (struct endpoint *)tf->x[HELD_EP];
    if (held) {  // give back what the fast half held, then start again
        if (tf->x[HELD_VISIT])
            process_unvisit((struct process *)tf->x[HELD_VISIT]);
        if (tf->x[HELD_ACTIVATION])
            give_back_activation(held, (int)tf->x[HELD_ACTIVATION] - 1);
        kobj_put(&held->obj);
    }
    if (me->rpc.depth >= RPC_DEPTH_MAX)
        return failed(tf, E_LIMIT);
    struct kobject *o;
    struct handle entry;
    intr_on();
    long err = handle_lookup_entry(me->domain, (handle_t)tf->x[CALL_HANDLE], KOBJ_ENDPOINT,
                                   RIGHT_SEND, &o, &entry);
    intr_off();
    if (err)
        return failed(tf, err);
    struct endpoint *ep = (struct endpoint *)o;
    int a = -1;
    if (!__atomic_load_n(&ep->rpc.entry, __ATOMIC_ACQUIRE))
        err = READ_ONCE(ep->rpc.orphaned) ? E_DEAD : E_NOENT;
    else if (READ_ONCE(ep->closed))
        err = E_DEAD;
    else if (__atomic_load_n(&ep->rpc.waiting, __ATOMIC_SEQ_CST) ||
             (a = take_activation(&ep->rpc)) < 0) {
        intr_on();
        err = wait_for_activation(me, ep, &a);
        intr_off();
    }
    if (err) {
        kobj_put(o);
        return failed(tf, err);
    }
    struct hart *h = this_hart();  // maybe another than at the trap, after a wait
    struct rpc_frame *f = enter(h, me, ep, a, entry.badge, tf);
    if (!f)
        return failed(tf, E_DEAD);
    h->rpc_slow++;
    return f;
}

// What rpc_return_fast leaves to do, in the low bits of the frame it returns.
#define AFTER_WAKE 1  // a caller is queued for an activation: wake it
#define AFTER_GONE 2  // the last visitor left an exiting server: its teardown
#define AFTER_PUT  4  // the endpoint's last reference went
#define AFTER_MASK 7
_Static_assert(_Alignof(struct rpc_frame) > AFTER_MASK, "the low bits of a frame are free");

// The common return: the entry used no FP, owes no message; the caller's domain goes on.
// The words are in tf's a1-a4 already (uservec.S).
FAST_HALF uint64_t rpc_return_fast(struct trapframe *tf)
{
    // LAB 5 exercise 4 (the fast path): what leave() does, for the common return, with no
    // function call: what must be done after (wake a queued caller, tear the server down,
    // the endpoint's last reference) goes in the returned frame's low bits (AFTER_*).
#if SOL >= 5
    struct hart *h = this_hart();
    struct thread *me = h->current;
    int depth = me->rpc.depth;
    if (depth == 0)
        return 0;
    struct rpc_frame *f = &me->rpc.frames[depth - 1];
    asm("" : "+r"(f));  // opaque: else -O1 recomputes it (a multiply) at every use
    struct process *server = f->server, *caller = f->domain;
    struct endpoint *ep = f->ep;
    if (((uintptr_t)me->ipc.reply_to | f->fp_saved) || READ_ONCE(caller->exiting) ||
        __atomic_exchange_n(&me->lock.locked, 1, __ATOMIC_ACQUIRE))
        return 0;
    me->lock.owner = h;
    me->rpc.depth = depth - 1;
    me->domain = caller;
    me->killed = false;  // as leave() says
    spin_unlock_fast(&me->lock);
    sched_load_address_space(h, caller);
#if SOL >= 6
    trace_on_hart(h, TRACE_RPC_RETURN, (uint32_t)depth - 1, (uint32_t)caller->pid);
#endif
    uint64_t after = 0;
    __atomic_fetch_or(&ep->rpc.free, 1u << f->activation, __ATOMIC_SEQ_CST);  // before the
    if (__atomic_load_n(&ep->rpc.waiting, __ATOMIC_SEQ_CST))                  // visit (leave)
        after |= AFTER_WAKE;
    if (__atomic_sub_fetch(&server->visitors, 1, __ATOMIC_SEQ_CST) == 0 &&
        READ_ONCE(server->exiting))
        after |= AFTER_GONE;
    if (__atomic_fetch_sub(&ep->obj.refs, 1, __ATOMIC_ACQ_REL) <= 1)
        after |= AFTER_PUT;
    tf->x[1] = f->ra;
    TF_SP(tf) = f->sp;
    tf->x[4] = f->tp;
    tf->sepc = f->pc;
    TF_A(tf, 0) = 0;
    return (uint64_t)f | after;
#else
    return 0;                            // every return takes the slow half
#endif
}

struct rpc_frame *rpc_return_finish(uint64_t frame_and_after)
{
    struct rpc_frame *f = (struct rpc_frame *)(frame_and_after & ~(uint64_t)AFTER_MASK);
    struct endpoint *ep = f->ep;  // queued for kobj_reap at most: still here
    if (frame_and_after & AFTER_WAKE)
        wake_first_waiter(ep);
    if (frame_and_after & AFTER_GONE)
        process_visitors_gone(f->server);
    if (frame_and_after & AFTER_PUT)
        kobj_put_last(&ep->obj, 1);
    return f;
}

struct rpc_frame *rpc_return_slow(struct trapframe *tf)
{
    struct hart *h = this_hart();
    struct thread *me = h->current;
    if (me->rpc.depth == 0)
        return failed(tf, E_PERM);  // not inside a call: nothing to return from
    uint64_t words[4] = { TF_A(tf, 1), TF_A(tf, 2), TF_A(tf, 3), TF_A(tf, 4) };
    struct rpc_frame *f = leave(h, me, tf);
    frame_to_trapframe(f, tf, 0);
    for (int i = 0; i < 4; i++)
        TF_A(tf, 1 + i) = words[i];
    user_return();  // unwinds further, or ends the thread, when its domain is ending
}
