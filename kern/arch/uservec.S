# Crossing between user and kernel mode.
#
# Every trap enters at trap_entry (stvec, set once per hart). sscratch says where the
# hart was: while it runs user code, sscratch holds the running thread's trapframe (a
# kernel address: the kernel is mapped in every address space, so no satp switch is
# needed); while it runs the kernel, sscratch is 0. A trap from the kernel goes on to
# kernelvec (kernelvec.S).
#
# From user mode, three ways in:
# - a system call that returns through C (most of them): only what the kernel's C code
#   may clobber and must give back is saved (ra, sp, tp and sepc; s0-s11 survive the C
#   call by the calling convention; gp the kernel never touches). The call gets the
#   user's a0-a7 in registers, and on the way back every other caller-saved register is
#   zeroed: a system call is a function call, whose stub (user/lib) declares them
#   clobbered, and no kernel value leaks out through them. See syscall_entry (usertrap.c).
# - the RPC calls (the @rpc ones): the short path's save, then the C half (ipc/rpc.c),
#   which keeps s0-s11 and gp as they came (the calling convention); here they go into,
#   or come back from, the thread's activation frame (ipc/rpc_state.h), with no trip
#   through the trapframe.
# - the IPC calls (the @raw ones of syscalls.list): every register but t0-t6 is saved,
#   because the thread may block without kernel frames and resume from its trapframe
#   alone (t0-t6 then come back as the trapframe last had them: the stub's to lose, and
#   this thread's own values); the IPC fast path (ipc/fastpath.c) is tried first.
# - an interrupt or a fault: every register is saved, then user_trap(tf).
#
# userret(tf): the way back from a full save. Called with interrupts off, sstatus set
# for user mode; restores every register from tf and srets.

#include "abi/sysnum.h"
#include "arch/asm.h"

# Saves what a system call's short path does not (ra, sp and tp are saved already, and
# ra is free; tf is in sp): gp, s0-s11 and a0-a7, and for a trap, which may come between
# any two instructions, t0-t6 too.
.macro SAVE_FOR_CALL
    .irp r, 3,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27
    sd      x\r, TF_REG(\r)(sp)
    .endr
.endm
.macro SAVE_FOR_TRAP
    SAVE_FOR_CALL
    .irp r, 5,6,7,28,29,30,31
    sd      x\r, TF_REG(\r)(sp)
    .endr
.endm

    .text
    .globl trap_entry
    .balign 4
trap_entry:
    csrrw   tp, sscratch, tp        # user: tp = the trapframe, sscratch = the user's tp
    bnez    tp, uservec
    csrrw   tp, sscratch, tp        # kernel: both back as they were (sscratch 0)
    j       kernelvec

    .globl uservec
uservec:
    sd      ra, TF_REG(1)(tp)
    sd      sp, TF_REG(2)(tp)
    csrrw   ra, sscratch, zero      # the user's tp; sscratch is 0 while in the kernel
    sd      ra, TF_REG(4)(tp)
    csrr    ra, sepc
    sd      ra, TF_SEPC(tp)
    mv      sp, tp                  # the kernel stack ends where the trapframe starts
    ld      tp, TF_KERNEL_TP(sp)
    csrr    ra, scause
    addi    ra, ra, -EXC_ECALL_U
    bnez    ra, trap_full           # an interrupt or a fault
    addi    ra, a7, -SYS_RAW_FIRST
    sltiu   ra, ra, SYS_RAW_COUNT
    bnez    ra, ipc_full            # an IPC call
    li      ra, SYS_RPC_FIRST       # the @rpc calls are the last (syscalls.list):
    bgeu    a7, ra, rpc_trap        # an RPC call or return, or a number past them

    # A system call that returns through C: syscall_entry(a0..a5, tf, number).
syscall_c:
    mv      a6, sp
    call    syscall_entry           # returns the result in a0, with interrupts off
syscall_ret:                        # a0 = the result, sp = tf, interrupts off
    csrw    sscratch, sp
    ld      ra, TF_SEPC(sp)
    csrw    sepc, ra
    .irp r, 5,6,7,11,12,13,14,15,16,17,28,29,30,31
    li      x\r, 0
    .endr
    ld      ra, TF_REG(1)(sp)
    ld      tp, TF_REG(4)(sp)
    ld      sp, TF_REG(2)(sp)
    sret

# The RPC calls (ipc/rpc.h): the fast half, then the slow half when the fast one gives
# up; either returns the frame, or 0 with the result in tf's a0 (then the way out is a
# system call's).
rpc_trap:
    li      ra, SYS_rpc_call
    bne     a7, ra, rpc_return_trap
    sd      a0, TF_REG(5)(sp)       # the handle and the window, for the C halves
    sd      a5, TF_REG(6)(sp)       # (t0-t2's slots: t registers start 0 in the entry)
    sd      a6, TF_REG(7)(sp)
    sd      a1, TF_REG(10)(sp)      # the words, where the entry finds them (a0-a3)
    sd      a2, TF_REG(11)(sp)
    sd      a3, TF_REG(12)(sp)
    sd      a4, TF_REG(13)(sp)
    mv      a1, sp
    call    rpc_call_fast           # (handle, tf)
    bnez    a0, 1f
    mv      a0, sp
    call    rpc_call_slow           # (tf)
    beqz    a0, rpc_failed
1:  # The caller's s0-s11 and gp into the frame; then the entry, with the words in a0-a3,
    # the badge in a5, its stack in sp and every other register 0: nothing of the
    # caller's reaches the server.
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11
    sd      s\i, RPC_FRAME_S(\i)(a0)
    .endr
    sd      gp, RPC_FRAME_GP(a0)
    csrw    sscratch, sp
    ld      ra, TF_SEPC(sp)
    csrw    sepc, ra
    ld      a0, TF_REG(10)(sp)
    ld      a1, TF_REG(11)(sp)
    ld      a2, TF_REG(12)(sp)
    ld      a3, TF_REG(13)(sp)
    ld      a5, TF_REG(15)(sp)
    .irp r, 1,3,4,5,6,7,8,9,14,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    li      x\r, 0
    .endr
    ld      sp, TF_REG(2)(sp)
    sret

rpc_return_trap:
    li      ra, SYS_rpc_return
    bne     a7, ra, syscall_c       # a number past the RPC calls: E_NOSYS, the usual way
    sd      a0, TF_REG(11)(sp)      # the words, where the caller finds them (a1-a4)
    sd      a1, TF_REG(12)(sp)
    sd      a2, TF_REG(13)(sp)
    sd      a3, TF_REG(14)(sp)
    mv      a0, sp
    call    rpc_return_fast         # (tf): the frame | what is left to do, or 0
    beqz    a0, 2f
    andi    ra, a0, 7
    beqz    ra, 1f
    call    rpc_return_finish
1:  # The caller again: s0-s11 and gp from the frame; ra, sp, tp, its pc, the status (a0)
    # and the words (a1-a4) from the trapframe; every other register 0.
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11
    ld      s\i, RPC_FRAME_S(\i)(a0)
    .endr
    ld      gp, RPC_FRAME_GP(a0)
    csrw    sscratch, sp
    ld      ra, TF_SEPC(sp)
    csrw    sepc, ra
    ld      a0, TF_REG(10)(sp)
    ld      a1, TF_REG(11)(sp)
    ld      a2, TF_REG(12)(sp)
    ld      a3, TF_REG(13)(sp)
    ld      a4, TF_REG(14)(sp)
    .irp r, 5,6,7,15,16,17,28,29,30,31
    li      x\r, 0
    .endr
    ld      ra, TF_REG(1)(sp)
    ld      tp, TF_REG(4)(sp)
    ld      sp, TF_REG(2)(sp)
    sret
2:  mv      a0, sp
    call    rpc_return_slow         # (tf): only when not in a call (else user_return)
    j       rpc_failed

rpc_failed:
    ld      a0, TF_REG(10)(sp)
    j       syscall_ret

ipc_full:
    SAVE_FOR_CALL
    ld      ra, TF_SEPC(sp)
    addi    ra, ra, 4               # past the ecall
    sd      ra, TF_SEPC(sp)
    mv      a0, sp
    li      ra, SYS_ipc_call
    bne     a7, ra, 1f
    tail    ipc_fastpath_call
1:  li      ra, SYS_ipc_reply_recv
    bne     a7, ra, 2f
    tail    ipc_fastpath_reply_recv
2:  tail    user_syscall

trap_full:
    SAVE_FOR_TRAP
    mv      a0, sp
    call    user_trap               # does not return: it ends in userret

    .globl userret
userret:
    # a0 = trapframe. From here until sret a trap would be fatal: interrupts are off.
    csrw    sscratch, a0
    ld      t0, TF_SEPC(a0)
    csrw    sepc, t0
    .irp r, 1,2,3,4,5,6,7,8,9,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    ld      x\r, TF_REG(\r)(a0)
    .endr
    ld      a0, TF_REG(10)(a0)
    sret
