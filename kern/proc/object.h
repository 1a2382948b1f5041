// Kernel objects and handles.
//
// Every object a user program can name (a process, a thread, a memory region; IPC
// objects later) starts with a struct kobject: its type and a reference count. A
// process names objects only through its handle table: a small integer indexes an
// entry holding a reference and the rights this handle grants.
//
//   kobj_get / kobj_put      take / drop a reference; the last put queues the object on
//                            its hart, and kobj_reap() destroys it later
//   handle_install(p, o, r)  a new handle in p's table for o with rights r (takes a ref)
//   handle_lookup(p, h, type, rights, &o)
//                            the object behind h, checked for its type and rights,
//                            with a reference the caller must put
//   handle_remove(p, h)      close h
//   (an endpoint counts its handles that can receive: when the last one closes, the
//   endpoint is closed and its waiting senders get E_DEAD; see ipc/endpoint.h)
//   handle_close_all(p)      at process exit
#pragma once

#include "abi/types.h"
#include "arch/hart.h"
#include "lib/types.h"

enum kobj_type {
    KOBJ_NONE = 0,
    KOBJ_PROCESS,
    KOBJ_THREAD,
    KOBJ_REGION,
    KOBJ_ENDPOINT,
    KOBJ_NOTIFY,
    KOBJ_IRQ,
};

struct kobject {
    enum kobj_type type;
    uint32_t refs;              // atomic
    struct kobject *reap_next;  // on its hart's list of objects to destroy
};

struct handle {
    struct kobject *obj;  // NULL: a free entry
    uint32_t rights;
    uint32_t flags;  // HANDLE_*
    uint64_t badge;  // endpoints: what a receiver sees of this sender (0: none)
};

// The handle process_create() gave the process's creator. Closing it (or the creator's
// death) ends the process if it never ran a thread: nothing else ever would
// (process_abandon). Copies of it are plain handles.
#define HANDLE_OWNER   (1u << 0)
// Minted with MINT_NOTIFY_CLOSED, or a copy of such a handle: counted for the closing
// notice of its badge (ipc/badges.h). Copies keep it.
#define HANDLE_WATCHED (1u << 1)
#define HANDLE_COPIED  HANDLE_WATCHED  // the flags a copy of a handle keeps

#define NHANDLE 64  // handles per process

struct process;

void kobj_init(struct kobject *o, enum kobj_type type);  // one reference
// The slow parts of kobj_get and kobj_put (inline: the IPC fast path uses them).
__attribute__((noreturn)) void kobj_ref_panic(struct kobject *o);
void kobj_put_last(struct kobject *o, uint32_t before);

ALWAYS_INLINE void kobj_get(struct kobject *o)
{
    if (__atomic_fetch_add(&o->refs, 1, __ATOMIC_RELAXED) == 0)
        kobj_ref_panic(o);
}

// Drops a reference. Safe with any lock held: the last one never destroys the object
// here, it queues it for kobj_reap().
ALWAYS_INLINE void kobj_put(struct kobject *o)
{
    uint32_t before = __atomic_fetch_sub(&o->refs, 1, __ATOMIC_ACQ_REL);
    if (before <= 1)
        kobj_put_last(o, before);
}
// Destroys the objects queued on this hart, and those their destruction queues. Caller
// holds no lock: destructors take locks. (A list instead of recursion: a process
// holding the last handle to a process holding the last handle to ... is destroyed
// one at a time, at any depth, on a stack of fixed size.)
void kobj_reap(void);
// True when this hart has work queued for kobj_reap().
ALWAYS_INLINE bool kobj_reap_pending(void)
{
    struct hart *h = this_hart();
    return (READ_ONCE(h->reap) != NULL) | (READ_ONCE(h->teardowns) != NULL) |
           (READ_ONCE(h->notices) != 0);
}

long handle_install(struct process *p, struct kobject *o, uint32_t rights);
// With a badge, and flags (HANDLE_COPIED's at most): a minted handle, or a copy.
long handle_install_badged(struct process *p, struct kobject *o, uint32_t rights, uint64_t badge,
                           uint32_t flags);
// The owner handle of a new process, in its creator's table.
long handle_install_owner(struct process *creator, struct process *child);
long handle_lookup(struct process *p, handle_t h, enum kobj_type type, uint32_t rights,
                   struct kobject **out);
// handle_lookup, also giving the handle's rights and badge.
long handle_lookup_entry(struct process *p, handle_t h, enum kobj_type type, uint32_t rights,
                         struct kobject **out, struct handle *entry);
// handle_lookup_entry, for a handle about to be copied (handle_dup, handle_give, a
// message): one marked HANDLE_WATCHED counts once more until handle_copy_done(), so a
// close of the original meanwhile cannot end its badge's count under the copy.
long handle_lookup_copy(struct process *p, handle_t h, enum kobj_type type, uint32_t rights,
                        struct kobject **out, struct handle *entry);
void handle_copy_done(const struct handle *entry);  // and drops the reference
// handle_lookup_copy, and h closed in the same step (IPC_MOVE): no close and reuse of
// the slot by another thread can fall between the copy and the close.
long handle_take(struct process *p, handle_t h, enum kobj_type type, uint32_t rights,
                 struct kobject **out, struct handle *copy);
long handle_remove(struct process *p, handle_t h);
void handle_close_all(struct process *p);
uint64_t handle_count(void);  // handles in use in every process
uint64_t kobj_count(void);    // objects from kobj_init to their destruction
