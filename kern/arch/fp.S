# Saving and restoring a user thread's floating-point registers. The kernel itself
# is built without floating point (lp64), so these are the only kernel instructions
# that touch the f registers; sstatus.FS must not be Off when they run.

#include "arch/asm.h"

    .option arch, +d
    .text

    .globl fp_save
fp_save:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fsd     f\i, (TF_F + 8 * \i)(a0)
    .endr
    frcsr   t0
    sd      t0, TF_FCSR(a0)
    ret

    .globl fp_restore
fp_restore:
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    fld     f\i, (TF_F + 8 * \i)(a0)
    .endr
    ld      t0, TF_FCSR(a0)
    fscsr   t0
    ret
