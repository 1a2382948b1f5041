// Traps from user mode, and the way back (see uservec.S).
//
// user_trap() runs on the thread's kernel stack with interrupts off: it saves the
// user floating-point registers if user code changed them, handles the trap (a
// system call, an interrupt, or a fault that kills the process), and leaves through
// user_return(), which also makes a killed thread exit instead of going back.
#include "arch/hart.h"
#include "arch/trap.h"
#include "arch/trapframe.h"
#include "lib/assert.h"
#include "lib/console.h"
#include "proc/process.h"
#include "proc/sched.h"
#include "proc/syscall.h"
#include "proc/thread.h"

void userret(struct trapframe *tf);  // uservec.S
void user_trap(struct trapframe *tf);
__attribute__((noreturn)) void user_return(void);

#define SSTATUS_FS_OFF   (0UL << 13)
#define SSTATUS_FS_CLEAN (2UL << 13)
#define SSTATUS_FS_DIRTY (3UL << 13)

// User code changed its f registers since we last looked: keep them.
static void save_fp_if_dirty(struct thread *t)
{
    if ((r_sstatus() & SSTATUS_FS) == SSTATUS_FS_DIRTY) {
        fp_save(t->tf);
        this_hart()->fp_owner = t;
    }
}

// The f registers hold this thread's values before it returns to user mode; the
// kernel never uses them, so they are reloaded only when another thread's are there.
static void load_fp(struct thread *t)
{
    struct hart *h = this_hart();
    w_sstatus((r_sstatus() & ~SSTATUS_FS) | SSTATUS_FS_CLEAN);
    if (h->fp_owner != t) {
        fp_restore(t->tf);
        h->fp_owner = t;
    }
    // Clean: a later Dirty means user code wrote them.
    w_sstatus((r_sstatus() & ~SSTATUS_FS) | SSTATUS_FS_CLEAN);
}

static void kill_for_fault(struct thread *t, uint64_t scause)
{
    struct process *p = t->process;
    printf("%s[%d]: killed: %s at address %#lx, pc %#lx\n", p->name, p->pid,
           trap_cause_name(scause), r_stval(), t->tf->sepc);
    process_exit_all(p, EXIT_FAULT);
}

void user_trap(struct trapframe *tf)
{
    struct thread *t = thread_current();
    assert(t && t->tf == tf);
    if ((r_sstatus() & SSTATUS_SPP) != 0)
        panic("trap: user_trap entered from supervisor mode");
    save_fp_if_dirty(t);
    uint64_t scause = r_scause();

    if (scause == EXC_ECALL_U) {
        tf->sepc += 4;
        intr_on();
        syscall_dispatch(tf);
    } else if (trap_interrupt(scause)) {
        // handled; a timer tick may have switched threads meanwhile
    } else if (scause & SCAUSE_INTERRUPT) {
        printf("trap: unexpected interrupt %#lx from user mode\n", scause);
    } else {
        kill_for_fault(t, scause);
    }
    user_return();
}

void user_return(void)
{
    struct thread *t = thread_current();
    intr_on();
    if (thread_killed(t) || t->process->exiting)
        thread_exit(0);
    intr_off();
    struct trapframe *tf = t->tf;
    tf->kernel_sp = (uint64_t)tf;  // the kernel stack ends where the trapframe starts
    tf->kernel_tp = (uint64_t)this_hart();
    // sret goes to user mode (SPP = 0) with interrupts on there (SPIE = 1).
    w_sstatus((r_sstatus() & ~SSTATUS_SPP) | SSTATUS_SPIE);
    load_fp(t);
    userret(tf);
    __builtin_unreachable();
}

void syscall_dispatch(struct trapframe *tf)
{
    uint64_t n = TF_A7(tf);
    if (n >= SYS_COUNT || !syscall_table[n].call) {
        TF_A(tf, 0) = (uint64_t)E_NOSYS;
        return;
    }
    uint64_t *regs = &TF_A(tf, 0);
    TF_A(tf, 0) = (uint64_t)syscall_table[n].call(regs);
}
