// Inter-processor interrupts (see ipi.h). Every IPI goes through SBI for now: the
// firmware writes the target hart's machine software interrupt and forwards it as a
// supervisor one (lab 4 adds ACLINT SSWI, which skips the firmware).
#include "dev/ipi.h"
#include "lib/assert.h"
#include "sbi/sbi.h"

void ipi_send(struct hart *h)
{
    struct sbiret r = sbi_send_ipi(1, h->hartid);
    if (r.error)
        panic("ipi: SBI send_ipi to hart %lu: %s", (unsigned long)h->hartid, sbi_strerror(r.error));
}

void ipi_interrupt(void)
{
    clear_sip(SIP_SSIP);
    this_hart()->ipis++;
    // A pending call runs in the idle loop, outside the interrupt handler.
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
    ipi_send(call.caller);  // it waits in wfi for us
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
            ipi_send(&harts[i]);
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
