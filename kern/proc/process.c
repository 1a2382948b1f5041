// Processes (see process.h).
#include "proc/process.h"
#include "ipc/rpc.h"
#include "dev/ipi.h"
#include "abi/errno.h"
#include "lib/assert.h"
#include "mm/failalloc.h"
#include "lib/string.h"
#include "mm/memlayout.h"
#include "mm/uvm.h"
#include "proc/sched.h"
#include "proc/thread.h"

static struct process procs[NPROC];
static struct spinlock procs_lock = SPINLOCK_INIT("procs", RANK_PROCS);  // slot allocation
static int next_pid = 1;                                                 // guarded by procs_lock

void process_init(void)
{
    for (int i = 0; i < NPROC; i++) {
        struct process *p = &procs[i];
        spin_init(&p->lock, "process", RANK_PROCESS);
        spin_init(&p->vm_lock, "vm", RANK_VM);
        p->root = uvm_create();
        if (!p->root)
            panic("process: no memory for the page table roots");
        p->satp = MAKE_SATP(V2P(p->root));
    }
}

struct process *process_create(const char *name)
{
    if (failalloc_now(FAIL_PROCESS))
        return NULL;
    bool injected = failalloc_injects(name, process_current());
    spin_lock(&procs_lock);
    for (int i = 0; i < NPROC; i++) {
        struct process *p = &procs[i];
        if (p->state != P_UNUSED)
            continue;
        spin_lock(&p->lock);
        p->state = P_ALIVE;
        p->pid = next_pid++;
        kobj_init(&p->obj, KOBJ_PROCESS);
        p->live_threads = 0;
        p->exiting = false;
        p->torn_down = false;
        p->exit_status = 0;
        p->waiters.head = NULL;
        memset(p->handles, 0, sizeof p->handles);
        str_copy(p->name, name, sizeof p->name);
        for (char *c = p->name; *c; c++)
            if (*c < ' ' || *c > '~')
                *c = '?';  // it is printed (fault reports, ps): one plain line each
        p->fail_injected = injected;
        trace_name(p->pid, p->name);
        p->pagetable = p->root;  // its user half was emptied when the slot was last used
        p->harts_used = 0;
        p->teardown_queued = false;
        // visitors is left alone: it is 0 when the slot is freed, and a caller that
        // counted itself in a moment ago, reading a registration that changed, takes
        // itself off again.
        spin_unlock(&p->lock);
        spin_unlock(&procs_lock);
        return p;
    }
    spin_unlock(&procs_lock);
    return NULL;
}

struct process *process_current(void)
{
    struct thread *t = thread_current();
    return t ? t->domain : NULL;
}

static void process_teardown(struct process *p);

// ---- teardowns no thread will do ---------------------------------------------------------
// A process no thread ever ran in has no last thread to tear it down: its teardown is
// queued on this hart and run by kobj_reap(), one at a time, since tearing one down may
// end others (it held their owner handles), at any depth.

static void queue_teardown(struct process *p)
{
    spin_lock(&p->lock);
    bool queued = p->teardown_queued;  // a list link: on one queue, once, at a time
    p->teardown_queued = true;
    spin_unlock(&p->lock);
    if (queued)
        return;
    kobj_get(&p->obj);  // the queue's: it must not be destroyed before its teardown
    push_off();
    struct hart *h = this_hart();
    p->teardown_next = h->teardowns;
    h->teardowns = p;
    pop_off();
}

bool process_reap_teardowns(void)
{
    push_off();
    struct hart *h = this_hart();
    struct process *p = h->teardowns;
    if (p)
        h->teardowns = p->teardown_next;
    pop_off();
    if (!p)
        return false;
    spin_lock(&p->lock);
    p->teardown_queued = false;
    spin_unlock(&p->lock);
    process_teardown(p);
    kobj_put(&p->obj);
    return true;
}

void process_exit_all(struct process *p, int status)
{
    spin_lock(&p->lock);
    if (!p->exiting) {
        p->exiting = true;
        p->exit_status = status;
    }
    bool idle = p->state == P_ALIVE && p->live_threads == 0;
    spin_unlock(&p->lock);
    thread_kill_process(p);
    if (idle)
        queue_teardown(p);
}

void process_abandon(struct process *p)
{
    spin_lock(&p->lock);
    bool unstarted = p->state == P_ALIVE && p->live_threads == 0;
    spin_unlock(&p->lock);
    if (unstarted)
        process_exit_all(p, EXIT_KILLED);
}

// Nothing runs in p any more: free memory and handles now, keep the status. Not yet
// while a thread of another process runs in it through RPC (a visitor): the last one to
// leave queues the teardown (process_unvisit).
static void process_teardown(struct process *p)
{
    // Once only: a kill can race with the last thread's exit or with destroy.
    spin_lock(&p->lock);
    // exiting (or live_threads, for a process that never ran) was written before
    // visitors is read here; a visitor adds itself before it reads exiting: one of the
    // two sees the other (SEQ_CST).
    bool empty = p->live_threads == 0 && __atomic_load_n(&p->visitors, __ATOMIC_SEQ_CST) == 0;
    bool first = empty && !p->torn_down;
    if (first)
        p->torn_down = true;
    spin_unlock(&p->lock);
    if (!first)
        return;
    rpc_server_gone(p);
    handle_close_all(p);
    spin_lock(&p->vm_lock);
    pagetable_t pt = p->pagetable;
    p->pagetable = NULL;
    spin_unlock(&p->vm_lock);
    uvm_free_user(p, pt);
    spin_lock(&p->lock);
    p->state = P_ZOMBIE;
    thread_wakeup(&p->waiters, &p->lock);
    spin_unlock(&p->lock);
}

void process_visitors_gone(struct process *p)
{
    queue_teardown(p);  // kobj_reap() runs it, which checks live_threads
}

void process_thread_exited(struct process *p)
{
    spin_lock(&p->lock);
    bool last = --p->live_threads == 0;
    if (last && !p->exiting) {
        p->exiting = true;  // every thread returned: status 0 unless one was given
    }
    spin_unlock(&p->lock);
    if (last)
        process_teardown(p);  // its root stays: the exiting thread may run on it
}

long process_wait(struct process *p, int *status)
{
    spin_lock(&p->lock);
    while (p->state != P_ZOMBIE) {
        if (thread_killed(thread_current())) {
            spin_unlock(&p->lock);
            return E_DEAD;
        }
        thread_sleep_on(&p->waiters, &p->lock);
    }
    *status = p->exit_status;
    spin_unlock(&p->lock);
    return 0;
}

void process_destroy(struct process *p)
{
    // The last reference: no handle names it, no thread runs in it.
    spin_lock(&p->lock);
    assert(p->live_threads == 0);
    spin_unlock(&p->lock);
    process_teardown(p);  // if it never ran, nothing did yet
    spin_lock(&procs_lock);
    spin_lock(&p->lock);
    p->state = P_UNUSED;
    spin_unlock(&p->lock);
    spin_unlock(&procs_lock);
}

struct process *process_slot(int i)
{
    return i >= 0 && i < NPROC ? &procs[i] : NULL;
}

int process_count(void)
{
    int n = 0;
    for (int i = 0; i < NPROC; i++)
        if (READ_ONCE(procs[i].state) != P_UNUSED)
            n++;
    return n;
}

void process_tlb_flush(struct process *p, uint64_t va, uint64_t len)
{
    sfence_vma();
    // Through our own IPIs, not SBI's remote fence: OpenSBI waits for the other harts
    // spinning in M-mode, and under icount a spinning hart can keep the one it waits for
    // from running for a whole slice, or (seen at process exits) for good.
    ipi_flush_tlbs(__atomic_load_n(&p->harts_used, __ATOMIC_ACQUIRE));
}
