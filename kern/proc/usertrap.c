// Traps from user mode, and the way back (see usertrap.h and arch/uservec.S).
//
// A system call that returns through C arrives at syscall_entry() with its arguments in
// registers; the IPC calls arrive at the fast path (ipc/fastpath.c), or user_syscall().
// Anything else arrives at user_trap(), on the thread's kernel stack with interrupts off:
// an interrupt, the first floating-point instruction since the thread came to this hart,
// or a fault, which kills the process. Both of the last leave through user_return().
#include "proc/usertrap.h"
#include "ipc/rpc.h"
#include "arch/hart.h"
#include "arch/trap.h"
#include "dev/timer.h"
#include "lib/assert.h"
#include "lib/console.h"
#include "proc/process.h"
#include "proc/sched.h"
#include "proc/syscall.h"
#include "proc/thread.h"

static void set_fs(uint64_t fs)
{
    w_sstatus((r_sstatus() & ~SSTATUS_FS) | fs);
}

// sstatus.FS was Off, so the hart's f registers are not this thread's (sched.c loads
// them lazily): load them, and return to the instruction that trapped. A truly illegal
// instruction traps again, with FS on, and kills the process then.
static bool fp_first_use(struct thread *t, uint64_t scause)
{
    if (scause != EXC_ILLEGAL_INST || (r_sstatus() & SSTATUS_FS) != SSTATUS_FS_OFF)
        return false;
    struct hart *h = this_hart();
    if (t->rpc.depth)
        rpc_fp_first_use(t);  // the caller's values are in tf->f: not the server's to see
    set_fs(SSTATUS_FS_CLEAN);
    fp_restore(t->tf);
    set_fs(SSTATUS_FS_CLEAN);  // loading them made them Dirty
    h->fp_owner = t;
    t->fp_hart = h;
    return true;
}

#define FAULT_REPORTS_PER_SEC 20

static uint64_t report_window;  // the second reports are being counted in (atomic)
static uint32_t reports_in_window, reports_dropped;  // atomic

// Whether this fault gets its line: at most FAULT_REPORTS_PER_SEC a second, so that a
// program that makes children fault in a loop (the fuzzer) neither floods the console
// nor keeps every hart waiting on the UART. *dropped: lines left out since the last one.
static bool fault_report_allowed(uint32_t *dropped)
{
    uint64_t second = timer_ms_to_ticks(1000), now = timer_now() / second;
    uint64_t window = __atomic_load_n(&report_window, __ATOMIC_RELAXED);
    if (now != window && __atomic_compare_exchange_n(&report_window, &window, now, false,
                                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        __atomic_store_n(&reports_in_window, 0, __ATOMIC_RELAXED);
    if (__atomic_fetch_add(&reports_in_window, 1, __ATOMIC_RELAXED) < FAULT_REPORTS_PER_SEC) {
        *dropped = __atomic_exchange_n(&reports_dropped, 0, __ATOMIC_RELAXED);
        return true;
    }
    __atomic_fetch_add(&reports_dropped, 1, __ATOMIC_RELAXED);
    return false;
}

static void kill_for_fault(struct thread *t, uint64_t scause)
{
    if (t->rpc.depth)
        rpc_fault(t, scause);  // in a server's entry: the call fails, the server lives on
    struct process *p = t->process;
    uint32_t dropped;
    if (fault_report_allowed(&dropped)) {
        if (dropped)
            printf("(%u more processes killed for faults, not shown)\n", dropped);
        printf("%s[%d]: killed: %s at address %#lx, pc %#lx\n", p->name, p->pid,
               trap_cause_name(scause), r_stval(), t->tf->sepc);
    }
    process_exit_all(p, EXIT_FAULT);
}

void user_trap(struct trapframe *tf)
{
    struct thread *t = thread_current();
    assert(t && t->tf == tf);
    if ((r_sstatus() & SSTATUS_SPP) != 0)
        panic("trap: user_trap entered from supervisor mode");
    uint64_t scause = r_scause();
    tf->scause = scause;
    tf->stval = r_stval();

    if (trap_interrupt(scause)) {
        // handled; a timer tick may have switched threads meanwhile
    } else if (scause & SCAUSE_INTERRUPT) {
        printf("trap: unexpected interrupt %#lx from user mode\n", scause);
    } else if (!fp_first_use(t, scause)) {
        kill_for_fault(t, scause);
    }
    user_return();
}

void user_syscall(struct trapframe *tf)
{
    intr_on();
    syscall_dispatch(tf);
    user_return();
}

// What a system call leaves to do on its way out, with interrupts off: objects to
// destroy, or a kill (a process that exits kills its threads; a server that ends
// unwinds the RPCs inside it).
__attribute__((noinline)) static void syscall_exit_work(void)
{
    struct thread *t = thread_current();
    intr_on();
    kobj_reap();
    if (thread_killed(t)) {
        if (t->rpc.depth)
            rpc_unwind(t, E_DEAD);
        thread_exit(0);
    }
    intr_off();
}

void syscall_exit_checks(void)
{
    if (thread_current()->killed | kobj_reap_pending())
        syscall_exit_work();
}

long syscall_entry(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
                   struct trapframe *tf, uint64_t number)
{
    tf->sepc += 4;  // past the ecall
    syscall_fn call = number < SYS_COUNT ? syscall_calls[number] : NULL;
    if (!call)
        return E_NOSYS;
    intr_on();
    long result = call(a0, a1, a2, a3, a4, a5);
    intr_off();
    if (thread_current()->killed | kobj_reap_pending())  // syscall_exit_checks, inline
        syscall_exit_work();
    return result;
}

void user_return(void)
{
    struct thread *t = thread_current();
    intr_on();
    if (kobj_reap_pending())
        kobj_reap();
    if (t->rpc.depth) {
        // In a server: it leaves it when killed there or when the server ends.
        if (thread_killed(t) || READ_ONCE(t->domain->exiting))
            rpc_unwind(t, E_DEAD);
    } else if (thread_killed(t) || READ_ONCE(t->process->exiting)) {
        thread_exit(0);
    }
    intr_off();
    // sstatus is ready: SPP = 0 (to user mode) and SPIE = 1 (interrupts on there) since
    // the trap from user mode, or since the switch that brought the thread here.
    userret(t->tf);
}

void syscall_dispatch(struct trapframe *tf)
{
    uint64_t n = TF_A7(tf);
    assert(n < SYS_COUNT && syscall_raw_calls[n]);  // uservec.S sends only these here
    TF_A(tf, 0) = (uint64_t)syscall_raw_calls[n](&TF_A(tf, 0));
}
