// A program that does one forbidden thing, for usertests' fault_kills_only_child:
// `faulter <kind>`. The kernel must kill it with EXIT_FAULT; if it survives it says so and
// exits 0, which the test reports. `faulter none` does nothing wrong and exits 0, so the
// test can tell a fault from a program that never ran.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ulib.h"

#define KERNEL_VA 0xffffffc080200000ULL  // where the kernel's text is mapped

static void load_null(void)
{
    (void)*(volatile int *)0;
}

static void load_kernel(void)
{
    (void)*(volatile uint64_t *)KERNEL_VA;
}

// Our own text is mapped read and execute only.
static void store_text(void)
{
    *(volatile uint32_t *)(uintptr_t)&store_text = 0;
}

static void illegal(void)
{
    asm volatile("unimp");
}

// Supervisor CSRs and sret are illegal instructions in U-mode.
static void priv_csr(void)
{
    uint64_t v;
    asm volatile("csrr %0, sstatus" : "=r"(v));
}

static void priv_sret(void)
{
    asm volatile("sret");
}

// QEMU does ordinary misaligned loads in hardware, but an atomic on a misaligned
// address always traps.
static void misaligned_amo(void)
{
    static uint64_t words[2];
    uintptr_t odd = (uintptr_t)words + 1;
    asm volatile("amoadd.w zero, zero, (%0)" : : "r"(odd) : "memory");
}

static void jump_kernel(void)
{
    ((void (*)(void))(uintptr_t)KERNEL_VA)();
}

// A valid instruction (ret) in a page that is not executable: our .data.
static void exec_data(void)
{
    static uint32_t code[1] = { 0x00008067 };
    asm volatile("fence.i" ::: "memory");
    ((void (*)(void))(uintptr_t)code)();
}

static volatile int deeper = 1;  // always 1; volatile so the compiler keeps the recursion

static int recurse(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    return deeper ? recurse(n + 1) + pad[0] : 0;
}

// The main stack is STACK_SIZE bytes; below it nothing is mapped.
static void stack_overflow(void)
{
    recurse(0);
}

// The kernel must not trust sp: a system call made with sp in kernel space must still
// return; the store through sp after it is what faults.
static void bad_sp(void)
{
    asm volatile("mv s1, sp\n"
                 "li sp, %0\n"
                 "li a7, %1\n"
                 "ecall\n"
                 "sd zero, -8(sp)\n"
                 "mv sp, s1\n"
                 :
                 : "i"(KERNEL_VA), "i"(SYS_yield)
                 : "s1", "a0", "a7", ECALL_CLOBBERS);
}

static void none(void) {}

static const struct {
    const char *name;
    void (*fn)(void);
} kinds[] = {
    { "none", none },
    { "load_null", load_null },
    { "load_kernel", load_kernel },
    { "store_text", store_text },
    { "illegal", illegal },
    { "priv_csr", priv_csr },
    { "priv_sret", priv_sret },
    { "misaligned_amo", misaligned_amo },
    { "jump_kernel", jump_kernel },
    { "exec_data", exec_data },
    { "stack_overflow", stack_overflow },
    { "bad_sp", bad_sp },
};

int main(int argc, char *argv[])
{
    if (argc != 2) {
        printf("usage: faulter KIND\n");
        return 2;
    }
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(argv[1], kinds[i].name) == 0) {
            kinds[i].fn();
            if (i != 0)
                printf("faulter: survived %s\n", argv[1]);
            return 0;
        }
    }
    printf("faulter: unknown kind %s\n", argv[1]);
    return 2;
}
