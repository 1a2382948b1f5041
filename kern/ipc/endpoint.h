// IPC endpoints: seL4-style rendezvous message passing.
//
// An endpoint is in one state: EP_IDLE (nobody waits), EP_SEND (senders wait in its
// queue) or EP_RECV (receivers wait). A call or send meets a waiting receiver, or
// queues; a receive meets a waiting sender, or queues. Queues are ordered by priority,
// first come first served within a priority. A message is four words, moved between
// trapframes, plus an optional buffer (copied from the sender's memory straight into
// the receiver's) and one handle.
//
// A thread that waits blocks without kernel frames (ipc/ipc_state.h): the system call
// that blocked never returns; the thread resumes in user mode with the result its
// partner wrote into its trapframe.
//
// Endpoints live in a fixed table, like threads and processes: the memory of one is
// never anything but an endpoint, which lets the fast path (ipc/fastpath.c) look a
// handle up without a lock.
//
// Closing: the endpoint counts its handles that carry RIGHT_RECV. When the last one
// closes (its server exited), the endpoint is closed: every queued thread is woken
// with E_DEAD, and every later send or call fails with E_DEAD.
#pragma once

#include "arch/trapframe.h"
#include "ipc/ipc_state.h"
#include "lib/spinlock.h"
#include "proc/object.h"
#include "proc/thread.h"

#define NENDPOINT 512

enum ep_state { EP_IDLE, EP_SEND, EP_RECV };

struct endpoint {
    struct kobject obj;
    struct spinlock lock;
    // ep->lock must be held when using these:
    enum ep_state state;
    struct thread *head;          // the waiting senders or receivers, as state says
    bool closed;                  // no handle can receive any more: sends fail with E_DEAD
    int receivers;                // atomic, not under the lock: handles with RIGHT_RECV
    uint64_t messages;            // delivered, for statistics
    int notices;                  // closing notices not yet received (ipc/badges.h), first ...
    int notices_tail;             // ... and last, or NO_NOTICE
    uint32_t badge_records;       // of the badge table, its own (badges_lock)
    uint32_t in_use;              // atomic: the table slot is taken (a word: swaps need one)
    struct rpc_server rpc;        // its RPC entry, if a server registered one (ipc/rpc.h)
} __attribute__((aligned(128)));  // a power of two: the fast path checks a pointer is one

void endpoint_init(void);
struct endpoint *endpoint_create(void);  // one reference, or NULL when the table is full
void endpoint_destroy(struct endpoint *ep);
// A handle to ep with rights, badge and flags (HANDLE_*) was installed (+1) or removed
// (-1): the count of handles that can receive, and of those marked for a closing notice
// (ipc/badges.h).
void endpoint_handle_changed(struct endpoint *ep, uint32_t rights, uint64_t badge, uint32_t flags,
                             int delta);
int endpoint_count(void);  // endpoints in use, for leak checks

// The system calls' work, for the calling thread, whose registers hold the message
// (<abi/types.h>, IPC_REG_*). Each returns the status, or never returns when the
// thread blocks (it resumes in user mode with the status its partner wrote).
// ipc_begin comes first: it takes the xfer address and flags, and zeroes the outputs.
// The calls on an endpoint take over a reference to it from the caller, and drop it
// when they return or block.
void ipc_begin(struct thread *me);
long ipc_call(struct endpoint *ep, uint64_t badge);
long ipc_send(struct endpoint *ep, uint64_t badge);
long ipc_recv(struct endpoint *ep);
long ipc_reply(void);
long ipc_reply_recv(struct endpoint *ep);
// A thread that exits with a reply pending answers E_DEAD to its caller.
void ipc_thread_exit(struct thread *t);
// t was killed while T_BLOCKED: take it out of its IPC with E_DEAD. Caller holds no lock.
void ipc_abort(struct thread *t);
// For ipc/fastpath.c, which takes the common case itself. Caller holds ep->lock for the
// queue functions.
extern struct endpoint endpoints[NENDPOINT];
// Every change of phase goes through ipc_change_phase, checked against the allowed ones:
// ipc_phase_next[from] has bit `to` set when from -> to is allowed.
#define PHASE(p) (1u << (p))
static const uint8_t ipc_phase_next[IPC_PHASES] = {
    [IPC_IDLE] = PHASE(IPC_SEND_QUEUED) | PHASE(IPC_RECV_QUEUED) | PHASE(IPC_WAIT_REPLY),
    [IPC_SEND_QUEUED] = PHASE(IPC_IDLE) | PHASE(IPC_WAIT_REPLY),
    [IPC_RECV_QUEUED] = PHASE(IPC_IDLE),
    [IPC_WAIT_REPLY] = PHASE(IPC_IDLE) | PHASE(IPC_REPLYING),
    [IPC_REPLYING] = PHASE(IPC_IDLE),
};
#undef PHASE
__attribute__((noreturn)) void ipc_phase_panic(struct thread *t, enum ipc_phase to);

// t goes from phase `from` (panics if it is not there) to `to`. Where the caller knows
// from, it names it: with both constant, the table check is done by the compiler.
ALWAYS_INLINE void ipc_change_phase(struct thread *t, enum ipc_phase from, enum ipc_phase to)
{
    if (t->ipc.phase != from || !(ipc_phase_next[from] & (1u << to)))
        ipc_phase_panic(t, to);
    t->ipc.phase = to;
}

ALWAYS_INLINE void ipc_set_phase(struct thread *t, enum ipc_phase to)
{
    ipc_change_phase(t, t->ipc.phase, to);
}
void ipc_queue_insert(struct endpoint *ep, struct thread *t, enum ipc_phase phase, bool at_front);
struct thread *ipc_queue_pop(struct endpoint *ep);

// The endpoint o is, when it lies in the endpoint table; else NULL. Safe on a pointer
// read without a reference: it only compares addresses.
static inline struct endpoint *endpoint_in_table(struct kobject *o)
{
    uintptr_t offset = (uintptr_t)o - (uintptr_t)endpoints;
    if (offset >= sizeof endpoints || offset % sizeof(struct endpoint))
        return NULL;
    return (struct endpoint *)o;
}

// The result of t's IPC, written where it finds it when it resumes in user mode.
static inline void ipc_set_status(struct thread *t, long status)
{
    TF_A(t->tf, IPC_REG_STATUS) = (uint64_t)status;
}
