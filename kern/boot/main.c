// The boot hart's path from entry.S to a running system:
//   device tree -> console -> harts[] -> page allocator -> kernel page table ->
//   traps and timer -> scheduler -> the other harts -> kernel self-tests, or idle.
#include "arch/hart.h"
#include "boot/bootargs.h"
#include "boot/fdt.h"
#include "boot/harts.h"
#include "boot/ktest.h"
#include "boot/platform.h"
#include "dev/ipi.h"
#include "dev/plic.h"
#include "dev/power.h"
#include "dev/timer.h"
#include "dev/uart.h"
#include "lib/assert.h"
#include "lib/console.h"
#include "lib/string.h"
#include "lib/trace.h"
#include "mm/failalloc.h"
#include "mm/kalloc.h"
#include "mm/memlayout.h"
#include "mm/vm.h"
#include "ipc/badges.h"
#include "ipc/endpoint.h"
#include "ipc/fastpath.h"
#include "proc/init.h"
#include "proc/process.h"
#include "proc/sched.h"
#include "sbi/sbi.h"

struct platform platform;
struct bootargs bootargs;

#define FDT_MAX_SIZE (1u << 20)  // how much may be read at the tree's address

void boot_main(uint64_t hartid, uint64_t dtb_pa);

static uint64_t read_device_tree(uint64_t dtb_pa)
{
    struct fdt fdt;
    char why[96];
    if (dtb_pa == 0 || (dtb_pa & 7))
        panic("dt: no device tree from the firmware (a1 = %#lx)", (unsigned long)dtb_pa);
    int err = fdt_open(&fdt, P2V(dtb_pa), FDT_MAX_SIZE);
    if (err)
        panic("dt: the device tree at %#lx is malformed: %s", (unsigned long)dtb_pa,
              fdt_strerror(err));
    if (platform_parse(&platform, &fdt, why, sizeof why) != 0)
        panic("dt: %s", why);
    return fdt.size;
}

static void print_banner(void)
{
    long v = sbi_get_spec_version();
    printf("\nShuttle: SBI %ld.%ld (%s), %d hart%s, timebase %lu Hz\n", (v >> 24) & 0x7f,
           v & 0xffffff, sbi_get_impl_id() == SBI_IMPL_OPENSBI ? "OpenSBI" : "other firmware",
           platform.nharts, platform.nharts == 1 ? "" : "s", (unsigned long)platform.timebase_hz);
    if (platform.harts_ignored)
        printf("boot: %d more harts in the device tree stay stopped (at most %d)\n",
               platform.harts_ignored, MAX_HARTS);
    if (platform.bootargs_truncated || bootargs.dropped)
        printf("boot: boot arguments too long: %d words ignored\n", bootargs.dropped);
    printf("timer: %s\n", this_hart()->sstc ? "Sstc (stimecmp)" : "SBI set_timer");
    for (int i = 0; i < platform.nmemory; i++)
        printf("memory: %lu MiB at %#lx\n", (unsigned long)(platform.memory[i].size >> 20),
               (unsigned long)platform.memory[i].base);
}

// Test hooks: panic=boot panics on purpose, panic=trap faults in the kernel.
static void forced_panic(const char *how)
{
    if (strcmp(how, "boot") == 0)
        panic("boot: panic requested by boot argument panic=boot");
    if (strcmp(how, "trap") == 0) {
        printf("boot: reading address 0 as asked by panic=trap\n");
        (void)*(volatile uint64_t *)0;
    }
    printf("boot: unknown panic=%s (have: boot, trap)\n", how);
}

void boot_main(uint64_t hartid, uint64_t dtb_pa)
{
    early_hart.hartid = hartid;  // so an early panic names the right hart
    sbi_init();
    uint64_t dtb_size = read_device_tree(dtb_pa);
    bootargs_parse(&bootargs, platform.bootargs);
    if (platform.uart_base)
        uart_init(platform.uart_base, platform.uart_reg_shift);
    power_init(platform.test_base);
    timer_init(platform.timebase_hz);
    uint64_t fail_hartid;
    if (bootargs_number(&bootargs, "hsm_fail", &fail_hartid))
        harts_set_hsm_fail(fail_hartid);
    const char *timer = bootargs_get(&bootargs, "timer");
    harts_init(&platform, hartid, !timer || strcmp(timer, "sbi") != 0);
    print_banner();

    kalloc_init(&platform, dtb_pa, dtb_size);
    vm_init(&platform);
    plic_init(&platform);
    hart_init_local();
    printf("memory: %lu pages free\n", (unsigned long)kalloc_free_count());

    thread_init();
    process_init();
    endpoint_init();
    badges_init();
    failalloc_init();
    struct sched_config sched = { .policy = bootargs_get(&bootargs, "sched"),
                                  .quantum_ticks = 1,
                                  .check = bootargs_flag(&bootargs, "schedcheck") };
    if (!sched.policy)
        sched.policy = "global";
    bootargs_number(&bootargs, "quantum", &sched.quantum_ticks);
    uint64_t steal = 1;
    bootargs_number(&bootargs, "steal", &steal);
    sched.steal = steal != 0;
    const char *wakeup = bootargs_get(&bootargs, "wakeup");
    if (wakeup && strcmp(wakeup, "ipi") != 0 && strcmp(wakeup, "tick") != 0) {
        printf("boot: no wakeup=%s; it is tick or ipi\n", wakeup);
        power_off(POWER_PANIC);
    }
    sched.wakeup = wakeup && strcmp(wakeup, "ipi") == 0 ? WAKEUP_IPI : WAKEUP_TICK;
    if (!sched_init(&sched)) {
        printf("boot: no scheduling policy sched=%s; the policies are: %s\n", sched.policy,
               sched_policy_names());
        power_off(POWER_PANIC);
    }
    printf("sched: %s, quantum %lu ticks, wakeup %s\n", sched_policy_name(),
           (unsigned long)sched.quantum_ticks, sched_wakeup_name());
    ipi_init(&platform, bootargs_get(&bootargs, "ipi"));
    trace_init(bootargs_flag(&bootargs, "trace"), platform.timebase_hz);

    int online = harts_start_others();
    printf("%d harts online\n", online);
    intr_on();

    uint64_t ipcfast = 1;
    bootargs_number(&bootargs, "ipcfast", &ipcfast);
    // The fast path keeps no trace hooks, so that tracing costs it nothing when off; while
    // tracing, IPC takes the general path, which records every step (lib/trace.h).
    bool tracing = this_hart()->tracing;
    ipc_fastpath_enable(ipcfast != 0 && !tracing);
    if (!ipcfast || tracing)
        printf("ipc: the fast path is off (%s)\n", tracing ? "tracing" : "ipcfast=0");

    const char *how = bootargs_get(&bootargs, "panic");
    if (how)
        forced_panic(how);
    if (bootargs_get(&bootargs, "ktest"))
        ktest_start(bootargs_get(&bootargs, "ktest"), bootargs_get(&bootargs, "nonce"));
    else if (bootargs_flag(&bootargs, "poweroff")) {
        printf("boot: powering off as asked\n");
        power_off(POWER_OK);
    } else {
        init_start(&platform, &bootargs);
    }
    sched_idle_loop();
}
