# The trap vector while the hart runs kernel code: save the registers a C
# function may clobber, call kernel_trap(frame), restore them and return.
# tp is not saved: in the kernel it always holds this hart's struct hart.

#include "arch/asm.h"

    .text
    .globl kernelvec
    .balign 4
kernelvec:
    addi    sp, sp, -KERNEL_FRAME_SIZE
    sd      ra, 8(sp)
    sd      gp, 24(sp)
    sd      t0, 40(sp)
    sd      t1, 48(sp)
    sd      t2, 56(sp)
    sd      s0, 64(sp)
    sd      a0, 80(sp)
    sd      a1, 88(sp)
    sd      a2, 96(sp)
    sd      a3, 104(sp)
    sd      a4, 112(sp)
    sd      a5, 120(sp)
    sd      a6, 128(sp)
    sd      a7, 136(sp)
    sd      t3, 224(sp)
    sd      t4, 232(sp)
    sd      t5, 240(sp)
    sd      t6, 248(sp)
    addi    t0, sp, KERNEL_FRAME_SIZE
    sd      t0, 16(sp)              # the interrupted sp, for panic messages
    mv      a0, sp
    call    kernel_trap
    .globl kernelvec_return         # backtraces look for it (lib/console.c)
kernelvec_return:
    ld      ra, 8(sp)
    ld      gp, 24(sp)
    ld      t0, 40(sp)
    ld      t1, 48(sp)
    ld      t2, 56(sp)
    ld      s0, 64(sp)
    ld      a0, 80(sp)
    ld      a1, 88(sp)
    ld      a2, 96(sp)
    ld      a3, 104(sp)
    ld      a4, 112(sp)
    ld      a5, 120(sp)
    ld      a6, 128(sp)
    ld      a7, 136(sp)
    ld      t3, 224(sp)
    ld      t4, 232(sp)
    ld      t5, 240(sp)
    ld      t6, 248(sp)
    addi    sp, sp, KERNEL_FRAME_SIZE
    sret
