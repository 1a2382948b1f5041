// Notifications: a word of bits that threads signal and wait on, without a message.
// Device interrupts arrive as signals (see irq.h). Waiting returns and clears every
// pending bit; a signal with no waiter is remembered in the word.
#pragma once

#include "lib/spinlock.h"
#include "proc/object.h"
#include "proc/thread.h"

struct notify {
    struct kobject obj;
    struct spinlock lock;
    // n->lock must be held when using these:
    uint64_t bits;
    struct waitq waiters;  // threads in notify_wait
};

struct notify *notify_create(void);
void notify_destroy(struct notify *n);
// Safe from interrupt handlers.
void notify_signal(struct notify *n, uint64_t bits);
// The pending bits (cleared), waiting for some unless nonblocking (then E_AGAIN).
// E_DEAD when the caller is killed while waiting.
long notify_wait(struct notify *n, bool nonblocking);
