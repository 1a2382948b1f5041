// printf() and panic() (see console.h and assert.h), and the console log: the last
// CONSOLE_LOG_SIZE bytes the kernel printed, kept in memory for a debugger.
#include "lib/console.h"
#include "arch/hart.h"
#include "arch/trap.h"
#include "dev/power.h"
#include "dev/uart.h"
#include "lib/assert.h"
#include "lib/fmt.h"
#include "lib/ksyms.h"
#include "lib/spinlock.h"
#include "proc/process.h"
#include "proc/thread.h"
#include "sbi/sbi.h"

static struct spinlock console_lock = SPINLOCK_INIT("console", RANK_CONSOLE);
volatile int panicking;

// console_lock must be held when writing these (a panic writes without it):
char console_log[CONSOLE_LOG_SIZE];  // byte i of the output is at i % CONSOLE_LOG_SIZE
uint64_t console_log_bytes;          // bytes written since boot

static void uart_out(char c)
{
    if (uart_ready())
        uart_putc(c);
    else
        sbi_console_putchar(c);
}

static void console_putc(char c, void *unused)
{
    console_log[console_log_bytes % CONSOLE_LOG_SIZE] = c;
    console_log_bytes++;
    if (c == '\n')
        uart_out('\r');  // a terminal needs both
    uart_out(c);
}

static int console_vprintf(const char *fmt, va_list ap)
{
    return fmt_vformat(console_putc, NULL, fmt, ap);
}

// For panic, which may not take the lock.
static void console_unlocked(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    console_vprintf(fmt, ap);
    va_end(ap);
}

int printf(const char *fmt, ...)
{
    if (panicking && panicking != this_hart()->index + 1)
        hart_halt();
    va_list ap;
    va_start(ap, fmt);
    spin_lock(&console_lock);
    int n = console_vprintf(fmt, ap);
    spin_unlock(&console_lock);
    va_end(ap);
    return n;
}

void hart_halt(void)
{
    intr_off();
    for (;;)
        wfi();
}

static void stop_other_harts(void)
{
    struct hart *me = this_hart();
    for (int i = 0; i < nharts; i++)
        if (&harts[i] != me && harts[i].online)
            sbi_send_ipi(1, harts[i].hartid);
}

// "0x... name+0x1c": a code address and the function holding it. A return address is
// looked up one byte back: a call to a noreturn function may be its caller's last
// instruction, and the address after it then belongs to the next function.
static void print_code_address(uint64_t addr, bool is_return)
{
    uint64_t offset;
    const char *name = ksyms_lookup(addr - is_return, &offset);
    console_unlocked("%#lx", (unsigned long)addr);
    if (name)
        console_unlocked(" %s+%#lx", name, (unsigned long)(offset + is_return));
}

// The return addresses on this stack, through the frame pointers (the kernel is built
// with them): each frame keeps ra at fp - 8 and the caller's fp at fp - 16. A kernel
// trap shows as kernelvec; the frame kernelvec.S saved holds the interrupted pc (sepc,
// see arch/trap.h), which is printed next, since the interrupted function's own return
// address is not on the stack yet.
void backtrace_print(void)
{
    uint64_t fp;
    asm volatile("mv %0, s0" : "=r"(fp));
    uint64_t lo = fp & ~4095UL, hi = lo + 4096;  // stacks are one page, or inside one
    console_unlocked("backtrace:\n");
    for (int depth = 0; depth < 24 && fp > lo + 16 && fp <= hi && fp % 8 == 0; depth++) {
        uint64_t ra = ((uint64_t *)fp)[-1];
        console_unlocked("  ");
        print_code_address(ra, true);
        console_unlocked("\n");
        if (ra == (uint64_t)kernelvec_return && fp + sizeof(struct kernel_frame) <= hi) {
            // fp is kernel_trap's frame pointer: kernelvec's sp, where its frame starts.
            console_unlocked("  ");
            print_code_address(((struct kernel_frame *)fp)->x[KERNEL_FRAME_SEPC], false);
            console_unlocked(" (the trapped instruction)\n");
        }
        fp = ((uint64_t *)fp)[-2];
    }
}

// What h runs: "thread 3 'sh' of process 7 (sh)". A racy look at another hart: its
// thread may change meanwhile, but threads live in a fixed table, so the pointer read
// stays a thread.
static void print_running(struct hart *h)
{
    struct thread *t = READ_ONCE(h->current);
    if (!t) {
        console_unlocked("no thread (boot, or the idle loop)");
        return;
    }
    console_unlocked("thread %d '%s'", t->id, t->name);
    if (t->process)
        console_unlocked(" of process %d (%s)", t->process->pid, t->process->name);
    else
        console_unlocked(" (a kernel thread)");
}

struct trap_info {
    uint64_t scause, sepc, stval;
};

__attribute__((noreturn)) static void panic_report(const struct trap_info *trap, const char *fmt,
                                                   va_list ap)
{
    intr_off();
    struct hart *me = this_hart();
    int expected = 0;
    if (!__atomic_compare_exchange_n(&panicking, &expected, me->index + 1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        if (expected != me->index + 1)
            hart_halt();         // another hart is panicking: let it report
        power_off(POWER_PANIC);  // a panic inside panic: give up at once
    }
    stop_other_harts();
    // The lock may be held by a hart that was just stopped: wait a little, then
    // print anyway. A garbled line beats no message.
    bool locked = holding(&console_lock);
    for (int i = 0; i < 1000000 && !locked; i++)
        locked = spin_trylock(&console_lock);
    console_unlocked("\npanic: hart %lu: ", (unsigned long)me->hartid);
    console_vprintf(fmt, ap);
    console_putc('\n', NULL);
    if (trap) {
        console_unlocked("  trap: %s (scause %#lx) at ", trap_cause_name(trap->scause),
                         (unsigned long)trap->scause);
        print_code_address(trap->sepc, false);
        console_unlocked(", stval %#lx\n", (unsigned long)trap->stval);
    }
    console_unlocked("  running: ");
    print_running(me);
    console_putc('\n', NULL);
    backtrace_print();
    if (nharts > 1)
        console_unlocked("other harts:\n");
    for (int i = 0; i < nharts; i++) {
        struct hart *h = &harts[i];
        if (h == me)
            continue;
        console_unlocked("  hart %lu: ", (unsigned long)h->hartid);
        if (READ_ONCE(h->online))
            print_running(h);
        else
            console_unlocked("offline");
        console_putc('\n', NULL);
    }
    power_off(POWER_PANIC);
}

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    panic_report(NULL, fmt, ap);
}

void panic_trap(uint64_t scause, uint64_t sepc, uint64_t stval, const char *fmt, ...)
{
    struct trap_info trap = { scause, sepc, stval };
    va_list ap;
    va_start(ap, fmt);
    panic_report(&trap, fmt, ap);
}
