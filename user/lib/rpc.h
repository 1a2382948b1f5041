// Migrating-thread RPC, as user programs call it (the kernel side: kern/ipc/rpc.h; the
// registers and limits: <abi/types.h>, "migrating-thread RPC").
//
//   rpc_serve(ep, handler, n)  serve RPC on endpoint ep (a handle with RIGHT_RECV): n
//                              activations, each a stack (RPC_STACK_SIZE bytes, from
//                              malloc) with its own TLS block, so handler may use the
//                              C library. 0 or a negative E_*
//   rpc_call(ep, w)            run the server's handler on this thread with w[0..3];
//                              its answer replaces w. 0, or a negative E_*: E_DEAD (the
//                              server is gone), E_FAULT (the handler faulted), E_LIMIT
//                              (nested too deep), E_NOENT (nothing registered on ep)
//   rpc_call_window(ep, w, buf, len)   the same, and the handler may read and write
//                              [buf, buf + len) of the caller's memory, and nothing else
//                              of it, with sys_rpc_copy(offset, its_buf, n, RPC_COPY_IN
//                              or RPC_COPY_OUT)
//   rpc_return(w0, w1, w2, w3) end the handler: the caller resumes with these words.
//                              Returns only when there is no call to return from
//                              (E_PERM)
//
// A handler runs in the server's address space on the caller's thread: handler(w0, w1,
// w2, w3, badge), badge the one of the caller's handle. Several callers may be in it at
// once, on different harts (up to n): what it shares needs a lock. A handler that
// returns without rpc_return answers with four zero words.
//
//   void echo(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t badge)
//   {
//       rpc_return(a, b, c, d);
//   }
//   ... rpc_serve(ep, echo, 4); ...          (the server)
//   uint64_t w[4] = { 1, 2, 3, 4 };
//   long err = rpc_call(ep, w);              (a client)
#pragma once

#include <abi/errno.h>
#include <abi/types.h>

typedef void (*rpc_handler)(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, uint64_t badge);

long rpc_serve(handle_t ep, rpc_handler handler, unsigned n);
long rpc_call(handle_t ep, uint64_t w[4]);
long rpc_call_window(handle_t ep, uint64_t w[4], void *buf, uint64_t len);
long rpc_return(uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3);

// The trampoline rpc_serve registers (rpc_calls.S): what rpc_register's entry is, for tests
// that register by hand.
void rpc_entry(void);
#include "rpc_asm.h"  // RPC_BOOT_*: an activation's boot record
