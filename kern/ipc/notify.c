// Notifications (see notify.h).
#include "ipc/notify.h"
#include "abi/errno.h"
#include "mm/kalloc.h"
#include "proc/thread.h"

struct notify *notify_create(void)
{
    struct notify *n = kalloc_zpage();
    if (!n)
        return NULL;
    kobj_init(&n->obj, KOBJ_NOTIFY);
    spin_init(&n->lock, "notify", RANK_NOTIFY);
    return n;
}

void notify_destroy(struct notify *n)
{
    kfree_page(n);
}

void notify_signal(struct notify *n, uint64_t bits)
{
    spin_lock(&n->lock);
    n->bits |= bits;
    thread_wakeup(&n->waiters, &n->lock);
    spin_unlock(&n->lock);
}

long notify_wait(struct notify *n, bool nonblocking)
{
    spin_lock(&n->lock);
    while (n->bits == 0) {
        if (nonblocking || thread_killed(thread_current())) {
            spin_unlock(&n->lock);
            return nonblocking ? E_AGAIN : E_DEAD;
        }
        thread_sleep_on(&n->waiters, &n->lock);
    }
    uint64_t bits = n->bits;
    n->bits = 0;
    spin_unlock(&n->lock);
    return (long)bits;
}
