// RISC-V privileged architecture: CSR accessors and the bits Shuttle uses.
// Reference: The RISC-V Instruction Set Manual, Volume II: Privileged Architecture,
// chapter 4 "Supervisor-Level ISA" (sstatus 4.1.1, sie/sip 4.1.3, scause 4.1.9, satp 4.1.11,
// Sv39 4.4) and the Sstc extension (stimecmp).
#pragma once

#include <stdint.h>

#define CSR_READ(name)                                                                             \
    ({                                                                                             \
        uint64_t _v;                                                                               \
        asm volatile("csrr %0, " #name : "=r"(_v));                                                \
        _v;                                                                                        \
    })
#define CSR_WRITE(name, v) asm volatile("csrw " #name ", %0" ::"r"((uint64_t)(v)) : "memory")
#define CSR_SET(name, v)   asm volatile("csrs " #name ", %0" ::"r"((uint64_t)(v)) : "memory")
#define CSR_CLEAR(name, v) asm volatile("csrc " #name ", %0" ::"r"((uint64_t)(v)) : "memory")

// sstatus
#define SSTATUS_SIE      (1UL << 1)   // supervisor interrupts enabled
#define SSTATUS_SPIE     (1UL << 5)   // SIE before the trap
#define SSTATUS_SPP      (1UL << 8)   // previous mode: 1 = supervisor, 0 = user
#define SSTATUS_FS       (3UL << 13)  // floating-point state: off, initial, clean, dirty
#define SSTATUS_FS_OFF   (0UL << 13)
#define SSTATUS_FS_CLEAN (2UL << 13)
#define SSTATUS_FS_DIRTY (3UL << 13)
#define SSTATUS_SUM      (1UL << 18)  // supervisor may access user pages

static inline uint64_t r_sstatus(void)
{
    return CSR_READ(sstatus);
}
static inline void w_sstatus(uint64_t x)
{
    CSR_WRITE(sstatus, x);
}

// sie / sip: supervisor software, timer and external interrupts
#define SIE_SSIE (1UL << 1)
#define SIE_STIE (1UL << 5)
#define SIE_SEIE (1UL << 9)
#define SIP_SSIP (1UL << 1)

static inline uint64_t r_sie(void)
{
    return CSR_READ(sie);
}
static inline void w_sie(uint64_t x)
{
    CSR_WRITE(sie, x);
}
static inline uint64_t r_sip(void)
{
    return CSR_READ(sip);
}
static inline void clear_sip(uint64_t bits)
{
    CSR_CLEAR(sip, bits);
}
static inline void set_sip(uint64_t bits)
{
    CSR_SET(sip, bits);  // S-mode may raise its own software interrupt (sip.SSIP)
}

// scause: the top bit says interrupt; the rest is the cause code
#define SCAUSE_INTERRUPT     (1UL << 63)
#define IRQ_S_SOFT           1
#define IRQ_S_TIMER          5
#define IRQ_S_EXT            9
#define EXC_INST_MISALIGNED  0
#define EXC_INST_ACCESS      1
#define EXC_ILLEGAL_INST     2
#define EXC_BREAKPOINT       3
#define EXC_LOAD_MISALIGNED  4
#define EXC_LOAD_ACCESS      5
#define EXC_STORE_MISALIGNED 6
#define EXC_STORE_ACCESS     7
#define EXC_ECALL_U          8
#define EXC_ECALL_S          9
#define EXC_INST_PAGE_FAULT  12
#define EXC_LOAD_PAGE_FAULT  13
#define EXC_STORE_PAGE_FAULT 15

static inline uint64_t r_scause(void)
{
    return CSR_READ(scause);
}
static inline uint64_t r_sepc(void)
{
    return CSR_READ(sepc);
}
static inline void w_sepc(uint64_t x)
{
    CSR_WRITE(sepc, x);
}
static inline uint64_t r_stval(void)
{
    return CSR_READ(stval);
}
static inline void w_stvec(uint64_t x)
{
    CSR_WRITE(stvec, x);
}
static inline uint64_t r_sscratch(void)
{
    return CSR_READ(sscratch);
}
static inline void w_sscratch(uint64_t x)
{
    CSR_WRITE(sscratch, x);
}

// satp: Sv39 mode with the root page table's physical page number
#define SATP_SV39          (8UL << 60)
#define MAKE_SATP(root_pa) (SATP_SV39 | ((uint64_t)(root_pa) >> 12))

static inline uint64_t r_satp(void)
{
    return CSR_READ(satp);
}
static inline void w_satp(uint64_t x)
{
    CSR_WRITE(satp, x);
}
static inline void sfence_vma(void)
{
    asm volatile("sfence.vma zero, zero" ::: "memory");
}

// time, and the Sstc timer compare register (CSR 0x14d)
static inline uint64_t r_time(void)
{
    return CSR_READ(time);
}
static inline void w_stimecmp(uint64_t x)
{
    CSR_WRITE(0x14d, x);
}

static inline uint64_t r_instret(void)
{
    return CSR_READ(instret);
}

// tp holds this hart's struct hart in the kernel.
static inline uint64_t r_tp(void)
{
    uint64_t x;
    asm volatile("mv %0, tp" : "=r"(x));
    return x;
}
static inline void w_tp(uint64_t x)
{
    asm volatile("mv tp, %0" ::"r"(x));
}

static inline uint64_t r_sp(void)
{
    uint64_t x;
    asm volatile("mv %0, sp" : "=r"(x));
    return x;
}

// Interrupts on this hart.
static inline void intr_on(void)
{
    CSR_SET(sstatus, SSTATUS_SIE);
}
static inline void intr_off(void)
{
    CSR_CLEAR(sstatus, SSTATUS_SIE);
}
// Turns interrupts off and returns SSTATUS_SIE as it was, in one instruction.
static inline uint64_t intr_off_and_get(void)
{
    uint64_t was;
    asm volatile("csrrci %0, sstatus, %1" : "=r"(was) : "i"(SSTATUS_SIE) : "memory");
    return was & SSTATUS_SIE;
}
static inline int intr_get(void)
{
    return (r_sstatus() & SSTATUS_SIE) != 0;
}

static inline void wfi(void)
{
    asm volatile("wfi" ::: "memory");
}
static inline void cpu_relax(void)
{
    asm volatile("nop; nop; nop; nop" ::: "memory");
}
