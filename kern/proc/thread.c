// Threads (see thread.h): a fixed table, kernel stacks from the page allocator, and
// wait queues for every kind of waiting that keeps kernel frames (IPC blocks without
// them: ipc/endpoint.c).
#include "proc/thread.h"
#include "dev/ipi.h"
#include "abi/errno.h"
#include "lib/assert.h"
#include "mm/failalloc.h"
#include "lib/string.h"
#include "mm/kalloc.h"
#include "proc/process.h"
#include "proc/sched.h"
#include "proc/usertrap.h"
#include "ipc/endpoint.h"

static struct thread threads[NTHREAD];
static int next_id = 1;  // guarded by threads_lock
// Guards allocation of table slots, and is the condition lock of thread_join().
static struct spinlock threads_lock = SPINLOCK_INIT("threads", RANK_THREADS);

void thread_init(void)
{
    for (int i = 0; i < NTHREAD; i++)
        spin_init(&threads[i].lock, "thread", RANK_THREAD);
}

void thread_check_stack(struct thread *t)
{
    if (*(uint64_t *)t->kstack != KSTACK_CANARY)
        panic("thread: kernel stack overflow in thread %d (%s)", t->id, t->name);
}

// Where every new thread starts, on its own stack, holding its t->lock (taken by
// the hart that switched to it).
static void thread_start(void)
{
    struct thread *t = thread_current();
    sched_finish_switch();
    spin_unlock(&t->lock);
    intr_on();
    if (t->process)
        user_return();
    t->fn(t->arg);
    thread_exit(0);
}

// A table slot in T_EMBRYO with a stack, one reference for its running and one for
// the creator, or NULL.
static struct thread *thread_alloc(const char *name, int priority, uint64_t affinity)
{
    if (priority < PRIORITY_MIN || priority > PRIORITY_MAX || affinity == 0 ||
        failalloc_now(FAIL_THREAD))
        return NULL;
    uint8_t *stack = kalloc_page();
    if (!stack)
        return NULL;
    spin_lock(&threads_lock);
    for (int i = 0; i < NTHREAD; i++) {
        struct thread *t = &threads[i];
        if (t->state != T_UNUSED)  // changes only under threads_lock
            continue;
        spin_lock(&t->lock);
        t->state = T_EMBRYO;
        t->id = next_id++;
        spin_unlock(&t->lock);
        spin_unlock(&threads_lock);
        kobj_init(&t->obj, KOBJ_THREAD);
        kobj_get(&t->obj);
        t->kstack = stack;
        *(uint64_t *)stack = KSTACK_CANARY;
        t->tf = NULL;
        t->process = NULL;
        t->domain = NULL;
        t->fn = NULL;
        t->arg = NULL;
        str_copy(t->name, name, sizeof t->name);
        t->exit_value = 0;
        t->killed = false;
        t->wq = NULL;
        t->wq_next = NULL;
        t->wake_time = 0;
        t->sleep_hart = NULL;
        t->joiners.head = NULL;
        t->rq = NULL;
        t->priority = priority;
        t->affinity = affinity;
        t->harts_run_on = 0;
        t->last_hart = NULL;
        t->fp_hart = NULL;
        memset(&t->ipc, 0, sizeof t->ipc);
        t->rpc.depth = 0;
        t->rpc.wait_next = NULL;
        t->rpc.wq.head = NULL;
        memset(&t->context, 0, sizeof t->context);
        t->context.ra = (uint64_t)thread_start;
        t->context.sp = (uint64_t)t->kstack + KSTACK_SIZE;
        return t;
    }
    spin_unlock(&threads_lock);
    kfree_page(stack);
    return NULL;
}

static void thread_start_running(struct thread *t)
{
    spin_lock(&t->lock);
    sched_wake(t);
    spin_unlock(&t->lock);
}

struct thread *thread_create_kernel(void (*fn)(void *), void *arg, const char *name, int priority,
                                    uint64_t affinity)
{
    struct thread *t = thread_alloc(name, priority, affinity);
    if (!t)
        return NULL;
    t->fn = fn;
    t->arg = arg;
    thread_start_running(t);
    return t;
}

struct thread *thread_create_user(struct process *p, uint64_t pc, uint64_t sp, uint64_t a0,
                                  int priority, uint64_t affinity)
{
    struct thread *t = thread_alloc(p->name, priority, affinity);
    if (!t)
        return NULL;
    spin_lock(&p->lock);
    bool alive = p->state == P_ALIVE && !p->exiting;
    if (alive)
        p->live_threads++;
    spin_unlock(&p->lock);
    if (!alive) {
        thread_put(t);  // the creator's reference
        thread_put(t);  // and the one it would have run with
        return NULL;
    }
    kobj_get(&p->obj);
    t->process = p;
    t->domain = p;
    t->tf = (struct trapframe *)(t->kstack + KSTACK_SIZE - sizeof(struct trapframe));
    memset(t->tf, 0, sizeof *t->tf);
    t->tf->sepc = pc;
    TF_SP(t->tf) = sp;
    TF_A(t->tf, 0) = a0;
    t->context.sp = (uint64_t)t->tf;
    thread_start_running(t);
    return t;
}

void thread_exit(long value)
{
    struct thread *t = thread_current();
    assert(t && t->rpc.depth == 0);  // a thread in an RPC leaves it first (ipc/rpc.h)
    ipc_thread_exit(t);              // a caller still owed a reply gets E_DEAD
    if (t->process)
        process_thread_exited(t->process);
    // threads_lock first: a joiner checks the state under it, so the wakeup
    // cannot fall between its check and its sleep.
    spin_lock(&threads_lock);
    thread_wakeup(&t->joiners, &threads_lock);
    spin_lock(&t->lock);
    t->exit_value = value;
    t->state = T_ZOMBIE;
    spin_unlock(&threads_lock);
    sched_switch();  // the scheduler drops the running reference after switching away
    panic("thread: a zombie ran again");
}

long thread_join(struct thread *t, long *value)
{
    if (t == thread_current())
        return E_DEADLK;
    spin_lock(&threads_lock);
    for (;;) {
        spin_lock(&t->lock);
        bool done = t->state == T_ZOMBIE;
        *value = t->exit_value;
        spin_unlock(&t->lock);
        if (done) {
            spin_unlock(&threads_lock);
            return 0;
        }
        if (thread_killed(thread_current())) {
            spin_unlock(&threads_lock);
            return E_DEAD;
        }
        thread_sleep_on(&t->joiners, &threads_lock);
    }
}

void thread_put(struct thread *t)
{
    kobj_put(&t->obj);
}

void thread_destroy(struct thread *t)
{
    // The last reference: it exited (or never ran) and its hart has switched away.
    thread_check_stack(t);
    struct process *p = t->process;
    kfree_page(t->kstack);
    t->kstack = NULL;
    t->tf = NULL;
    t->process = NULL;
    t->domain = NULL;
    spin_lock(&threads_lock);
    spin_lock(&t->lock);
    t->state = T_UNUSED;
    spin_unlock(&t->lock);
    spin_unlock(&threads_lock);
    if (p)
        kobj_put(&p->obj);
}

void thread_sleep_on(struct waitq *wq, struct spinlock *lk)
{
    struct thread *t = thread_current();
    assert(holding(lk));
    // Once t->lock is held no wakeup and no kill can be missed: both take it too.
    spin_lock(&t->lock);
    if (t->killed) {
        spin_unlock(&t->lock);
        return;
    }
    t->wq = wq;
    t->wq_next = wq->head;
    wq->head = t;
    spin_unlock(lk);
    t->state = T_SLEEPING;
    sched_switch();
    spin_unlock(&t->lock);
    spin_lock(lk);
    // Woken by a kill, it is still on the queue: only lk's holder may take it off.
    for (struct thread **link = &wq->head; t->wq && *link; link = &(*link)->wq_next) {
        if (*link == t) {
            *link = t->wq_next;
            t->wq = NULL;
        }
    }
}

void thread_wakeup(struct waitq *wq, struct spinlock *lk)
{
    assert(holding(lk));
    struct thread *t;
    while ((t = wq->head) != NULL) {
        wq->head = t->wq_next;
        spin_lock(&t->lock);
        t->wq = NULL;
        t->wq_next = NULL;
        if (t->state == T_SLEEPING)
            sched_wake(t);
        spin_unlock(&t->lock);
    }
}

int thread_set_priority(struct thread *t, int priority)
{
    if (priority < PRIORITY_MIN || priority > PRIORITY_MAX)
        return -1;
    spin_lock(&t->lock);
    sched_requeue(t, priority, t->affinity);
    spin_unlock(&t->lock);
    return 0;
}

int thread_set_affinity(struct thread *t, uint64_t affinity)
{
    if (affinity == 0)
        return -1;
    spin_lock(&t->lock);
    sched_requeue(t, t->priority, affinity);
    spin_unlock(&t->lock);
    // A thread that may no longer run where it is moves at once.
    if (t == thread_current()) {
        push_off();
        bool move = !(affinity & this_hart()->mask);
        pop_off();
        if (move)
            sched_yield();
    }
    return 0;
}

bool thread_killed(struct thread *t)
{
    return t && READ_ONCE(t->killed);
}

// Makes t leave what it is doing because p is ending, and gets it moving: a sleeper
// wakes, a thread blocked in IPC leaves it, one running on another hart is interrupted
// (it notices at its next kernel boundary, as one running here does).
//
// Which p it is decides what t leaves. Its home (depth 0): t is killed. The server it is
// in now (an RPC, depth > 0): the call unwinds to its caller with E_DEAD (user_return).
// Its home while it is in a server: nothing yet. It dies when its call returns (the
// return sees the home exiting), never in the middle of the server's work.
static void kill_thread(struct thread *t, struct process *p)
{
    spin_lock(&t->lock);
    bool alive = t->state != T_UNUSED && t->state != T_ZOMBIE;
    bool leave = alive && (t->rpc.depth ? t->domain == p : t->process == p);
    if (leave)
        t->killed = true;
    // Killed first, state after, with a full fence between: the IPC fast path blocks a
    // thread without its lock, writing the state first and reading killed after; so one
    // of the two sees the other (ipc/fastpath.c).
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    bool blocked = leave && t->state == T_BLOCKED;
    if (leave && t->state == T_SLEEPING) {
        sched_cancel_sleep(t);
        sched_wake(t);  // it leaves its wait queue itself (thread_sleep_on)
    }
    struct hart *there = t->last_hart;
    if (leave && t->state == T_RUNNING && there != this_hart() && there->current == t)
        ipi_send(there, IPI_KICK);
    spin_unlock(&t->lock);
    if (blocked)
        ipc_abort(t);  // takes the endpoint's lock, which comes before t->lock
}

void thread_kill_process(struct process *p)
{
    for (int i = 0; i < NTHREAD; i++) {
        struct thread *t = &threads[i];
        if (READ_ONCE(t->process) == p || READ_ONCE(t->domain) == p)
            kill_thread(t, p);
    }
}

int thread_count(void)
{
    int n = 0;
    for (int i = 0; i < NTHREAD; i++)
        if (READ_ONCE(threads[i].state) != T_UNUSED)
            n++;
    return n;
}
