// The five IPC calls of ipc.h, written by hand because they pass a whole message in
// registers (syscalls.list marks them @raw; <abi/types.h> names the registers). Each
// loads m->w[0..3] into a1..a4, the struct ipc_xfer pointer into a5 and the flags into
// a6, traps, and then stores a1..a4 back into m->w and a5 (the sender's badge after a
// receive) into m->badge; when the call succeeded and there is an xfer block, a6 and a7
// (the bytes and the handle received) go into its recv_len and recv_handle. The store is done after every
// call: for a call the kernel left the words alone it writes back what was there, so
// one epilogue serves all five. a0 is the endpoint in and the status out.
//
// m's and x's addresses are kept on the stack: the kernel preserves the registers it
// does not return values in, but that is the calling convention's promise to keep, not
// the trap's.
#include <abi/sysnum.h>

#define MSG_W0    0
#define MSG_W1    8
#define MSG_W2    16
#define MSG_W3    24
#define MSG_BADGE 32
#define XFER_RECV_LEN    32  // offsetof(struct ipc_xfer, recv_len), checked in ulib.c
#define XFER_RECV_HANDLE 48  // offsetof(struct ipc_xfer, recv_handle)

// IPC_TRAP sysnum: m in t0, xfer in a5 and flags in a6 already; traps and writes back.
.macro IPC_TRAP sysnum
    addi    sp, sp, -16
    sd      t0, 0(sp)
    sd      a5, 8(sp)
    ld      a1, MSG_W0(t0)
    ld      a2, MSG_W1(t0)
    ld      a3, MSG_W2(t0)
    ld      a4, MSG_W3(t0)
    li      a7, \sysnum
    ecall
    ld      t0, 0(sp)
    sd      a1, MSG_W0(t0)
    sd      a2, MSG_W1(t0)
    sd      a3, MSG_W2(t0)
    sd      a4, MSG_W3(t0)
    sd      a5, MSG_BADGE(t0)
    ld      t1, 8(sp)
    beqz    t1, 1f
    bnez    a0, 1f                  // failed: the kernel may not even have read x
    sd      a6, XFER_RECV_LEN(t1)
    sw      a7, XFER_RECV_HANDLE(t1)
1:  addi    sp, sp, 16
    ret
.endm

    .text

// long ipc_call(handle_t ep, struct ipc_msg *m, struct ipc_xfer *x)
    .globl ipc_call
ipc_call:
    mv      t0, a1
    mv      a5, a2
    li      a6, 0
    IPC_TRAP SYS_ipc_call

// long ipc_send(handle_t ep, struct ipc_msg *m, struct ipc_xfer *x, uint32_t flags)
    .globl ipc_send
ipc_send:
    mv      t0, a1
    mv      a5, a2
    mv      a6, a3
    IPC_TRAP SYS_ipc_send

// long ipc_recv(handle_t ep, struct ipc_msg *m, struct ipc_xfer *x, uint32_t flags)
    .globl ipc_recv
ipc_recv:
    mv      t0, a1
    mv      a5, a2
    mv      a6, a3
    IPC_TRAP SYS_ipc_recv

// long ipc_reply(struct ipc_msg *m, struct ipc_xfer *x): no endpoint, a0 = 0.
    .globl ipc_reply
ipc_reply:
    mv      t0, a0
    mv      a5, a1
    li      a0, 0
    li      a6, 0
    IPC_TRAP SYS_ipc_reply

// long ipc_reply_flags(struct ipc_msg *m, struct ipc_xfer *x, uint32_t flags)
    .globl ipc_reply_flags
ipc_reply_flags:
    mv      t0, a0
    mv      a5, a1
    mv      a6, a2
    li      a0, 0
    IPC_TRAP SYS_ipc_reply

// long ipc_reply_recv(handle_t ep, struct ipc_msg *m, struct ipc_xfer *x)
    .globl ipc_reply_recv
ipc_reply_recv:
    li      a3, 0
    // fall through, flags 0

// long ipc_reply_recv_flags(handle_t ep, struct ipc_msg *m, struct ipc_xfer *x, uint32_t flags)
    .globl ipc_reply_recv_flags
ipc_reply_recv_flags:
    mv      t0, a1
    mv      a5, a2
    mv      a6, a3
    IPC_TRAP SYS_ipc_reply_recv
