// Kernel trap dispatch: timer and software interrupts are handled; anything else
// taken in the kernel is a kernel bug, and panics with the registers that say where.
#include "arch/trap.h"
#include "arch/asm.h"
#include "arch/hart.h"
#include "dev/ipi.h"
#include "dev/timer.h"
#include "ipc/irq.h"
#include "lib/assert.h"
#include "lib/console.h"
#include "proc/sched.h"

#include <stddef.h>

_Static_assert(sizeof(struct kernel_frame) == KERNEL_FRAME_SIZE, "kernelvec.S frame size");

extern char trap_entry[];

void trap_init_hart(void)
{
    w_sscratch(0);  // in the kernel (uservec.S)
    w_stvec((uint64_t)trap_entry);
}

// scause's names, by exception code and by interrupt code (at file scope, so that the
// GDB helpers in tools/gdb read them too).
const char *const trap_exception_names[TRAP_CODES] = {
    [EXC_INST_MISALIGNED] = "instruction address misaligned",
    [EXC_INST_ACCESS] = "instruction access fault",
    [EXC_ILLEGAL_INST] = "illegal instruction",
    [EXC_BREAKPOINT] = "breakpoint",
    [EXC_LOAD_MISALIGNED] = "load address misaligned",
    [EXC_LOAD_ACCESS] = "load access fault",
    [EXC_STORE_MISALIGNED] = "store address misaligned",
    [EXC_STORE_ACCESS] = "store access fault",
    [EXC_ECALL_U] = "environment call from U-mode",
    [EXC_ECALL_S] = "environment call from S-mode",
    [EXC_INST_PAGE_FAULT] = "instruction page fault",
    [EXC_LOAD_PAGE_FAULT] = "load page fault",
    [EXC_STORE_PAGE_FAULT] = "store page fault",
};
const char *const trap_interrupt_names[TRAP_CODES] = {
    [IRQ_S_SOFT] = "supervisor software interrupt",
    [IRQ_S_TIMER] = "supervisor timer interrupt",
    [IRQ_S_EXT] = "supervisor external interrupt",
};

const char *trap_cause_name(uint64_t scause)
{
    bool interrupt = scause & SCAUSE_INTERRUPT;
    uint64_t code = scause & ~SCAUSE_INTERRUPT;
    const char *name = NULL;
    if (code < TRAP_CODES)
        name = interrupt ? trap_interrupt_names[code] : trap_exception_names[code];
    if (name)
        return name;
    return interrupt ? "unknown interrupt" : "unknown exception";
}

bool trap_interrupt(uint64_t scause)
{
    switch (scause) {
    case SCAUSE_INTERRUPT | IRQ_S_TIMER:
        sched_tick(timer_interrupt());  // may switch threads: last
        return true;
    case SCAUSE_INTERRUPT | IRQ_S_SOFT: ipi_interrupt(); return true;
    case SCAUSE_INTERRUPT | IRQ_S_EXT: irq_external_interrupt(); return true;
    default: return false;
    }
}

void kernel_trap(struct kernel_frame *frame)
{
    uint64_t scause = r_scause(), sepc = r_sepc(), sstatus = r_sstatus();
    frame->x[KERNEL_FRAME_SEPC] = sepc;  // for a backtrace through this trap
    if (panicking)
        hart_halt();
    if (!(sstatus & SSTATUS_SPP))
        panic("trap: kernelvec entered from user mode");

    if (!trap_interrupt(scause)) {
        uint64_t stval = r_stval();
        panic_trap(scause, sepc, stval,
                   "trap: unexpected kernel trap: scause %#lx (%s) sepc %#lx stval %#lx "
                   "ra %#lx sp %#lx",
                   scause, trap_cause_name(scause), sepc, stval, frame->x[1], frame->x[2]);
    }
    // A handler may itself have trapped, or switched threads: put back what this
    // trap's sret needs. Not FS: that describes whose user f registers the hart holds
    // now (proc/sched.c), which a switch may have changed.
    const uint64_t mine = SSTATUS_SPP | SSTATUS_SPIE | SSTATUS_SIE;
    w_sepc(sepc);
    w_sstatus((r_sstatus() & ~mine) | (sstatus & mine));
}
