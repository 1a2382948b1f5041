// A thread's part in message passing (struct thread embeds one).
//
// A sender or receiver that finds nobody on the other side waits in its endpoint's
// queue; whoever arrives second moves the message (ipc_transfer) and completes the
// waiter (ipc_complete). A caller then waits for the reply, which the receiving
// thread sends later with no endpoint lock held, so that hand-over goes through phases
// guarded by the caller's own t->lock: waiting -> being replied to -> done, or
// waiting -> abandoned when the caller is killed first.
#pragma once

#include "abi/types.h"
#include "lib/types.h"

struct thread;
struct endpoint;
struct kobject;

enum ipc_phase {
    IPC_IDLE,
    IPC_QUEUED,         // in an endpoint queue (the endpoint's lock guards this)
    IPC_WAIT_REPLY,     // a call delivered; waiting for the reply
    IPC_REPLYING,       // a replier claimed it and is moving the reply
    IPC_ABANDONED,      // killed while waiting for a reply: the reply gets E_DEAD
};

struct ipc_state {
    // The endpoint's lock guards these while the thread is queued:
    struct thread *next;      // link in the endpoint's queue
    struct endpoint *queued_on;
    bool receiving;           // queued to receive (else to send)

    // Set by the thread itself before it is visible to others:
    uint64_t w[IPC_WORDS];    // the message it sends
    uint64_t badge;           // the badge of the handle it sends with
    bool is_call;             // it waits for a reply
    uint64_t xfer_addr;       // its struct ipc_xfer in user memory, or 0
    struct ipc_xfer x;        // a copy of it
    struct kobject *send_obj; // the handle it passes along (a reference), or NULL
    uint32_t send_rights;
    uint64_t send_badge;

    // t->lock guards these:
    enum ipc_phase phase;
    bool done;                // the other side finished with us
    long result;

    // A receiving thread's pending reply (its own):
    struct thread *reply_to;  // the caller to answer (a reference), or NULL
};
