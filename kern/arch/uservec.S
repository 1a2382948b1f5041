# Crossing between user and kernel mode.
#
# uservec: stvec while a hart runs user code. sscratch holds the running thread's
# trapframe (a kernel address: the kernel is mapped in every address space, so no
# satp switch is needed). Save every user register there, load the thread's kernel
# stack and this hart's tp, point stvec back at kernelvec and call user_trap(tf).
#
# userret(tf): the way back. Called with interrupts off, sepc and sstatus already
# set for user mode; restores every register from tf and srets.

#include "arch/asm.h"

    .text
    .globl uservec
    .balign 4
uservec:
    csrrw   a0, sscratch, a0        # a0 = trapframe, sscratch = user a0
    sd      x1, TF_REG(1)(a0)
    sd      x2, TF_REG(2)(a0)
    sd      x3, TF_REG(3)(a0)
    sd      x4, TF_REG(4)(a0)
    sd      x5, TF_REG(5)(a0)
    sd      x6, TF_REG(6)(a0)
    sd      x7, TF_REG(7)(a0)
    sd      x8, TF_REG(8)(a0)
    sd      x9, TF_REG(9)(a0)
    sd      x11, TF_REG(11)(a0)
    sd      x12, TF_REG(12)(a0)
    sd      x13, TF_REG(13)(a0)
    sd      x14, TF_REG(14)(a0)
    sd      x15, TF_REG(15)(a0)
    sd      x16, TF_REG(16)(a0)
    sd      x17, TF_REG(17)(a0)
    sd      x18, TF_REG(18)(a0)
    sd      x19, TF_REG(19)(a0)
    sd      x20, TF_REG(20)(a0)
    sd      x21, TF_REG(21)(a0)
    sd      x22, TF_REG(22)(a0)
    sd      x23, TF_REG(23)(a0)
    sd      x24, TF_REG(24)(a0)
    sd      x25, TF_REG(25)(a0)
    sd      x26, TF_REG(26)(a0)
    sd      x27, TF_REG(27)(a0)
    sd      x28, TF_REG(28)(a0)
    sd      x29, TF_REG(29)(a0)
    sd      x30, TF_REG(30)(a0)
    sd      x31, TF_REG(31)(a0)
    csrr    t0, sscratch
    sd      t0, TF_REG(10)(a0)
    csrr    t0, sepc
    sd      t0, TF_SEPC(a0)
    ld      sp, TF_KERNEL_SP(a0)
    ld      tp, TF_KERNEL_TP(a0)
    lla     t0, kernelvec
    csrw    stvec, t0
    call    user_trap               # does not return: it ends in userret

    .globl userret
userret:
    # a0 = trapframe. From here until sret a trap would be fatal: interrupts are off.
    lla     t0, uservec
    csrw    stvec, t0
    csrw    sscratch, a0
    ld      t0, TF_SEPC(a0)
    csrw    sepc, t0
    ld      x1, TF_REG(1)(a0)
    ld      x2, TF_REG(2)(a0)
    ld      x3, TF_REG(3)(a0)
    ld      x4, TF_REG(4)(a0)
    ld      x5, TF_REG(5)(a0)
    ld      x6, TF_REG(6)(a0)
    ld      x7, TF_REG(7)(a0)
    ld      x8, TF_REG(8)(a0)
    ld      x9, TF_REG(9)(a0)
    ld      x11, TF_REG(11)(a0)
    ld      x12, TF_REG(12)(a0)
    ld      x13, TF_REG(13)(a0)
    ld      x14, TF_REG(14)(a0)
    ld      x15, TF_REG(15)(a0)
    ld      x16, TF_REG(16)(a0)
    ld      x17, TF_REG(17)(a0)
    ld      x18, TF_REG(18)(a0)
    ld      x19, TF_REG(19)(a0)
    ld      x20, TF_REG(20)(a0)
    ld      x21, TF_REG(21)(a0)
    ld      x22, TF_REG(22)(a0)
    ld      x23, TF_REG(23)(a0)
    ld      x24, TF_REG(24)(a0)
    ld      x25, TF_REG(25)(a0)
    ld      x26, TF_REG(26)(a0)
    ld      x27, TF_REG(27)(a0)
    ld      x28, TF_REG(28)(a0)
    ld      x29, TF_REG(29)(a0)
    ld      x30, TF_REG(30)(a0)
    ld      x31, TF_REG(31)(a0)
    ld      a0, TF_REG(10)(a0)
    sret
