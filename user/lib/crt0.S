// The first instructions of every user program, and of every thread uthread_start makes.
//
// _start: the kernel (for init) or spawn() (for the rest) starts the first thread here
// with a0 = the user address of a struct startup and sp 16-byte aligned just below it.
// Before any C runs, tp must point at a TLS block: picolibc keeps errno in thread-local
// storage and the compiler reaches it as tp + offset (-ftls-model=local-exec). The main
// thread's block is carved from the top of its stack. Nothing needs zeroing (the loader's
// pages come zeroed) and gp is not used (everything is built with -mno-relax).
//
// uthread_entry: sys_thread_create starts a uthread here with a0 = its struct
// uthread_boot, which already holds an initialised TLS block; the return value of the
// thread's function becomes its sys_thread_exit value.
#include "uthread.h"

    .section .text.start, "ax"
    .globl _start
_start:
    lui     t0, %hi(__tls_size)
    addi    t0, t0, %lo(__tls_size)
    sub     sp, sp, t0
    andi    sp, sp, -64             // user.ld asserts the TLS alignment is at most 64
    mv      tp, sp                  // the block is [sp, sp + __tls_size); the stack grows below
    li      fp, 0                   // end of the frame-pointer chain, for debuggers
    li      ra, 0
    call    start_main              // a0 is still the struct startup; never returns
1:  unimp
    j       1b

    .text
    .globl uthread_entry
uthread_entry:
    ld      tp, UTHREAD_BOOT_TLS(a0)
    ld      t0, UTHREAD_BOOT_FN(a0)
    ld      a0, UTHREAD_BOOT_ARG(a0)
    li      fp, 0
    li      ra, 0
    jalr    t0                      // long fn(void *arg)
    call    sys_thread_exit         // a0 = its value; never returns
1:  unimp
    j       1b
