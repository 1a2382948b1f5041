// Inter-processor interrupts, and running a function on every hart at once.
//
// An IPI is a supervisor software interrupt (sip.SSIP) raised on another hart. There
// are two ways to raise one, chosen once at boot (ipi_init):
//   SBI   an ecall into OpenSBI, whose M-mode code writes the target's machine software
//         interrupt; the target's firmware then sets its sip.SSIP (about 560 guest
//         instructions on the sender alone): always there;
//   SSWI  the ACLINT's supervisor software interrupt device: S-mode writes 1 to the
//         target's register and its sip.SSIP is set, no firmware at all (a few
//         instructions). QEMU's -machine virt,aclint=on has one; the tree says where.
// Either way the target clears sip.SSIP itself (a write of 0 to SSWI does nothing).
//
// Each IPI carries its reasons in the target's h->ipi_pending. While any reason is
// pending an IPI is on its way, so a second sender only adds its bit and sends nothing
// (coalescing): k wakeups for one hart between two of its interrupts cost one IPI.
//
//   ipi_init(p, want)        at boot, before the other harts start: the transport
//                            (want "sbi", "sswi" or NULL for the best there is)
//   ipi_send(h, reason)      an IPI to hart h (h may be this hart); false when coalesced
//   ipi_interrupt()          from the trap handler: this hart took one
//   ipi_transport_name()     "sbi" or "sswi", for the boot log and the tests
//   ipi_flush_tlbs(mask)     every other online hart in mask flushes its TLB; returns
//                            when all have (TLB shootdowns, through the same IPIs)
//   ipi_wait_turn()          for a hart that waits for another with interrupts off
//                            (a spinlock): does the flushes asked of it, then naps
//                            briefly in wfi (see timer_nap: why not spin under icount)
//   ipi_run_on_all(fn, arg)  fn(arg) on every online hart at once, the caller's
//                            included; returns when all are done (boot-time tests)
//   ipi_run_pending_call()   from the idle loop: run a call this hart has not run yet
//   ipi_init_hart()          per hart, before it says it is online
#pragma once

#include "arch/hart.h"
#include "boot/platform.h"

enum ipi_reason {
    IPI_WAKE = 1 << 0,     // only end the target's wfi (bring-up, a finished call)
    IPI_CALL = 1 << 1,     // run the pending ipi_run_on_all() call
    IPI_RESCHED = 1 << 2,  // a thread was queued for it: look at the run queue (wakeup=ipi)
    IPI_TLB = 1 << 3,      // flush the TLB (h->tlb_asked says it is still to do)
    IPI_KICK = 1 << 4,     // only make the thread running there enter the kernel, where
                           // it sees it was killed (or that the server it runs in was)
};

void ipi_init(const struct platform *p, const char *want);
bool ipi_send(struct hart *h, enum ipi_reason reason);
void ipi_interrupt(void);
const char *ipi_transport_name(void);
void ipi_flush_tlbs(uint64_t mask);
void ipi_wait_turn(void);
void ipi_run_on_all(void (*fn)(void *arg), void *arg);
void ipi_run_pending_call(void);
void ipi_init_hart(void);
