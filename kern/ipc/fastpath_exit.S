# The fast path's last step (ipc/fastpath.c): free the lock that keeps other harts off
# the blocked thread's stack, then return to user mode in the next thread. From the store
# on, another hart may run the blocked thread on its stack: nothing here touches it.

#include "arch/asm.h"

    .text
    .globl ipc_fastpath_exit
ipc_fastpath_exit:                  # a0 = the next thread's trapframe, a1 = the lock word
    fence   rw, w                   # release: everything before is seen before the lock frees
    sw      zero, 0(a1)
    j       userret
