// Device interrupts as notifications (see irq.h).
#include "ipc/irq.h"
#include "dev/plic.h"
#include "mm/kalloc.h"

#define MAX_LINES 128

static struct irq *irqs[MAX_LINES];  // by line; guarded by irq_lock
static struct spinlock irq_lock = SPINLOCK_INIT("irq", RANK_IRQ);

struct irq *irq_get(uint32_t line)
{
    if (line == 0 || line >= MAX_LINES || line > plic_lines())
        return NULL;
    spin_lock(&irq_lock);
    struct irq *irq = irqs[line];
    if (irq) {
        kobj_get(&irq->obj);
    } else {
        irq = kalloc_zpage();
        if (irq) {
            kobj_init(&irq->obj, KOBJ_IRQ);
            irq->line = line;
            irqs[line] = irq;
        }
    }
    spin_unlock(&irq_lock);
    return irq;
}

void irq_destroy(struct irq *irq)
{
    spin_lock(&irq_lock);
    irqs[irq->line] = NULL;
    struct notify *n = irq->notify;
    if (irq->pending)
        plic_complete(irq->context, irq->line);
    spin_unlock(&irq_lock);
    if (n)
        kobj_put(&n->obj);
    kfree_page(irq);
}

long irq_bind(struct irq *irq, struct notify *n, uint64_t bits)
{
    kobj_get(&n->obj);
    spin_lock(&irq_lock);
    struct notify *old = irq->notify;
    irq->notify = n;
    irq->bits = bits;
    spin_unlock(&irq_lock);
    if (old)
        kobj_put(&old->obj);
    plic_enable(irq->line);
    return 0;
}

long irq_ack(struct irq *irq)
{
    spin_lock(&irq_lock);
    bool pending = irq->pending;
    irq->pending = false;
    if (pending)
        plic_complete(irq->context, irq->line);
    spin_unlock(&irq_lock);
    return 0;
}

void irq_external_interrupt(void)
{
    int context;
    uint32_t line;
    while ((line = plic_claim(&context)) != 0) {
        spin_lock(&irq_lock);
        struct irq *irq = line < MAX_LINES ? irqs[line] : NULL;
        struct notify *n = irq ? irq->notify : NULL;
        uint64_t bits = irq ? irq->bits : 0;
        if (n) {
            irq->pending = true;  // masked until irq_ack
            irq->context = context;
            irq->count++;
            kobj_get(&n->obj);
        }
        spin_unlock(&irq_lock);
        if (n) {
            notify_signal(n, bits);
            kobj_put(&n->obj);
        } else {
            plic_complete(context, line);  // nobody drives it: let it go
        }
    }
}
