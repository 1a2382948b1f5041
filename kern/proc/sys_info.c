// System calls that describe processes (see kern/abi/syscalls.list): a process's pid,
// and the list of every process that `ps` prints. Each checks every argument.
//
// The pid is the kernel's (proc/process.c numbers processes 1, 2, 3, ... and never
// reuses a number), and is the only one: pm, ps, kill, harts and fault reports all
// speak of it.
#include "abi/errno.h"
#include "arch/hart.h"
#include "lib/string.h"
#include "mm/kalloc.h"
#include "mm/memlayout.h"
#include "mm/uvm.h"
#include "proc/process.h"
#include "proc/syscall.h"

_Static_assert(NPROC * sizeof(struct proc_info) <= PAGE_SIZE, "proc_list fills one page");

long sys_process_pid(handle_t process)
{
    struct process *self = process_current();
    if (process == H_SELF)
        return self->pid;
    struct kobject *o;
    long err = handle_lookup(self, process, KOBJ_PROCESS, 0, &o);
    if (err)
        return err;
    long pid = ((struct process *)o)->pid;
    kobj_put(o);
    return pid;
}

// The hart index a thread of p runs on now, or -1. A racy look at other harts, as
// hart_stats takes: threads live in a fixed table, so a pointer read stays a thread.
static int32_t running_on(struct process *p)
{
    for (int i = 0; i < nharts; i++) {
        struct thread *t = READ_ONCE(harts[i].current);
        if (t && READ_ONCE(t->process) == p)
            return i;
    }
    return -1;
}

// What ps shows of p; false for a free slot. Takes p->lock, then p->vm_lock (for the
// page count), in the lock order (lib/spinlock.h).
static bool describe(struct process *p, struct proc_info *info)
{
    spin_lock(&p->lock);
    if (p->state == P_UNUSED) {
        spin_unlock(&p->lock);
        return false;
    }
    memset(info, 0, sizeof *info);
    info->pid = p->pid;
    str_copy(info->name, p->name, sizeof info->name);
    info->threads = (uint32_t)p->live_threads;
    info->hart = -1;
    if (p->state == P_ZOMBIE) {
        info->state = PROC_ZOMBIE;
        info->exit_status = p->exit_status;
    } else if (p->live_threads == 0) {
        info->state = PROC_NEW;
    } else {
        info->hart = running_on(p);
        info->state = info->hart >= 0 ? PROC_RUNNING : PROC_WAITING;
    }
    info->pages = uvm_count_pages(p);
    spin_unlock(&p->lock);
    return true;
}

long sys_proc_list(uaddr_t out, uint64_t max, uint32_t flags)
{
    if (flags != 0)
        return E_INVAL;
    if (max == 0)
        return 0;
    struct proc_info *infos = kalloc_page();
    if (!infos)
        return E_NOMEM;
    uint64_t n = 0;
    for (int i = 0; i < NPROC && n < max; i++)
        if (describe(process_slot(i), &infos[n]))
            n++;
    long err = copy_out(process_current(), out, infos, n * sizeof *infos);
    kfree_page(infos);
    return err ? err : (long)n;
}
