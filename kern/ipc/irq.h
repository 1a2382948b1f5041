// Device interrupts as notifications. An IRQ object stands for one PLIC line; the
// kernel gives handles to them only to the process that drives the device (init,
// which passes them on). When the line interrupts, the bound notification is signalled
// and the line stays masked until the driver acknowledges with irq_ack: a device
// that keeps interrupting cannot flood the kernel while its driver is busy.
#pragma once

#include "ipc/notify.h"
#include "lib/spinlock.h"
#include "proc/object.h"

struct irq {
    struct kobject obj;
    uint32_t line;
    // irq_lock must be held when using these:
    struct notify *notify;  // bound notification (a reference), or NULL
    uint64_t bits;
    bool pending;    // claimed and signalled, not yet acknowledged
    int context;     // the PLIC context that claimed it
    uint64_t count;  // interrupts delivered
};

struct irq *irq_get(uint32_t line);  // the object for line (a new reference), or NULL
void irq_destroy(struct irq *irq);
long irq_bind(struct irq *irq, struct notify *n, uint64_t bits);
long irq_ack(struct irq *irq);
// From the trap handlers: claim and deliver whatever the PLIC has for this hart.
void irq_external_interrupt(void);
