// IPC endpoints: seL4-style rendezvous message passing.
//
// An endpoint is in one state: EP_IDLE (nobody waits), EP_SEND (senders wait in its
// queue) or EP_RECV (receivers wait). A call or send meets a waiting receiver, or
// queues; a receive meets a waiting sender, or queues. Queues are ordered by priority,
// first come first served within a priority. A message is four words, moved between
// trapframes, plus an optional buffer (copied through the kernel) and one handle.
//
// Closing: the endpoint counts its handles that carry RIGHT_RECV. When the last one
// closes (its server exited), the endpoint is closed: every queued thread is woken
// with E_DEAD, and every later send or call fails with E_DEAD.
#pragma once

#include "ipc/ipc_state.h"
#include "lib/spinlock.h"
#include "proc/object.h"

enum ep_state { EP_IDLE, EP_SEND, EP_RECV };

struct endpoint {
    struct kobject obj;
    struct spinlock lock;
    // ep->lock must be held when using these:
    enum ep_state state;
    struct thread *head;  // the waiting senders or receivers, as state says
    bool closed;          // no handle can receive any more: sends fail with E_DEAD
    int receivers;        // atomic, not under the lock: handles with RIGHT_RECV
    uint64_t messages;    // delivered, for statistics
};

struct endpoint *endpoint_create(void);
void endpoint_destroy(struct endpoint *ep);
void endpoint_receivers_changed(struct endpoint *ep, int delta);

// The system calls' work. regs are the caller's a0..a7 (see <abi/types.h>, "IPC").
long ipc_call(struct endpoint *ep, uint64_t badge, uint64_t *regs);
long ipc_send(struct endpoint *ep, uint64_t badge, uint64_t *regs);
long ipc_recv(struct endpoint *ep, uint64_t *regs);
long ipc_reply(uint64_t *regs);
// A thread that exits with a reply pending answers E_DEAD to its caller.
void ipc_thread_exit(struct thread *t);
