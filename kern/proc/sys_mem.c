// System calls for memory: pages in one's own or a child's address space, and regions
// (see kern/abi/syscalls.list and mm/uvm.h).
#include "mm/kalloc.h"
#include "mm/memlayout.h"
#include "proc/process.h"
#include "proc/region.h"
#include "proc/syscall.h"
#include "proc/thread.h"

// The process a handle names, checked for RIGHT_MEM, with a reference to put.
static long mem_target(handle_t h, struct process **out)
{
    struct process *self = process_current();
    if (h == H_SELF) {
        kobj_get(&self->obj);
        *out = self;
        return 0;
    }
    struct kobject *o;
    long err = handle_lookup(self, h, KOBJ_PROCESS, RIGHT_MEM, &o);
    if (!err)
        *out = (struct process *)o;
    return err;
}

// Runs op on the process behind h after the common checks; 0 or an error.
static long with_target(handle_t h, uint64_t va, uint64_t len,
                        long (*op)(struct process *, uint64_t, uint64_t, uint32_t), uint32_t prot)
{
    long err = uvm_check_range(va, len);
    if (err)
        return err;
    struct process *p;
    err = mem_target(h, &p);
    if (err)
        return err;
    err = op(p, va, len, prot);
    kobj_put(&p->obj);
    return err;
}

static long unmap_op(struct process *p, uint64_t va, uint64_t len, uint32_t unused)
{
    return uvm_unmap(p, va, len);
}

long sys_mem_alloc(handle_t process, uint64_t va, uint64_t len, uint32_t prot)
{
    long err = uvm_check_prot(prot);
    return err ? err : with_target(process, va, len, uvm_alloc, prot);
}

long sys_mem_unmap(handle_t process, uint64_t va, uint64_t len)
{
    return with_target(process, va, len, unmap_op, 0);
}

long sys_mem_protect(handle_t process, uint64_t va, uint64_t len, uint32_t prot)
{
    long err = uvm_check_prot(prot);
    return err ? err : with_target(process, va, len, uvm_protect, prot);
}

// Copies from the caller's memory into the target's, a page at a time through a
// kernel buffer, so neither address space is touched without a check.
long sys_mem_write(handle_t process, uint64_t va, uaddr_t src, uint64_t len)
{
    if (len == 0)
        return 0;
    if (va > USER_MAX || len > USER_MAX - va)
        return E_RANGE;
    struct process *p;
    long err = mem_target(process, &p);
    if (err)
        return err;
    uint8_t *buf = kalloc_page();
    if (!buf) {
        kobj_put(&p->obj);
        return E_NOMEM;
    }
    struct process *self = process_current();
    for (uint64_t done = 0; done < len && !err;) {
        uint64_t n = MIN(len - done, PAGE_SIZE);
        err = copy_in(self, buf, src + done, n);
        if (!err)
            err = copy_out_any(p, va + done, buf, n);
        done += n;
    }
    kfree_page(buf);
    kobj_put(&p->obj);
    return err;
}

// ---- regions --------------------------------------------------------------------------

long sys_region_create(uint64_t len)
{
    if (len == 0 || len % PAGE_SIZE)
        return E_RANGE;
    if (len > REGION_MAX_PAGES * PAGE_SIZE)
        return E_TOOBIG;
    struct region *r = region_create(len);
    if (!r)
        return E_NOMEM;
    long h = handle_install(
        process_current(), &r->obj,
        RIGHT_ALL & ~(RIGHT_MEM | RIGHT_THREAD | RIGHT_WAIT | RIGHT_KILL | RIGHT_SCHED));
    kobj_put(&r->obj);
    return h;
}

static uint64_t region_pa(const void *ctx, uint64_t i)
{
    const struct {
        struct region *r;
        uint64_t first;
    } *c = ctx;
    return region_page(c->r, c->first + i);
}

long sys_region_map(handle_t region, handle_t process, uint64_t va, uint64_t offset, uint64_t len,
                    uint32_t prot)
{
    long err = uvm_check_prot(prot);
    if (!err)
        err = uvm_check_range(va, len);
    if (err)
        return err;
    uint32_t need = ((prot & PROT_READ) ? RIGHT_READ : 0) |
                    ((prot & PROT_WRITE) ? RIGHT_WRITE : 0) | ((prot & PROT_EXEC) ? RIGHT_EXEC : 0);
    struct kobject *o;
    struct handle entry;  // its rights: without RIGHT_WRITE the mapping stays read-only
    err = handle_lookup_entry(process_current(), region, KOBJ_REGION, need, &o, &entry);
    if (err)
        return err;
    struct region *r = (struct region *)o;
    uint64_t size = r->npages * PAGE_SIZE;
    if (offset % PAGE_SIZE || offset > size || len > size - offset) {
        kobj_put(o);
        return E_RANGE;
    }
    struct process *p;
    err = mem_target(process, &p);
    if (!err) {
        struct {
            struct region *r;
            uint64_t first;
        } ctx = { r, offset / PAGE_SIZE };
        err = uvm_map_phys(p, va, len / PAGE_SIZE, region_pa, &ctx, prot,
                           !(entry.rights & RIGHT_WRITE));
        kobj_put(&p->obj);
    }
    kobj_put(o);
    return err;
}

long sys_region_size(handle_t region)
{
    struct kobject *o;
    long err = handle_lookup(process_current(), region, KOBJ_REGION, 0, &o);
    if (err)
        return err;
    long size = (long)(((struct region *)o)->npages * PAGE_SIZE);
    kobj_put(o);
    return size;
}
