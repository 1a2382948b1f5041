// rpc_serve (see rpc.h): the activations' memory, laid out for rpc_calls.S's trampoline:
//
//   stacks: | activation 0 ............................ | activation 1 ... | ...
//           | stack (grows down) | TLS block | boot record |
//                                ^ tp, sp    ^ top - 16   ^ top = what the kernel gives sp
#include "rpc.h"

#include <picolibc.h>  // defines PICOLIBC_TLS, which picotls.h tests
#include <picotls.h>
#include <stdlib.h>

#include <shuttle/syscalls.h>

#define PAGE      4096
#define TLS_ALIGN 64  // user.ld asserts no TLS section needs more

long rpc_serve(handle_t ep, rpc_handler handler, unsigned n)
{
    if (n == 0 || n > RPC_ACTIVATIONS_MAX)
        return E_INVAL;
    uint64_t tls_size = (_tls_size() + TLS_ALIGN - 1) & ~(uint64_t)(TLS_ALIGN - 1);
    if (tls_size + 16 + 1024 > RPC_STACK_SIZE)
        return E_TOOBIG;                                         // no room left for a stack
    uint8_t *mem = malloc((uint64_t)n * RPC_STACK_SIZE + PAGE);  // kept while the server runs
    if (!mem)
        return E_NOMEM;
    uint64_t stacks = ((uint64_t)(uintptr_t)mem + PAGE - 1) & ~(uint64_t)(PAGE - 1);
    for (unsigned i = 0; i < n; i++) {
        uint64_t top = stacks + (uint64_t)(i + 1) * RPC_STACK_SIZE;
        uint64_t tls = (top - 16 - tls_size) & ~(uint64_t)(TLS_ALIGN - 1);
        _init_tls((void *)(uintptr_t)tls);
        uint64_t *boot = (uint64_t *)(uintptr_t)top;
        boot[RPC_BOOT_HANDLER / 8] = (uint64_t)(uintptr_t)handler;
        boot[RPC_BOOT_TLS / 8] = tls;
    }
    long err = sys_rpc_register(ep, (uint64_t)(uintptr_t)rpc_entry, stacks, n);
    if (err < 0)
        free(mem);
    return err;
}
