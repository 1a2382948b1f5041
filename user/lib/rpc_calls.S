// The RPC calls of rpc.h, by hand: the trap entry takes them apart from every other
// system call (kern/arch/uservec.S), and they pass words in registers both ways.
#include <abi/sysnum.h>

#include "rpc_asm.h"

    .text

// long rpc_call(handle_t ep, uint64_t w[4]): no window.
    .globl rpc_call
rpc_call:
    li      a2, 0
    li      a3, 0
    // fall through

// long rpc_call_window(handle_t ep, uint64_t w[4], void *window, uint64_t len): the words
// go in a1..a4 and come back there, the window in a5, a6. The kernel keeps s0-s11, sp,
// gp, tp and ra: w goes on the stack.
    .globl rpc_call_window
rpc_call_window:
    mv      a5, a2
    mv      a6, a3
    addi    sp, sp, -16
    sd      a1, 8(sp)
    mv      t0, a1
    ld      a1, 0(t0)
    ld      a2, 8(t0)
    ld      a3, 16(t0)
    ld      a4, 24(t0)
    li      a7, SYS_rpc_call
    ecall
    ld      t0, 8(sp)
    bnez    a0, 1f                  // failed: w stays as it was
    sd      a1, 0(t0)
    sd      a2, 8(t0)
    sd      a3, 16(t0)
    sd      a4, 24(t0)
1:  addi    sp, sp, 16
    ret

// long rpc_return(uint64_t w0, w1, w2, w3): a0..a3 as they are.
    .globl rpc_return
rpc_return:
    li      a7, SYS_rpc_return
    ecall
    ret                             // only without a call to return from (ra survives:
                                    // the kernel gives back ra, sp, gp, tp, s0-s11)

// Where the kernel starts a call: sp = the top of the activation's stack, a0..a3 = the
// words, a5 = the badge, every other register 0. The boot record at the top says which
// handler and which TLS block; the stack starts below the block.
    .globl rpc_entry
rpc_entry:
    ld      t0, RPC_BOOT_HANDLER(sp)
    ld      tp, RPC_BOOT_TLS(sp)
    mv      sp, tp
    mv      a4, a5
    jalr    t0                      // handler(w0, w1, w2, w3, badge)
    li      a0, 0                   // it returned: four zero words
    li      a1, 0
    li      a2, 0
    li      a3, 0
    call    rpc_return
1:  unimp                           // rpc_return does not come back from a call
    j       1b
