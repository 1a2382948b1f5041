// Constants shared by assembly and C (assembly cannot include the C headers).
#pragma once

#define PTE_V          0x001
#define PTE_R          0x002
#define PTE_W          0x004
#define PTE_X          0x008
#define PTE_U          0x010
#define PTE_G          0x020
#define PTE_A          0x040
#define PTE_D          0x080
#define PTE_BOOT_FLAGS (PTE_V | PTE_R | PTE_W | PTE_X | PTE_A | PTE_D)

#define SATP_MODE_SV39 (8 << 60)  // satp.MODE = Sv39, for entry.S

#define BOOT_STACK_SIZE 16384  // per hart
#define MAX_HARTS       8      // the same as boot/platform.h's (checked in harts.c)
#define HART_STACK_TOP  0      // offsetof(struct hart, stack_top), checked in harts.c

#define EXC_ECALL_U 8  // scause of an ecall from user mode (riscv.h has the C names)

#define KERNEL_FRAME_SIZE 256  // 32 registers, see kernelvec.S and struct kernel_frame

// struct trapframe (arch/trapframe.h), checked there with static_assert.
#define TF_KERNEL_TP 0
#define TF_SEPC      8
#define TF_X         16
#define TF_F         (TF_X + 32 * 8)
#define TF_FCSR      (TF_F + 32 * 8)
#define TF_REG(i)    (TF_X + 8 * (i))

// struct rpc_frame (ipc/rpc_state.h): where uservec.S keeps a caller's s0-s11 and gp
// during an RPC; checked in ipc/rpc.c.
#define RPC_FRAME_S(i) (8 * (i))
#define RPC_FRAME_GP   96
