// Processes: an address space, a handle table and the threads running in them.
//
// A process lives while a thread runs in it or a handle names it. When its last thread
// exits (or it is killed, or one thread calls process_exit) it becomes a zombie: its
// memory and handles are freed at once and only its exit status remains, for
// process_wait, until the last handle to it is closed.
#pragma once

#include "abi/types.h"
#include "lib/spinlock.h"
#include "mm/vm.h"
#include "proc/object.h"
#include "proc/thread.h"

#define NPROC 64

enum process_state { P_UNUSED, P_ALIVE, P_ZOMBIE };

struct process {
    struct kobject obj;
    struct spinlock lock;

    // p->lock must be held when using these:
    enum process_state state;
    int live_threads;  // threads not yet exited
    bool exiting;      // process_exit or a kill: threads leave at their next chance
    bool torn_down;    // memory and handles freed (process_teardown ran)
    int exit_status;
    struct waitq waiters;            // threads in process_wait on it
    struct handle handles[NHANDLE];  // written only through object.c's handle_write,
    uint32_t handle_seq;             // ... which makes this odd while it writes (see object.h)

    // Set at creation, then read-only:
    int pid;
    char name[16];
    bool fail_injected;       // its allocations may fail on purpose (mm/failalloc.h)
    pagetable_t pagetable;    // user half private, kernel half shared with every process;
                              // NULL once torn down (then only root remains)
    pagetable_t root;         // the same page, which belongs to the table slot for good: a
    uint64_t satp;            // ... hart may keep it in satp after the process is gone
                              // (its user half is empty then), with no reference to hold
    struct spinlock vm_lock;  // guards the user half of pagetable (mm/uvm.c)

    uint64_t harts_used;            // atomic: harts that may hold its TLB entries
    uint32_t visitors;              // atomic: threads of other processes inside it (RPC,
                                    // ipc/rpc.h): it is not torn down while there are any
    bool teardown_queued;           // p->lock: on a hart's queue of teardowns ...
    struct process *teardown_next;  // ... linked here (process.c)
};

void process_init(void);
// A new empty process (no memory, no threads) with one reference, or NULL.
struct process *process_create(const char *name);
// The process the calling thread runs in (NULL for a kernel thread): its domain, which
// is its home process except inside an RPC (ipc/rpc.h), where it is the server.
struct process *process_current(void);
// Ends the process: every thread leaves at its next kernel boundary (one that never ran a
// thread is torn down by kobj_reap() soon after). The first call's status wins.
void process_exit_all(struct process *p, int status);
// The owner handle of p (object.h, HANDLE_OWNER) was closed: p ends if it never ran.
void process_abandon(struct process *p);
// Runs one queued teardown (a process that never ran, ended); false when there is none.
// For kobj_reap(): caller holds no lock.
bool process_reap_teardowns(void);
// A thread of another process enters p (an RPC into it): true, or false when p is
// exiting (then nothing was counted). process_unvisit: it left; the last one to leave an
// exiting process queues its teardown.
void process_visitors_gone(struct process *p);
ALWAYS_INLINE bool process_visit(struct process *p)
{
    __atomic_add_fetch(&p->visitors, 1, __ATOMIC_SEQ_CST);
    if (!READ_ONCE(p->exiting))
        return true;
    if (__atomic_sub_fetch(&p->visitors, 1, __ATOMIC_SEQ_CST) == 0)
        process_visitors_gone(p);
    return false;
}
ALWAYS_INLINE void process_unvisit(struct process *p)
{
    if (__atomic_sub_fetch(&p->visitors, 1, __ATOMIC_SEQ_CST) == 0 && READ_ONCE(p->exiting))
        process_visitors_gone(p);
}
// Called by each user thread as it exits; the last one tears the process down.
void process_thread_exited(struct process *p);
// Waits for p to become a zombie and returns its status (or E_DEAD when the waiter
// itself is being killed).
long process_wait(struct process *p, int *status);
int process_count(void);
// The process table's slot i (0 .. NPROC-1), in any state, or NULL: for listings, which
// check p->state under p->lock (proc/sys_info.c).
struct process *process_slot(int i);
// Destroy, when the last reference goes (object.c calls it).
void process_destroy(struct process *p);
// A copy of p's entry h read without p->lock, and the handle table's sequence count it
// was read at (*seq); false when h is no handle or the table was being written. The copy
// holds no reference and may be torn: it is the entry only if the count still equals
// *seq when read again later (the IPC fast path reads it again under the object's own
// lock; ipc/fastpath.c says why that is enough for endpoints).
ALWAYS_INLINE bool process_handle_peek(struct process *p, handle_t h, struct handle *out,
                                       uint32_t *seq)
{
    uint32_t s = __atomic_load_n(&p->handle_seq, __ATOMIC_ACQUIRE);
    if ((s & 1) || h < 1 || h > NHANDLE)
        return false;
    *out = p->handles[h - 1];
    __atomic_thread_fence(__ATOMIC_ACQUIRE);  // the entry is read before the count again
    *seq = s;
    return out->obj != NULL;
}

// TLB: after changing p's page table, fence every hart that may have cached it.
void process_tlb_flush(struct process *p, uint64_t va, uint64_t len);
