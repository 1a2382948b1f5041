// Power-off. SBI SRST shuts QEMU down with exit status 0 whatever reason it is
// given (OpenSBI 1.1), so a failure status goes through QEMU's sifive,test device
// instead: writing 0x3333 | code << 16 makes QEMU exit with that code. Where the
// tree has no such device, SRST is used with the failure reason.
#include "dev/power.h"
#include "arch/riscv.h"
#include "lib/trace.h"
#include "mm/memlayout.h"
#include "sbi/sbi.h"

#define TEST_PASS 0x5555
#define TEST_FAIL 0x3333

static volatile uint32_t *test_device;

void power_init(uint64_t test_device_pa)
{
    test_device = test_device_pa ? P2V(test_device_pa) : 0;
}

void power_off(int status)
{
    intr_off();
    if (this_hart()->tracing)
        trace_stop();  // tools/trace.py's breakpoint: the rings are dumped there
    if (status != POWER_OK && test_device)
        *test_device = TEST_FAIL | (uint32_t)status << 16;
    sbi_system_reset(SBI_SRST_TYPE_SHUTDOWN,
                     status == POWER_OK ? SBI_SRST_REASON_NONE : SBI_SRST_REASON_FAILURE);
    if (test_device)
        *test_device = TEST_PASS;
    for (;;)  // nothing could power us off
        wfi();
}
