// Hart bring-up (see harts.h).
//
// The boot hart starts each other hart with SBI HSM. The new hart enters
// _start_secondary (entry.S) with its struct hart in a1, turns paging on, and runs
// secondary_main(), which sets up its own traps and timer and then says it is online.
#include "boot/harts.h"
#include "arch/asm.h"
#include "dev/ipi.h"
#include "dev/plic.h"
#include "dev/timer.h"
#include "lib/assert.h"
#include "lib/console.h"
#include "mm/vm.h"
#include "sbi/sbi.h"
#include "arch/trap.h"
#include "proc/sched.h"

#include <stddef.h>

_Static_assert(offsetof(struct hart, stack_top) == HART_STACK_TOP, "entry.S reads stack_top");

// For a started hart the firmware sent to _start (see entry.S): its hart id and its
// struct hart, read by entry.S. Filled before any hart is started.
struct late_hart {
    uint64_t hartid;
    struct hart *hart;
} late_harts[MAX_HARTS];
_Static_assert(sizeof(struct late_hart) == 16, "entry.S walks late_harts in 16-byte steps");

struct hart harts[MAX_HARTS];
int nharts;
static struct hart *boot_hart;      // the hart that runs boot_main()
static uint64_t refused_entry = 1;  // where the firmware will not start a hart

// The boot hart's state until harts_init() knows which harts[] entry is its own.
struct hart early_hart = { .index = 0, .plic_context = -1 };

static uint8_t hart_stacks[MAX_HARTS][BOOT_STACK_SIZE] __attribute__((aligned(16)));

extern uint64_t secondary_entry_pa;  // entry.S: _start_secondary, physical
extern char boot_stack_top[];

#define ONLINE_TIMEOUT_MS 2000  // generous: TCG may run a hart late

void harts_init(const struct platform *p, uint64_t boot_hartid, bool use_sstc)
{
    struct hart *boot = NULL;
    nharts = p->nharts;
    if (p->nreserved)
        refused_entry = p->reserved[0].base;  // OpenSBI's own region comes first
    for (int i = 0; i < nharts; i++) {
        struct hart *h = &harts[i];
        h->index = i;
        h->mask = 1UL << i;
        h->hartid = p->harts[i].hartid;
        h->sstc = use_sstc && p->harts[i].sstc;
        h->plic_context = p->harts[i].plic_context;
        h->stack_top = (uint64_t)hart_stacks[i] + BOOT_STACK_SIZE;
        late_harts[i] = (struct late_hart){ h->hartid, h };
        if (h->hartid == boot_hartid)
            boot = h;
    }
    if (!boot && p->harts_ignored)
        panic("boot: OpenSBI booted hart %lu, which is past the %d harts Shuttle runs: "
              "boot with at most %d harts (CPUS=%d)",
              (unsigned long)boot_hartid, MAX_HARTS, MAX_HARTS, MAX_HARTS);
    if (!boot)
        panic("boot: the boot hart %lu is not among the device tree's cpus",
              (unsigned long)boot_hartid);
    boot_hart = boot;
    // The boot hart keeps running on the stack entry.S gave it.
    boot->stack_top = (uint64_t)boot_stack_top;
    assert(this_hart()->noff == 0);
    // LAB 1 exercise 2: from now on the boot hart's state is boot: point tp at it
#if SOL >= 1
    w_tp((uint64_t)boot);
#endif
    if (this_hart() != boot)
        printf("lab1: exercise 2 is not done: the boot hart's tp does not point at its "
               "struct hart (kern/boot/harts.c: harts_init)\n");
}

// Before tp is right nothing can take a lock, so this prints through SBI.
static void early_say(const char *s)
{
    while (*s)
        sbi_console_putchar(*s++);
}

void hart_init_local(void)
{
    ipi_init_hart();
    vm_init_hart();
    trap_init_hart();
    timer_init_hart();
    plic_init_hart();
    w_sie(r_sie() | SIE_SSIE);
}

static void say_online(struct hart *h)
{
    printf("hart %lu online\n", (unsigned long)h->hartid);
    // Release: everything this hart set up is seen before its online flag.
    __atomic_store_n(&h->online, true, __ATOMIC_RELEASE);
    if (h != boot_hart)
        ipi_send(boot_hart, IPI_WAKE);  // it waits in wfi for us
}

void secondary_main(struct hart *h);
void secondary_main(struct hart *h)
{
    // LAB 1 exercise 2: this hart's state is h: point tp at it before anything else
#if SOL >= 1
    w_tp((uint64_t)h);
#endif
    if (this_hart() != h) {
        early_say("lab1: exercise 2 is not done: a secondary hart's tp does not point at its "
                  "struct hart (kern/boot/harts.c: secondary_main); stopping it\n");
        sbi_hart_stop();
    }
    hart_init_local();
    say_online(h);
    sched_idle_loop();
}

int harts_online(void)
{
    int n = 0;
    for (int i = 0; i < nharts; i++)
        if (__atomic_load_n(&harts[i].online, __ATOMIC_ACQUIRE))
            n++;
    return n;
}

// The boot argument hsm_fail=HARTID (a test hook for the graders) names a hart whose
// start should fail.
static uint64_t hsm_fail_hartid = UINT64_MAX;

void harts_set_hsm_fail(uint64_t hartid)
{
    hsm_fail_hartid = hartid;
}

// Where SBI HSM should start h: _start_secondary, physical. For the hart hsm_fail names,
// an address the firmware refuses (its own memory), so the start fails as a broken
// hart's would.
uint64_t hart_entry_address(struct hart *h)
{
    return h->hartid == hsm_fail_hartid ? refused_entry : secondary_entry_pa;
}

// Starts h; false (and a line saying why) when the firmware refuses.
static bool start_hart(struct hart *h)
{
    // LAB 1 exercise 1: start h with sbi_hart_start(); on an error, say which hart and why, and
    // return false
#if SOL >= 1
    struct sbiret r = sbi_hart_start(h->hartid, hart_entry_address(h), (uint64_t)h);
    if (r.error) {
        printf("hart %lu: could not start: SBI hart_start: %s\n", (unsigned long)h->hartid,
               sbi_strerror(r.error));
        return false;
    }
    return true;
#else
    printf("lab1: exercise 1 is not done: hart %lu stays stopped (kern/boot/harts.c: "
           "start_hart)\n",
           (unsigned long)h->hartid);
    return false;
#endif
}

int harts_start_others(void)
{
    struct hart *me = this_hart();
    say_online(me);
    if (nharts > 1 && !sbi_has_hsm()) {
        printf("boot: the firmware has no SBI HSM extension: only hart %lu runs\n",
               (unsigned long)me->hartid);
        return 1;
    }
    int expected = 1;
    for (int i = 0; i < nharts; i++) {
        if (&harts[i] != me && start_hart(&harts[i]))
            expected++;
    }
    // LAB 1 exercise 3: wait until the harts started are online (harts_online()), at most
    // ONLINE_TIMEOUT_MS; sleep in wfi with interrupts on, do not spin
#if SOL >= 1
    // Wait with wfi, not a spin: under -icount QEMU runs the harts in turn, and a
    // spinning hart can keep the others from running at all. A new hart's IPI or
    // the next tick ends each wait.
    uint64_t deadline = timer_now() + timer_ms_to_ticks(ONLINE_TIMEOUT_MS);
    intr_on();
    while (harts_online() < expected && timer_now() < deadline)
        wfi();
    intr_off();
#else
    printf("lab1: exercise 3 is not done: not waiting for the other harts "
           "(kern/boot/harts.c: harts_start_others)\n");
    (void)expected;
    return nharts;
#endif
    for (int i = 0; i < nharts; i++)
        if (!__atomic_load_n(&harts[i].online, __ATOMIC_ACQUIRE))
            printf("hart %lu: did not come online\n", (unsigned long)harts[i].hartid);
    return harts_online();
}
