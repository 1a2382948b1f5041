// The SBI wrappers: one per call, each trying its extension first and falling back to
// the legacy call where the spec has one. See sbi.h for the interface.
#include "sbi/sbi.h"

// What the firmware offers, probed once by sbi_init(). Written before the other
// harts start and only read afterwards, so it needs no lock.
static struct {
    bool probed;
    long spec_version;
    bool time, ipi, rfence, hsm, srst;
} sbi;

struct sbiret sbi_ecall(long ext, long fid, unsigned long a0, unsigned long a1, unsigned long a2,
                        unsigned long a3, unsigned long a4, unsigned long a5)
{
    register unsigned long r_a0 asm("a0") = a0;
    register unsigned long r_a1 asm("a1") = a1;
    register unsigned long r_a2 asm("a2") = a2;
    register unsigned long r_a3 asm("a3") = a3;
    register unsigned long r_a4 asm("a4") = a4;
    register unsigned long r_a5 asm("a5") = a5;
    register unsigned long r_a6 asm("a6") = fid;
    register unsigned long r_a7 asm("a7") = ext;
    asm volatile("ecall"
                 : "+r"(r_a0), "+r"(r_a1)
                 : "r"(r_a2), "r"(r_a3), "r"(r_a4), "r"(r_a5), "r"(r_a6), "r"(r_a7)
                 : "memory");
    return (struct sbiret){ .error = (long)r_a0, .value = (long)r_a1 };
}

// A legacy call returns its result in a0 only.
static long sbi_legacy(long ext, unsigned long a0, unsigned long a1, unsigned long a2,
                       unsigned long a3)
{
    return sbi_ecall(ext, 0, a0, a1, a2, a3, 0, 0).error;
}

static struct sbiret sbi_base(long fid, unsigned long arg)
{
    return sbi_ecall(SBI_EXT_BASE, fid, arg, 0, 0, 0, 0, 0);
}

void sbi_init(void)
{
    if (sbi.probed)
        return;
    // SBI v0.1 firmware has no base extension: the call fails, and every
    // wrapper keeps to its legacy call.
    struct sbiret r = sbi_base(SBI_BASE_GET_SPEC_VERSION, 0);
    sbi.spec_version = r.error ? 0 : r.value;
    if (sbi.spec_version) {
        sbi.time = sbi_probe_extension(SBI_EXT_TIME);
        sbi.ipi = sbi_probe_extension(SBI_EXT_IPI);
        sbi.rfence = sbi_probe_extension(SBI_EXT_RFENCE);
        sbi.hsm = sbi_probe_extension(SBI_EXT_HSM);
        sbi.srst = sbi_probe_extension(SBI_EXT_SRST);
    }
    sbi.probed = true;
}

const char *sbi_strerror(long error)
{
    switch (error) {
    case SBI_SUCCESS: return "success";
    case SBI_ERR_FAILED: return "failed";
    case SBI_ERR_NOT_SUPPORTED: return "not supported";
    case SBI_ERR_INVALID_PARAM: return "invalid param";
    case SBI_ERR_DENIED: return "denied";
    case SBI_ERR_INVALID_ADDRESS: return "invalid address";
    case SBI_ERR_ALREADY_AVAILABLE: return "already available";
    case SBI_ERR_ALREADY_STARTED: return "already started";
    case SBI_ERR_ALREADY_STOPPED: return "already stopped";
    default: return "unknown error";
    }
}

// ---- base ---------------------------------------------------------------------

long sbi_get_spec_version(void)
{
    return sbi.spec_version;
}

long sbi_get_impl_id(void)
{
    struct sbiret r = sbi_base(SBI_BASE_GET_IMPL_ID, 0);
    return r.error ? -1 : r.value;
}

long sbi_get_impl_version(void)
{
    struct sbiret r = sbi_base(SBI_BASE_GET_IMPL_VERSION, 0);
    return r.error ? -1 : r.value;
}

bool sbi_probe_extension(long ext)
{
    struct sbiret r = sbi_base(SBI_BASE_PROBE_EXTENSION, ext);
    return r.error == SBI_SUCCESS && r.value != 0;
}

// ---- legacy console -------------------------------------------------------------

void sbi_console_putchar(int c)
{
    sbi_legacy(SBI_EXT_LEGACY_CONSOLE_PUTCHAR, (unsigned char)c, 0, 0, 0);
}

int sbi_console_getchar(void)
{
    return (int)sbi_legacy(SBI_EXT_LEGACY_CONSOLE_GETCHAR, 0, 0, 0, 0);
}

// ---- TIME -------------------------------------------------------------------------

void sbi_set_timer(uint64_t stime_value)
{
    if (sbi.time)
        sbi_ecall(SBI_EXT_TIME, SBI_TIME_SET_TIMER, stime_value, 0, 0, 0, 0, 0);
    else
        sbi_legacy(SBI_EXT_LEGACY_SET_TIMER, stime_value, 0, 0, 0);
}

// ---- IPI ----------------------------------------------------------------------------

// The legacy calls take the address of a mask whose bit i is hart i; harts at or
// above 64 cannot be named that way.
static long legacy_mask(unsigned long hart_mask, unsigned long base, unsigned long *mask)
{
    if (base >= 64 || (base && (hart_mask >> (64 - base))))
        return SBI_ERR_INVALID_PARAM;
    *mask = hart_mask << base;
    return SBI_SUCCESS;
}

struct sbiret sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base)
{
    if (sbi.ipi)
        return sbi_ecall(SBI_EXT_IPI, SBI_IPI_SEND_IPI, hart_mask, hart_mask_base, 0, 0, 0, 0);
    unsigned long mask;
    long err = legacy_mask(hart_mask, hart_mask_base, &mask);
    if (!err)
        err = sbi_legacy(SBI_EXT_LEGACY_SEND_IPI, (unsigned long)&mask, 0, 0, 0);
    return (struct sbiret){ .error = err };
}

// ---- RFENCE -------------------------------------------------------------------------

static struct sbiret rfence(long fid, long legacy_ext, unsigned long hart_mask, unsigned long base,
                            unsigned long start, unsigned long size, unsigned long asid)
{
    if (sbi.rfence)
        return sbi_ecall(SBI_EXT_RFENCE, fid, hart_mask, base, start, size, asid, 0);
    unsigned long mask;
    long err = legacy_mask(hart_mask, base, &mask);
    if (!err)
        err = sbi_legacy(legacy_ext, (unsigned long)&mask, start, size, asid);
    return (struct sbiret){ .error = err };
}

struct sbiret sbi_remote_fence_i(unsigned long hart_mask, unsigned long hart_mask_base)
{
    return rfence(SBI_RFENCE_REMOTE_FENCE_I, SBI_EXT_LEGACY_REMOTE_FENCE_I, hart_mask,
                  hart_mask_base, 0, 0, 0);
}

struct sbiret sbi_remote_sfence_vma(unsigned long hart_mask, unsigned long hart_mask_base,
                                    unsigned long start, unsigned long size)
{
    return rfence(SBI_RFENCE_REMOTE_SFENCE_VMA, SBI_EXT_LEGACY_REMOTE_SFENCE_VMA, hart_mask,
                  hart_mask_base, start, size, 0);
}

struct sbiret sbi_remote_sfence_vma_asid(unsigned long hart_mask, unsigned long hart_mask_base,
                                         unsigned long start, unsigned long size,
                                         unsigned long asid)
{
    return rfence(SBI_RFENCE_REMOTE_SFENCE_VMA_ASID, SBI_EXT_LEGACY_REMOTE_SFENCE_VMA_ASID,
                  hart_mask, hart_mask_base, start, size, asid);
}

// ---- HSM (no legacy form: without it only the boot hart runs) ------------------------

static const struct sbiret no_hsm = { .error = SBI_ERR_NOT_SUPPORTED };

bool sbi_has_hsm(void)
{
    return sbi.hsm;
}

struct sbiret sbi_hart_start(unsigned long hartid, unsigned long start_addr, unsigned long opaque)
{
    if (!sbi.hsm)
        return no_hsm;
    return sbi_ecall(SBI_EXT_HSM, SBI_HSM_HART_START, hartid, start_addr, opaque, 0, 0, 0);
}

struct sbiret sbi_hart_stop(void)
{
    if (!sbi.hsm)
        return no_hsm;
    return sbi_ecall(SBI_EXT_HSM, SBI_HSM_HART_STOP, 0, 0, 0, 0, 0, 0);
}

struct sbiret sbi_hart_get_status(unsigned long hartid)
{
    if (!sbi.hsm)
        return no_hsm;
    return sbi_ecall(SBI_EXT_HSM, SBI_HSM_HART_GET_STATUS, hartid, 0, 0, 0, 0, 0);
}

// ---- SRST -----------------------------------------------------------------------------

struct sbiret sbi_system_reset(unsigned long reset_type, unsigned long reset_reason)
{
    if (sbi.srst) {
        struct sbiret r =
            sbi_ecall(SBI_EXT_SRST, SBI_SRST_SYSTEM_RESET, reset_type, reset_reason, 0, 0, 0, 0);
        if (r.error != SBI_ERR_NOT_SUPPORTED)
            return r;
    }
    if (reset_type == SBI_SRST_TYPE_SHUTDOWN)
        sbi_legacy(SBI_EXT_LEGACY_SHUTDOWN, 0, 0, 0, 0);
    return (struct sbiret){ .error = SBI_ERR_NOT_SUPPORTED };
}
