// Starting the first user process. The kernel loads exactly one program from the
// boot archive, init, and hands it the whole archive as a region: everything else
// is started from user space (user/lib/spawn.c) with the same system calls.
#include "proc/init.h"
#include "abi/errno.h"
#include "dev/timer.h"
#include "lib/console.h"
#include "lib/cpio.h"
#include "lib/elf.h"
#include "lib/string.h"
#include "mm/kalloc.h"
#include "mm/memlayout.h"
#include "mm/uvm.h"
#include "ipc/irq.h"
#include "proc/process.h"
#include "proc/region.h"
#include "proc/sched.h"
#include "proc/thread.h"

#define INIT_STACK_SIZE (64 * 1024)

static long load_segment(struct process *p, const uint8_t *image, const struct elf_segment *s)
{
    uint64_t lo = PAGE_ROUND_DOWN(s->vaddr), hi = PAGE_ROUND_UP(s->vaddr + s->memsz);
    long err = uvm_alloc(p, lo, hi - lo, PROT_READ | PROT_WRITE);
    if (!err && s->filesz)
        err = copy_out_any(p, s->vaddr, image + s->offset, s->filesz);
    if (!err)
        err = uvm_protect(p, lo, hi - lo, s->prot);
    return err;
}

static long load_elf(struct process *p, const void *image, uint64_t size, uint64_t *entry)
{
    long err = elf_check(image, size, entry);
    struct elf_segment seg;
    for (int i = 0; !err; i++) {
        int r = elf_segment(image, size, i, &seg);
        if (r <= 0)
            return r;
        err = load_segment(p, image, &seg);
    }
    return err;
}

// Builds argv (init, then one word per boot argument) and the startup block at the
// top of the stack; returns the startup block's address in *startup_va.
static long push_startup(struct process *p, const struct bootargs *args, handle_t bootfs,
                         const handle_t devices[2], uint64_t *startup_va)
{
    uint8_t *page = kalloc_zpage();
    if (!page)
        return E_NOMEM;
    // Layout, from the top down: strings, then argv[], then struct startup.
    uint64_t top = USER_STACK_TOP, strings = PAGE_SIZE;
    uint64_t argv_va[BOOTARGS_MAX_ARGS + 2];
    int argc = 0;
    char word[BOOTARGS_MAX_LEN];
    for (int i = -1; i < args->count; i++) {
        if (i < 0)
            str_copy(word, "init", sizeof word);
        else
            bootargs_word(&args->args[i], word, sizeof word);
        uint64_t n = strlen(word) + 1;
        if (n + 512 > strings)
            break;  // no room: drop the rest
        strings -= n;
        memcpy(page + strings, word, n);
        argv_va[argc++] = top - PAGE_SIZE + strings;
    }
    argv_va[argc] = 0;
    uint64_t argv_off = (strings - (argc + 1) * 8) & ~15UL;
    memcpy(page + argv_off, argv_va, (argc + 1) * 8);
    uint64_t startup_off = (argv_off - sizeof(struct startup)) & ~15UL;
    struct startup *su = (struct startup *)(page + startup_off);
    su->magic = STARTUP_MAGIC;
    su->argc = argc;
    su->argv = top - PAGE_SIZE + argv_off;
    su->handles[STARTUP_H_BOOTFS] = bootfs;
    su->handles[STARTUP_H_UART] = devices[0];
    su->handles[STARTUP_H_UART_IRQ] = devices[1];
    long err = copy_out_any(p, top - PAGE_SIZE, page, PAGE_SIZE);
    kfree_page(page);
    *startup_va = top - PAGE_SIZE + startup_off;
    return err;
}

// The UART's registers (a region) and its interrupt line, for the console server:
// init passes them on. Missing pieces stay 0 and the console server says so.
static void give_console_device(struct process *p, const struct platform *plat, handle_t devices[2])
{
    if (!plat->uart_base)
        return;
    struct region *uart = region_create_phys(PAGE_ROUND_DOWN(plat->uart_base), PAGE_SIZE);
    if (uart) {
        long h =
            handle_install(p, &uart->obj, RIGHT_READ | RIGHT_WRITE | RIGHT_DUP | RIGHT_TRANSFER);
        kobj_put(&uart->obj);
        devices[0] = h > 0 ? (handle_t)h : 0;
    }
    struct irq *irq = plat->uart_irq ? irq_get(plat->uart_irq) : NULL;
    if (irq) {
        long h = handle_install(p, &irq->obj, RIGHT_RECV | RIGHT_DUP | RIGHT_TRANSFER);
        kobj_put(&irq->obj);
        devices[1] = h > 0 ? (handle_t)h : 0;
    }
}

static long start_init(const struct platform *plat, const struct bootargs *args)
{
    const void *archive = P2V(plat->initrd_start);
    uint64_t size = plat->initrd_end - plat->initrd_start;
    struct cpio_file file;
    long err = cpio_find(archive, size, "init", &file);
    if (err)
        return err;
    struct process *p = process_create("init");
    if (!p)
        return E_NOMEM;
    uint64_t entry, startup_va;
    err = load_elf(p, file.data, file.size, &entry);
    if (!err)
        err =
            uvm_alloc(p, USER_STACK_TOP - INIT_STACK_SIZE, INIT_STACK_SIZE, PROT_READ | PROT_WRITE);
    struct region *bootfs = err ? NULL : region_create_phys(plat->initrd_start, size);
    long h =
        bootfs ? handle_install(p, &bootfs->obj, RIGHT_READ | RIGHT_DUP | RIGHT_TRANSFER) : E_NOMEM;
    if (bootfs)
        kobj_put(&bootfs->obj);
    handle_t devices[2] = { 0, 0 };
    if (!err && h >= 0)
        give_console_device(p, plat, devices);
    if (!err)
        err = h < 0 ? h : push_startup(p, args, (handle_t)h, devices, &startup_va);
    struct thread *t =
        err ? NULL : thread_create_user(p, entry, startup_va, startup_va, PRIORITY_DEFAULT, ~0UL);
    if (!err && !t)
        err = E_NOMEM;
    if (t)
        thread_put(t);
    kobj_put(&p->obj);  // the thread holds the process; nothing else does
    return err;
}

void init_start(const struct platform *plat, const struct bootargs *args)
{
    if (!plat->initrd_start) {
        printf("boot: no boot archive (-initrd): no init to start\n");
        return;
    }
    if (plat->initrd_start % PAGE_SIZE) {
        printf("boot: the boot archive at %#lx is not page-aligned: no init\n",
               (unsigned long)plat->initrd_start);
        return;
    }
    long err = start_init(plat, args);
    timer_measure_lateness();
    if (err)
        printf("boot: cannot start init from the boot archive: %s\n", abi_strerror(err));
}
