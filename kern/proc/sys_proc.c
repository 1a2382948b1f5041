// System calls for threads, processes and handles (see kern/abi/syscalls.list).
// Each checks every argument and returns a negative E_* rather than trusting it.
#include "boot/harts.h"
#include "dev/power.h"
#include "dev/timer.h"
#include "ipc/badges.h"
#include "lib/console.h"
#include "mm/failalloc.h"
#include "mm/kalloc.h"
#include "proc/process.h"
#include "proc/sched.h"
#include "proc/syscall.h"
#include "ipc/rpc.h"
#include "proc/thread.h"

// The process a handle names, with a reference the caller puts (process_put).
static long get_process(handle_t h, uint32_t rights, struct process **out)
{
    struct process *self = process_current();
    if (h == H_SELF) {
        kobj_get(&self->obj);
        *out = self;
        return 0;
    }
    struct kobject *o;
    long err = handle_lookup(self, h, KOBJ_PROCESS, rights, &o);
    if (!err)
        *out = (struct process *)o;
    return err;
}

static long get_thread(handle_t h, uint32_t rights, struct thread **out)
{
    if (h == H_SELF_THREAD) {
        struct thread *t = thread_current();
        kobj_get(&t->obj);
        *out = t;
        return 0;
    }
    struct kobject *o;
    long err = handle_lookup(process_current(), h, KOBJ_THREAD, rights, &o);
    if (!err)
        *out = (struct thread *)o;
    return err;
}

// ---- threads ------------------------------------------------------------------------

long sys_thread_exit(long value)
{
    struct thread *t = thread_current();
    if (t->rpc.depth)
        rpc_unwind(t, E_FAULT);  // a server's entry cannot end its caller's thread
    thread_exit(value);
}

long sys_yield(void)
{
    sched_yield();
    return 0;
}

long sys_sleep(uint64_t ns)
{
    sched_sleep_ns(ns);
    return thread_killed(thread_current()) ? E_DEAD : 0;
}

long sys_thread_create(handle_t process, uint64_t entry, uint64_t stack, uint64_t arg)
{
    if (entry < USER_MIN || entry >= USER_MAX || stack > USER_MAX || stack % 16)
        return E_RANGE;
    struct process *p;
    long err = get_process(process, RIGHT_THREAD, &p);
    if (err)
        return err;
    struct thread *t = thread_create_user(p, entry, stack, arg, PRIORITY_DEFAULT, ~0UL);
    kobj_put(&p->obj);
    if (!t)
        return E_LIMIT;
    long h = handle_install(process_current(), &t->obj,
                            RIGHT_WAIT | RIGHT_SCHED | RIGHT_DUP | RIGHT_TRANSFER);
    thread_put(t);  // the handle holds it now (or nothing does: it still runs)
    return h;
}

long sys_thread_join(handle_t thread, uaddr_t value)
{
    struct thread *t;
    long err = get_thread(thread, RIGHT_WAIT, &t);
    if (err)
        return err;
    long v = 0;
    err = thread_join(t, &v);
    thread_put(t);
    if (!err && value)
        err = copy_out(process_current(), value, &v, sizeof v);
    return err;
}

long sys_thread_set_priority(handle_t thread, int priority)
{
    if (priority < PRIORITY_MIN || priority > PRIORITY_MAX)
        return E_INVAL;
    struct thread *t;
    long err = get_thread(thread, RIGHT_SCHED, &t);
    if (err)
        return err;
    thread_set_priority(t, priority);
    thread_put(t);
    return 0;
}

long sys_thread_set_affinity(handle_t thread, uint64_t mask)
{
    uint64_t online = 0;
    for (int i = 0; i < nharts; i++)
        if (harts[i].online)
            online |= 1UL << i;
    if ((mask & online) == 0)
        return E_INVAL;
    struct thread *t;
    long err = get_thread(thread, RIGHT_SCHED, &t);
    if (err)
        return err;
    thread_set_affinity(t, mask & online);
    thread_put(t);
    return 0;
}

long sys_thread_self(void)
{
    return thread_current()->id;
}

long sys_hart_self(void)
{
    push_off();
    long index = this_hart()->index;
    pop_off();
    return index;
}

// ---- processes ------------------------------------------------------------------------

long sys_process_exit(int status)
{
    struct thread *t = thread_current();
    process_exit_all(process_current(), status);
    if (t->rpc.depth)
        rpc_unwind(t, E_DEAD);  // a server's entry ended its server: the call goes with it
    thread_exit(status);
}

long sys_process_create(uaddr_t name, uint64_t name_len)
{
    char buf[16];
    if (name_len == 0 || name_len >= sizeof buf)
        return name_len == 0 ? E_INVAL : E_TOOBIG;
    long err = copy_in(process_current(), buf, name, name_len);
    if (err)
        return err;
    buf[name_len] = '\0';
    struct process *p = process_create(buf);
    if (!p)
        return E_LIMIT;
    long h = handle_install_owner(process_current(), p);
    kobj_put(&p->obj);  // the handle holds it now; closing it ends the child if unstarted
    return h;
}

long sys_process_wait(handle_t process, uaddr_t status)
{
    struct process *p;
    long err = get_process(process, RIGHT_WAIT, &p);
    if (err)
        return err;
    if (p == process_current()) {
        kobj_put(&p->obj);
        return E_DEADLK;
    }
    int s = 0;
    err = process_wait(p, &s);
    kobj_put(&p->obj);
    if (!err && status)
        err = copy_out(process_current(), status, &s, sizeof s);
    return err;
}

long sys_process_kill(handle_t process)
{
    struct process *p;
    long err = get_process(process, RIGHT_KILL, &p);
    if (err)
        return err;
    process_exit_all(p, EXIT_KILLED);
    kobj_put(&p->obj);
    return 0;
}

long sys_poweroff(int status)
{
    if (process_current()->pid != 1)
        return E_PERM;  // only init
    failalloc_report();
    printf("init: power off (status %d)\n", status);
    power_off(status == 0 ? POWER_OK : POWER_TESTS_FAILED);
}

// ---- handles ------------------------------------------------------------------------

long sys_handle_close(handle_t handle)
{
    return handle_remove(process_current(), handle);
}

// A copy of the handle in process to, with rights cut down to the handle's own and
// the same badge (a badge never changes: it is how a server knows its client).
static long copy_handle(struct process *to, handle_t handle, uint32_t rights, uint32_t need)
{
    struct process *self = process_current();
    if (rights & ~RIGHT_ALL)
        return E_INVAL;
    struct kobject *o;
    struct handle entry;  // a copy: rights, badge and HANDLE_COPIED go with the handle
    long err = handle_lookup_copy(self, handle, KOBJ_NONE, need, &o, &entry);
    if (err)
        return err;
    long h = handle_install_badged(to, o, rights & entry.rights, entry.badge, entry.flags);
    handle_copy_done(&entry);
    return h;
}

long sys_handle_dup(handle_t handle, uint32_t rights)
{
    return copy_handle(process_current(), handle, rights, RIGHT_DUP);
}

long sys_handle_give(handle_t process, handle_t handle, uint32_t rights)
{
    struct process *p;
    long err = get_process(process, RIGHT_MEM, &p);
    if (err)
        return err;
    long h = copy_handle(p, handle, rights, RIGHT_TRANSFER);
    kobj_put(&p->obj);
    return h;
}

// ---- the console before there is a console server ----------------------------------

long sys_debug_write(uaddr_t buf, uint64_t len)
{
    if (len > DEBUG_WRITE_MAX)
        return E_TOOBIG;
    char *page = kalloc_page();
    if (!page)
        return E_NOMEM;
    long err = copy_in(process_current(), page, buf, len);
    if (!err)
        printf("%.*s", (int)len, page);
    kfree_page(page);
    return err ? err : (long)len;
}

long sys_stats(uaddr_t out)
{
    struct sys_stats s = {
        .free_pages = kalloc_free_count(),
        .total_pages = kalloc_total_count(),
        .handles = handle_count(),
        .threads = (uint64_t)thread_count(),
        .processes = (uint64_t)process_count(),
        .nharts = (uint64_t)harts_online(),
        .objects = kobj_count(),
        .badges = badges_in_use(),
        .irq_latency_max_ns = timer_lateness_max_ns(),
    };
    for (int i = 0; i < nharts; i++) {
        s.context_switches += READ_ONCE(harts[i].context_switches);
        s.ticks += READ_ONCE(harts[i].ticks);
    }
    return copy_out(process_current(), out, &s, sizeof s);
}

long sys_hart_stats(int index, uaddr_t out)
{
    if (index < 0 || index >= nharts)
        return E_INVAL;
    struct hart *h = &harts[index];
    struct hart_stats s = {
        .online = READ_ONCE(h->online),
        .hartid = h->hartid,
        .runqueue_len = (uint64_t)sched_queue_length(h),
        .context_switches = READ_ONCE(h->context_switches),
        .ipis = READ_ONCE(h->ipis),
        .ticks = READ_ONCE(h->ticks),
        .preemptions = READ_ONCE(h->preemptions),
        .ipc_fast = READ_ONCE(h->ipc_fast),
        .ipc_slow = READ_ONCE(h->ipc_slow),
        .steals = READ_ONCE(h->steals),
        .pushed = READ_ONCE(h->pushed),
        .migrations = READ_ONCE(h->migrations),
        .rq_spins = READ_ONCE(h->rq_spins),
        .rq_handoffs = READ_ONCE(h->rq_handoffs),
        .ipis_sent = READ_ONCE(h->ipis_sent),
        .ipis_coalesced = READ_ONCE(h->ipis_coalesced),
        .resched_ipis = READ_ONCE(h->resched_ipis),
        .wakeup_preemptions = READ_ONCE(h->wakeup_preemptions),
        .rpc_calls = READ_ONCE(h->rpc_calls),
        .rpc_slow = READ_ONCE(h->rpc_slow),
    };
    // A racy look at another hart: the thread may change, but threads are never
    // freed while they run, so the pointer stays valid while we read it.
    push_off();
    struct thread *t = READ_ONCE(h->current);
    s.current_pid = t && t->process ? (uint64_t)t->process->pid : 0;
    pop_off();
    return copy_out(process_current(), out, &s, sizeof s);
}
