// Kernel objects and handle tables (see object.h).
#include "proc/object.h"
#include "abi/errno.h"
#include "lib/assert.h"
#include "proc/process.h"
#include "proc/region.h"
#include "proc/thread.h"
#include "ipc/badges.h"
#include "ipc/endpoint.h"
#include "ipc/irq.h"
#include "ipc/notify.h"

static uint64_t handles_in_use;  // atomic, for leak checks
static uint64_t objects_alive;   // atomic, for leak checks: from kobj_init to destroy

void kobj_init(struct kobject *o, enum kobj_type type)
{
    o->type = type;
    __atomic_store_n(&o->refs, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&objects_alive, 1, __ATOMIC_RELAXED);
}

uint64_t kobj_count(void)
{
    return __atomic_load_n(&objects_alive, __ATOMIC_RELAXED);
}

void kobj_ref_panic(struct kobject *o)
{
    panic("object: reference taken to a destroyed object (type %d)", o->type);
}

void kobj_put_last(struct kobject *o, uint32_t before)
{
    if (before == 0)
        panic("object: reference dropped twice (type %d)", o->type);
    // The last reference. The caller may hold locks the destructor takes (an endpoint's,
    // while a transfer fails): destroy it later, from kobj_reap().
    uint64_t was_on = intr_off_and_get();
    struct hart *h = this_hart();
    o->reap_next = h->reap;
    h->reap = o;
    if (was_on)
        intr_on();
}

static void destroy(struct kobject *o)
{
    switch (o->type) {
    case KOBJ_PROCESS: process_destroy((struct process *)o); break;
    case KOBJ_THREAD: thread_destroy((struct thread *)o); break;
    case KOBJ_REGION: region_destroy((struct region *)o); break;
    case KOBJ_ENDPOINT: endpoint_destroy((struct endpoint *)o); break;
    case KOBJ_NOTIFY: notify_destroy((struct notify *)o); break;
    case KOBJ_IRQ: irq_destroy((struct irq *)o); break;
    default: panic("object: destroying an object of unknown type %d", o->type);
    }
    __atomic_fetch_sub(&objects_alive, 1, __ATOMIC_RELAXED);
}

void kobj_reap(void)
{
    assert_no_lock_held();  // a destructor takes locks
    for (;;) {
        push_off();
        struct hart *h = this_hart();
        struct kobject *o = h->reap;
        if (o)
            h->reap = o->reap_next;
        pop_off();
        if (o)
            destroy(o);
        else if (!badges_post_pending() && !process_reap_teardowns())
            return;
    }
}

// Every write of a handle table entry, under p->lock. The sequence count is odd while
// the entry changes, so a reader without the lock (handle_peek) can tell whether what
// it read is one consistent entry.
static void handle_write(struct process *p, struct handle *e, struct handle value)
{
    assert(holding(&p->lock));
    WRITE_ONCE(p->handle_seq, p->handle_seq + 1);
    __atomic_thread_fence(__ATOMIC_RELEASE);  // the odd count is seen before the entry
    *e = value;
    __atomic_thread_fence(__ATOMIC_RELEASE);  // the entry is seen before the even count
    WRITE_ONCE(p->handle_seq, p->handle_seq + 1);
}

// Handle values are index + 1, so 0 is never a handle.
static struct handle *entry(struct process *p, handle_t h)
{
    if (h < 1 || h > NHANDLE)
        return NULL;
    return &p->handles[h - 1];
}

// Endpoints count the handles that can receive from them, and those marked for a
// closing notice (see endpoint.h).
static void count_handle(const struct handle *e, int delta)
{
    if (e->obj->type == KOBJ_ENDPOINT)
        endpoint_handle_changed((struct endpoint *)e->obj, e->rights, e->badge, e->flags, delta);
}

long handle_install(struct process *p, struct kobject *o, uint32_t rights)
{
    return handle_install_badged(p, o, rights, 0, 0);
}

static long install(struct process *p, struct kobject *o, uint32_t rights, uint64_t badge,
                    uint32_t flags)
{
    spin_lock(&p->lock);
    if (p->state != P_ALIVE || p->exiting) {
        spin_unlock(&p->lock);
        return E_DEAD;
    }
    for (int i = 0; i < NHANDLE; i++) {
        if (!p->handles[i].obj) {
            struct handle e = { o, rights & RIGHT_ALL, flags, badge };
            kobj_get(o);
            // Counted before anyone can close it: a count never rises from zero.
            count_handle(&e, +1);
            handle_write(p, &p->handles[i], e);
            spin_unlock(&p->lock);
            __atomic_fetch_add(&handles_in_use, 1, __ATOMIC_RELAXED);
            return i + 1;
        }
    }
    spin_unlock(&p->lock);
    return E_LIMIT;
}

long handle_install_badged(struct process *p, struct kobject *o, uint32_t rights, uint64_t badge,
                           uint32_t flags)
{
    return install(p, o, rights, badge, flags & HANDLE_COPIED);
}

long handle_install_owner(struct process *creator, struct process *child)
{
    return install(creator, &child->obj, RIGHT_ALL, 0, HANDLE_OWNER);
}

long handle_lookup(struct process *p, handle_t h, enum kobj_type type, uint32_t rights,
                   struct kobject **out)
{
    struct handle unused;
    return handle_lookup_entry(p, h, type, rights, out, &unused);
}

static long handle_lookup_entry_locked(struct process *p, handle_t h, enum kobj_type type,
                                       uint32_t rights, struct kobject **out, struct handle *copy)
{
    assert(holding(&p->lock));
    struct handle *e = entry(p, h);
    if (!e || !e->obj || (type != KOBJ_NONE && e->obj->type != type))
        return E_BADHANDLE;
    if ((e->rights & rights) != rights)
        return E_RIGHTS;
    kobj_get(e->obj);
    *out = e->obj;
    *copy = *e;
    return 0;
}

long handle_lookup_entry(struct process *p, handle_t h, enum kobj_type type, uint32_t rights,
                         struct kobject **out, struct handle *copy)
{
    spin_lock(&p->lock);
    long err = handle_lookup_entry_locked(p, h, type, rights, out, copy);
    spin_unlock(&p->lock);
    return err;
}

long handle_lookup_copy(struct process *p, handle_t h, enum kobj_type type, uint32_t rights,
                        struct kobject **out, struct handle *copy)
{
    spin_lock(&p->lock);
    long err = handle_lookup_entry_locked(p, h, type, rights, out, copy);
    if (!err && (copy->flags & HANDLE_WATCHED))
        badge_handles_changed((struct endpoint *)copy->obj, copy->badge, +1);
    spin_unlock(&p->lock);
    return err;
}

// The tail of a close, outside p->lock: closing an endpoint or ending a process takes
// other locks.
static void release_entry(const struct handle *old)
{
    __atomic_fetch_sub(&handles_in_use, 1, __ATOMIC_RELAXED);
    count_handle(old, -1);
    if (old->flags & HANDLE_OWNER)
        process_abandon((struct process *)old->obj);
    kobj_put(old->obj);
}

long handle_take(struct process *p, handle_t h, enum kobj_type type, uint32_t rights,
                 struct kobject **out, struct handle *copy)
{
    spin_lock(&p->lock);
    long err = handle_lookup_entry_locked(p, h, type, rights, out, copy);
    struct handle old = { 0 };
    if (!err) {
        if (copy->flags & HANDLE_WATCHED)  // the copy counts before the entry stops counting
            badge_handles_changed((struct endpoint *)copy->obj, copy->badge, +1);
        old = *entry(p, h);
        handle_write(p, entry(p, h), (struct handle){ 0 });
    }
    spin_unlock(&p->lock);
    if (!err)
        release_entry(&old);
    return err;
}

void handle_copy_done(const struct handle *copy)
{
    if (copy->flags & HANDLE_WATCHED)
        badge_handles_changed((struct endpoint *)copy->obj, copy->badge, -1);
    kobj_put(copy->obj);
}

long handle_remove(struct process *p, handle_t h)
{
    spin_lock(&p->lock);
    struct handle *e = entry(p, h);
    if (!e || !e->obj) {
        spin_unlock(&p->lock);
        return E_BADHANDLE;
    }
    struct handle old = *e;
    handle_write(p, e, (struct handle){ 0 });
    spin_unlock(&p->lock);
    release_entry(&old);
    return 0;
}

void handle_close_all(struct process *p)
{
    for (int h = 1; h <= NHANDLE; h++)
        handle_remove(p, h);
}

uint64_t handle_count(void)
{
    return __atomic_load_n(&handles_in_use, __ATOMIC_RELAXED);
}
