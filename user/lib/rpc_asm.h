// rpc.h's constants for rpc_calls.S (which cannot include the C declarations).
#pragma once

// Where an activation's boot record sits: the last 16 bytes of its stack, which the
// trampoline reads (the handler, then the TLS block; the stack starts below the block).
#define RPC_BOOT_HANDLER (-16)
#define RPC_BOOT_TLS     (-8)
