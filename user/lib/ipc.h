// Message passing, as user programs call it. The kernel side is kern/ipc/; the
// register convention is in <abi/types.h> ("IPC"). Every call returns 0 or a negative
// E_* from <abi/errno.h>.
//
//   ipc_call(ep, &m, x)        send m (and x's buffer and handle, if x is not NULL), wait
//                              for the reply, which replaces m (and fills x's receive part)
//   ipc_send(ep, &m, x, flags) send m; flags IPC_NONBLOCK: E_AGAIN unless a receiver waits
//   ipc_recv(ep, &m, x, flags) wait for a message; m.badge says which client handle sent it.
//                              IPC_NOTICE, not 0, when the kernel sent it: a closing
//                              notice (MINT_NOTIFY_CLOSED), which takes no reply
//   ipc_reply(&m, x)           answer the last call this thread received
//   ipc_reply_recv(ep, &m, x)  ipc_reply, then ipc_recv, in one system call
//   ipc_reply_flags(&m, x, flags), ipc_reply_recv_flags(ep, &m, x, flags)
//                              the same with flags: IPC_MOVE closes x's send_handle as
//                              the reply takes it (ipc_send takes IPC_MOVE too)
//
// A server loop:
//   struct ipc_msg m;
//   long err = ipc_recv(ep, &m, NULL, 0);
//   for (;;) { handle(&m); err = ipc_reply_recv(ep, &m, NULL); }
#pragma once

#include <abi/errno.h>
#include <abi/types.h>

long ipc_call(handle_t endpoint, struct ipc_msg *m, struct ipc_xfer *x);
long ipc_send(handle_t endpoint, struct ipc_msg *m, struct ipc_xfer *x, uint32_t flags);
long ipc_recv(handle_t endpoint, struct ipc_msg *m, struct ipc_xfer *x, uint32_t flags);
long ipc_reply(struct ipc_msg *m, struct ipc_xfer *x);
long ipc_reply_recv(handle_t endpoint, struct ipc_msg *m, struct ipc_xfer *x);
long ipc_reply_flags(struct ipc_msg *m, struct ipc_xfer *x, uint32_t flags);
long ipc_reply_recv_flags(handle_t endpoint, struct ipc_msg *m, struct ipc_xfer *x, uint32_t flags);
