// A thread's part in message passing (struct thread embeds one).
//
// A thread that finds nobody on the other side of an endpoint waits in its queue,
// T_BLOCKED; whoever arrives second moves the message into it and wakes it. A caller
// whose message was received then waits for the reply. A blocked thread keeps no kernel
// frames (as in seL4): its message is in its trapframe (a1..a4, as it made the call),
// and whoever completes it writes the result there (the status in a0, received words
// in a1..a4, the badge in a5, the received length and handle in a6 and a7), so it
// resumes straight in user mode. See ipc/endpoint.c for the transitions and locks.
#pragma once

#include "abi/types.h"
#include "lib/types.h"

struct thread;
struct endpoint;
struct kobject;

enum ipc_phase {
    IPC_IDLE,         // in no IPC
    IPC_SEND_QUEUED,  // queued on an endpoint to send or call (the endpoint's lock)
    IPC_RECV_QUEUED,  // queued on an endpoint to receive (the endpoint's lock)
    IPC_WAIT_REPLY,   // its call was received; it waits for the reply (its t->lock)
    IPC_REPLYING,     // a replier claimed it and is moving the reply (its t->lock)
    IPC_PHASES,
};

struct ipc_state {
    // The endpoint's lock guards these while the thread is queued:
    struct thread *next;         // link in the endpoint's queue
    struct endpoint *queued_on;  // the endpoint whose queue holds it, or NULL (no
                                 // reference: an endpoint empties its queue when it closes,
                                 // before it can be destroyed)

    // Set by the thread itself before it is visible to others:
    uint64_t badge;            // the badge of the handle it sends with
    bool is_call;              // it waits for a reply
    uint32_t flags;            // the call's flags (IPC_NONBLOCK)
    uint64_t xfer_addr;        // its struct ipc_xfer in user memory, or 0
    struct ipc_xfer x;         // a copy of it
    struct kobject *send_obj;  // the handle it passes along (a reference), or NULL
    uint32_t send_rights;
    uint32_t send_flags;  // HANDLE_COPIED's: a HANDLE_WATCHED one counts while it travels
    uint64_t send_badge;

    // t->lock guards this (and, while the thread is queued, the endpoint's lock):
    enum ipc_phase phase;

    // A receiving thread's own:
    struct thread *reply_to;  // the caller it owes a reply, or NULL; no reference:
    int reply_id;             // ... threads are a fixed table, and a caller still
                              // waiting has this id (a freed slot gets a new one)
};
