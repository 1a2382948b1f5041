// printf() and panic() (see console.h and assert.h).
#include "lib/console.h"
#include "arch/hart.h"
#include "dev/power.h"
#include "dev/uart.h"
#include "lib/assert.h"
#include "lib/fmt.h"
#include "lib/spinlock.h"
#include "sbi/sbi.h"

static struct spinlock console_lock = SPINLOCK_INIT("console", RANK_CONSOLE);
volatile int panicking;

static void console_putc(char c, void *unused)
{
    if (c == '\n')
        console_putc('\r', unused);
    if (uart_ready())
        uart_putc(c);
    else
        sbi_console_putchar(c);
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

// The return addresses on this stack, through the frame pointers (the kernel is built
// with them): each frame keeps ra at fp - 8 and the caller's fp at fp - 16.
void backtrace_print(void)
{
    uint64_t fp;
    asm volatile("mv %0, s0" : "=r"(fp));
    uint64_t lo = fp & ~4095UL, hi = lo + 4096;  // stacks are one page, or inside one
    console_unlocked("backtrace:");
    for (int depth = 0; depth < 24 && fp > lo + 16 && fp <= hi && fp % 8 == 0; depth++) {
        uint64_t ra = ((uint64_t *)fp)[-1];
        console_unlocked(" %#lx", (unsigned long)ra);
        fp = ((uint64_t *)fp)[-2];
    }
    console_unlocked("\n");
}

void panic(const char *fmt, ...)
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
    va_list ap;
    va_start(ap, fmt);
    console_vprintf(fmt, ap);
    va_end(ap);
    console_putc('\n', NULL);
    backtrace_print();
    power_off(POWER_PANIC);
}
