// The SBI client library: how the kernel (S-mode) asks the firmware (M-mode) for
// what only M-mode can do: start and stop harts, set the timer, send IPIs, fence
// remote TLBs and power the machine off.
//
// Interface:
//   sbi_ecall(ext, fid, a0..a5)  the one raw call; everything else wraps it
//   sbi_init()                   probes the extensions once; call before the wrappers
//   sbi_<name>(...)              one wrapper per call, named after the spec; each uses
//                                its extension when the firmware has it and falls back
//                                to the legacy (v0.1) call where the spec defines one.
//
// Reference: RISC-V Supervisor Binary Interface Specification, v2.0
// (chapter 3 "Binary Encoding", 4 "Base Extension", 5 "Legacy Extensions",
// 6 "Timer", 7 "IPI", 8 "RFENCE", 9 "Hart State Management", 10 "System Reset").
#pragma once

#include <stdint.h>
#include <stdbool.h>

// ---- the spec's IDs, in the spec's order -----------------------------------------

// Extension IDs (a7).
#define SBI_EXT_LEGACY_SET_TIMER              0x00
#define SBI_EXT_LEGACY_CONSOLE_PUTCHAR        0x01
#define SBI_EXT_LEGACY_CONSOLE_GETCHAR        0x02
#define SBI_EXT_LEGACY_CLEAR_IPI              0x03
#define SBI_EXT_LEGACY_SEND_IPI               0x04
#define SBI_EXT_LEGACY_REMOTE_FENCE_I         0x05
#define SBI_EXT_LEGACY_REMOTE_SFENCE_VMA      0x06
#define SBI_EXT_LEGACY_REMOTE_SFENCE_VMA_ASID 0x07
#define SBI_EXT_LEGACY_SHUTDOWN               0x08
#define SBI_EXT_BASE                          0x10
#define SBI_EXT_TIME                          0x54494D45  // "TIME"
#define SBI_EXT_IPI                           0x735049    // "sPI"
#define SBI_EXT_RFENCE                        0x52464E43  // "RFNC"
#define SBI_EXT_HSM                           0x48534D    // "HSM"
#define SBI_EXT_SRST                          0x53525354  // "SRST"
#define SBI_EXT_DBCN                          0x4442434E  // "DBCN"

// Base extension function IDs (a6).
#define SBI_BASE_GET_SPEC_VERSION 0
#define SBI_BASE_GET_IMPL_ID      1
#define SBI_BASE_GET_IMPL_VERSION 2
#define SBI_BASE_PROBE_EXTENSION  3
#define SBI_BASE_GET_MVENDORID    4
#define SBI_BASE_GET_MARCHID      5
#define SBI_BASE_GET_MIMPID       6

// TIME.
#define SBI_TIME_SET_TIMER 0

// IPI.
#define SBI_IPI_SEND_IPI 0

// RFENCE.
#define SBI_RFENCE_REMOTE_FENCE_I         0
#define SBI_RFENCE_REMOTE_SFENCE_VMA      1
#define SBI_RFENCE_REMOTE_SFENCE_VMA_ASID 2

// HSM.
#define SBI_HSM_HART_START      0
#define SBI_HSM_HART_STOP       1
#define SBI_HSM_HART_GET_STATUS 2
#define SBI_HSM_HART_SUSPEND    3

// HSM hart states (sbi_hart_get_status).
#define SBI_HSM_STARTED       0
#define SBI_HSM_STOPPED       1
#define SBI_HSM_START_PENDING 2
#define SBI_HSM_STOP_PENDING  3
#define SBI_HSM_SUSPENDED     4

// SRST.
#define SBI_SRST_SYSTEM_RESET     0
#define SBI_SRST_TYPE_SHUTDOWN    0
#define SBI_SRST_TYPE_COLD_REBOOT 1
#define SBI_SRST_TYPE_WARM_REBOOT 2
#define SBI_SRST_REASON_NONE      0
#define SBI_SRST_REASON_FAILURE   1

// Implementation IDs (sbi_get_impl_id).
#define SBI_IMPL_BBL     0
#define SBI_IMPL_OPENSBI 1

// Error codes (sbiret.error).
#define SBI_SUCCESS               0
#define SBI_ERR_FAILED            -1
#define SBI_ERR_NOT_SUPPORTED     -2
#define SBI_ERR_INVALID_PARAM     -3
#define SBI_ERR_DENIED            -4
#define SBI_ERR_INVALID_ADDRESS   -5
#define SBI_ERR_ALREADY_AVAILABLE -6
#define SBI_ERR_ALREADY_STARTED   -7
#define SBI_ERR_ALREADY_STOPPED   -8

// ---- the calls ------------------------------------------------------------------

struct sbiret {
    long error;  // SBI_SUCCESS or a negative SBI_ERR_*
    long value;
};

struct sbiret sbi_ecall(long ext, long fid, unsigned long a0, unsigned long a1, unsigned long a2,
                        unsigned long a3, unsigned long a4, unsigned long a5);

// Probes the extensions once; the wrappers below read what it found.
void sbi_init(void);
// Names an SBI error code for messages ("invalid param").
const char *sbi_strerror(long error);

// Base.
long sbi_get_spec_version(void);  // major << 24 | minor
long sbi_get_impl_id(void);
long sbi_get_impl_version(void);
bool sbi_probe_extension(long ext);

// Legacy console (no newer replacement exists on OpenSBI 1.1: it lacks DBCN).
void sbi_console_putchar(int c);
int sbi_console_getchar(void);  // -1 when nothing is waiting

// TIME: the next timer interrupt at absolute time stime_value (in timebase ticks).
void sbi_set_timer(uint64_t stime_value);

// IPI: a supervisor software interrupt to each hart whose bit is set in hart_mask,
// bit i standing for hart hart_mask_base + i.
struct sbiret sbi_send_ipi(unsigned long hart_mask, unsigned long hart_mask_base);

// RFENCE: fences on the harts of the mask (same encoding as sbi_send_ipi).
struct sbiret sbi_remote_fence_i(unsigned long hart_mask, unsigned long hart_mask_base);
struct sbiret sbi_remote_sfence_vma(unsigned long hart_mask, unsigned long hart_mask_base,
                                    unsigned long start, unsigned long size);
struct sbiret sbi_remote_sfence_vma_asid(unsigned long hart_mask, unsigned long hart_mask_base,
                                         unsigned long start, unsigned long size,
                                         unsigned long asid);

// HSM: the hart starts in S-mode at start_addr (physical, MMU off) with
// a0 = its hart id and a1 = opaque.
struct sbiret sbi_hart_start(unsigned long hartid, unsigned long start_addr, unsigned long opaque);
struct sbiret sbi_hart_stop(void);  // returns only on failure
struct sbiret sbi_hart_get_status(unsigned long hartid);
bool sbi_has_hsm(void);

// SRST; falls back to the legacy shutdown for SBI_SRST_TYPE_SHUTDOWN.
// Returns only on failure.
struct sbiret sbi_system_reset(unsigned long reset_type, unsigned long reset_reason);
