// Inter-processor interrupts (see ipi.h): the two transports, coalescing, and running a
// function on every hart.
#include "dev/ipi.h"
#include "lib/assert.h"
#include "lib/console.h"
#include "lib/spinlock.h"
#include "lib/string.h"
#include "dev/timer.h"
#include "mm/memlayout.h"
#include "proc/sched.h"
#include "sbi/sbi.h"

static bool use_sswi;  // set once at boot, before the other harts start

// Points each hart at its SSWI register; false when the machine has none for one of them.
static bool find_sswi(const struct platform *p)
{
    if (!p->sswi_base)
        return false;
    for (int i = 0; i < nharts; i++) {
        const struct hart_info *info = platform_hart(p, harts[i].hartid);
        if (!info || info->sswi_index < 0)
            return false;
    }
    for (int i = 0; i < nharts; i++) {
        const struct hart_info *info = platform_hart(p, harts[i].hartid);
        harts[i].sswi = (volatile uint32_t *)P2V(p->sswi_base) + info->sswi_index;
    }
    return true;
}

void ipi_init(const struct platform *p, const char *want)
{
    bool sbi_asked = want && strcmp(want, "sbi") == 0;
    if (want && !sbi_asked && strcmp(want, "sswi") != 0) {
        printf("ipi: no transport ipi=%s (sbi or sswi); using the best there is\n", want);
    }
    // LAB 4 exercise 1 (part 1): use ACLINT SSWI when the machine has it and ipi=sbi
    // does not forbid it (find_sswi() says, and sets each hart's h->sswi).
#if SOL >= 4
    use_sswi = !sbi_asked && find_sswi(p);
#else
    (void)find_sswi;
    use_sswi = false;
#endif
    if (want && strcmp(want, "sswi") == 0 && !use_sswi)
        printf("ipi: ipi=sswi, but this machine has no ACLINT SSWI "
               "(QEMU: -machine virt,aclint=on); using SBI\n");
    printf("ipi: %s\n", use_sswi ? "sswi (ACLINT, no firmware call)" : "sbi (through OpenSBI)");
}

const char *ipi_transport_name(void)
{
    return use_sswi ? "sswi" : "sbi";
}

// Raises h's supervisor software interrupt.
static void raise(struct hart *h)
{
    if (h == this_hart()) {
        set_sip(SIP_SSIP);  // taken as soon as this hart's interrupts are on
        return;
    }
    // LAB 4 exercise 1 (part 2): with SSWI, raise it by writing 1 to h's register (h->sswi),
    // after a fence that orders this hart's memory writes (the run queue, h->ipi_pending)
    // before the device write: the target must find what it was woken for.
#if SOL >= 4
    if (use_sswi) {
        asm volatile("fence w, o" ::: "memory");
        *h->sswi = 1;
        return;
    }
#endif
    struct sbiret r = sbi_send_ipi(1, h->hartid);
    if (r.error)
        panic("ipi: SBI send_ipi to hart %lu: %s", (unsigned long)h->hartid, sbi_strerror(r.error));
}

bool ipi_send(struct hart *h, enum ipi_reason reason)
{
    push_off();  // this hart's counters, and this hart's SSIP when h is this hart
    struct hart *me = this_hart();
    // Acquire-release: what this hart wrote before (a queued thread) is seen by the target
    // once it reads its reasons; and a reason already pending means an IPI is on its way
    // that will find this one too.
    uint32_t pending = __atomic_fetch_or(&h->ipi_pending, reason, __ATOMIC_ACQ_REL);
    if (pending)
        me->ipis_coalesced++;
    else {
        me->ipis_sent++;
        if (me->tracing) {
            uint32_t flow = __atomic_fetch_add(&trace_flow_next, 1, __ATOMIC_RELAXED);
            __atomic_store_n(&h->trace_flow, flow, __ATOMIC_RELEASE);  // before the raise
            trace_on_hart(me, TRACE_IPI_SEND, (uint32_t)h->index | reason << 8, flow);
        }
        raise(h);
    }
    pop_off();
    return !pending;
}

// ---- TLB shootdowns ------------------------------------------------------------------
// A hart that changed a process's page table asks every other hart that ran it to flush
// its TLB, and waits until each has: only then may the pages unmapped be freed. The
// flush is the whole TLB (there are no ASIDs; a switch of address space flushes it all
// anyway). A hart asked flushes when it takes the IPI, and also while it waits for a
// lock (ipi_wait_turn): the asker may hold that lock, and a hart that waited for it with
// interrupts off, its flush undone, would wait for the asker forever.

#define NAP_TICKS 10  // time CSR ticks a waiting hart naps (1 us at QEMU's 10 MHz)

static void serve_tlb(struct hart *h)
{
    uint64_t asked = __atomic_load_n(&h->tlb_asked, __ATOMIC_ACQUIRE);
    if (asked == h->tlb_done)
        return;
    sfence_vma();  // after the acquire: the asker's page-table writes are seen
    __atomic_store_n(&h->tlb_done, asked, __ATOMIC_RELEASE);
}

void ipi_wait_turn(void)
{
    serve_tlb(this_hart());
    timer_nap(NAP_TICKS);
}

void ipi_flush_tlbs(uint64_t mask)
{
    push_off();
    struct hart *me = this_hart();
    uint64_t asked[MAX_HARTS];
    for (int i = 0; i < nharts; i++) {
        struct hart *h = &harts[i];
        asked[i] = 0;
        if (h == me || !(mask & h->mask) || !READ_ONCE(h->online))
            continue;
        asked[i] = __atomic_add_fetch(&h->tlb_asked, 1, __ATOMIC_ACQ_REL);
        ipi_send(h, IPI_TLB);
    }
    // Wait in wfi, not a spin (timer_nap says why); serve our own flushes meanwhile, as a
    // hart flushing ours may be waiting for us in the same way.
    for (int i = 0; i < nharts; i++)
        while (__atomic_load_n(&harts[i].tlb_done, __ATOMIC_ACQUIRE) < asked[i])
            ipi_wait_turn();
    pop_off();
}

void ipi_interrupt(void)
{
    struct hart *h = this_hart();
    // sip.SSIP first, the reasons after: a sender that adds a reason after this exchange
    // found none pending, so it raises SSIP again; one that added it before is read here.
    clear_sip(SIP_SSIP);
    // The flow id before the exchange: a sender writes one only after finding no reason
    // pending, so none can replace it between this read and the exchange.
    uint32_t flow = h->tracing ? __atomic_load_n(&h->trace_flow, __ATOMIC_ACQUIRE) : 0;
    uint32_t reasons = __atomic_exchange_n(&h->ipi_pending, 0, __ATOMIC_ACQ_REL);
    h->ipis++;
    trace_on_hart(h, TRACE_IPI_TAKE, reasons, flow);
    if (reasons & IPI_TLB)
        serve_tlb(h);
    // IPI_CALL runs in the idle loop, outside the interrupt handler; IPI_WAKE has done
    // its work by ending a wfi.
    if (reasons & IPI_RESCHED) {
        h->resched_ipis++;
        sched_ipi_resched();  // may switch threads: last
    }
}

// ---- running a function on every hart ------------------------------------------------
// One call at a time, issued by a thread pinned to its hart; the other harts pick it up
// in their idle loop when they see the generation change.

static struct {
    void (*fn)(void *arg);
    void *arg;
    struct hart *caller;
    uint64_t generation;  // bumped (release) once fn and arg are set
    int done;             // harts that finished this generation
} call;

void ipi_init_hart(void)
{
    // Calls made before this hart comes online are not its to run; any made after
    // it says so are. So this is read before the hart says it is online.
    this_hart()->call_seen = __atomic_load_n(&call.generation, __ATOMIC_ACQUIRE);
}

void ipi_run_pending_call(void)
{
    uint64_t *seen = &this_hart()->call_seen;
    uint64_t gen = __atomic_load_n(&call.generation, __ATOMIC_ACQUIRE);
    if (gen == *seen)
        return;
    *seen = gen;
    intr_on();  // the call may wait for ticks
    call.fn(call.arg);
    intr_off();
    __atomic_fetch_add(&call.done, 1, __ATOMIC_RELEASE);
    ipi_send(call.caller, IPI_WAKE);  // it waits in wfi for us
}

void ipi_run_on_all(void (*fn)(void *arg), void *arg)
{
    struct hart *me = this_hart();
    int others = 0;
    call.fn = fn;
    call.arg = arg;
    call.caller = me;
    __atomic_store_n(&call.done, 0, __ATOMIC_RELAXED);
    __atomic_fetch_add(&call.generation, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < nharts; i++) {
        if (&harts[i] != me && harts[i].online) {
            ipi_send(&harts[i], IPI_CALL);
            others++;
        }
    }
    fn(arg);
    // wfi rather than a spin (under -icount a spinning hart can keep the others from
    // running); interrupts must be on for the wakeup to be taken and cleared.
    assert(intr_get());
    while (__atomic_load_n(&call.done, __ATOMIC_ACQUIRE) < others)
        wfi();
}
