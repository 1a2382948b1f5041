// The periodic timer (see timer.h).
#include "dev/timer.h"
#include "arch/hart.h"
#include "lib/types.h"
#include "sbi/sbi.h"

static uint64_t timebase;  // time CSR ticks per second, from the device tree
static uint64_t interval;  // time CSR ticks between timer interrupts

void timer_init(uint64_t timebase_hz)
{
    timebase = timebase_hz;
    interval = timebase_hz / TICK_HZ;
    if (interval == 0)
        interval = 1;
}

uint64_t timer_now(void)
{
    return r_time();
}

uint64_t timer_ms_to_ticks(uint64_t ms)
{
    return ms * timebase / 1000;
}

uint64_t timer_ns_to_ticks(uint64_t ns)
{
    // Split to avoid overflow: ns * timebase overflows past about 30 minutes.
    return ns / 1000000000 * timebase + ns % 1000000000 * timebase / 1000000000;
}

uint64_t timer_ticks_to_ns(uint64_t ticks)
{
    return ticks / timebase * 1000000000 + ticks % timebase * 1000000000 / timebase;
}

// The hart's timer interrupt comes at the earlier of its next periodic tick and the
// earliest timed sleeper's wake time, so a sleep ends on time, not at the next tick.
static void timer_arm(struct hart *h)
{
    uint64_t when = MIN(h->next_tick, h->next_wake);
    if (h->sstc)
        w_stimecmp(when);
    else
        sbi_set_timer(when);
}

// Harts tick out of phase, hart i at i/nharts of an interval after hart 0 (Linux's
// skew_tick). An idle hart looks for work just after its tick; had the ticks been in
// phase, each look would meet a busy hart's tick-time preemption, when the thread it
// preempts is between queues, and find nothing to steal tick after tick (schedcheck
// caught that at 2 harts, about one boot in fifty).
static uint64_t first_tick(struct hart *h, uint64_t now)
{
    uint64_t phase = interval * (uint64_t)h->index / (uint64_t)(nharts > 0 ? nharts : 1);
    uint64_t tick = now - now % interval + phase;
    return tick > now ? tick : tick + interval;
}

void timer_init_hart(void)
{
    struct hart *h = this_hart();
    h->next_tick = first_tick(h, r_time());
    h->next_wake = UINT64_MAX;
    timer_arm(h);
    w_sie(r_sie() | SIE_STIE);
}

void timer_nap(uint64_t ticks)
{
    struct hart *h = this_hart();
    if (h->next_tick == 0)
        return;  // before this hart's timer is set up: nothing would end the wfi
    uint64_t until = r_time() + ticks;
    if (until < MIN(h->next_tick, h->next_wake)) {
        if (h->sstc)
            w_stimecmp(until);
        else
            sbi_set_timer(until);
    }
    wfi();         // ends at until, or sooner if another interrupt is pending
    timer_arm(h);  // back to the real deadline; a nap's expiry leaves nothing pending
}

void timer_wake_at(uint64_t when)
{
    struct hart *h = this_hart();
    h->next_wake = when;
    timer_arm(h);
}

// An interrupt taken late was held off: by a path running with interrupts off (a lock
// held), or by the host not running this hart. Only what was due once the system
// runs counts: booting holds interrupts off by design.
static uint64_t late_from = UINT64_MAX;

void timer_measure_lateness(void)
{
    __atomic_store_n(&late_from, r_time(), __ATOMIC_RELAXED);
}

uint64_t timer_lateness_max_ns(void)
{
    uint64_t most = 0;
    for (int i = 0; i < nharts; i++)
        most = MAX(most, READ_ONCE(harts[i].timer_late_max));
    return timer_ticks_to_ns(most);
}

static void note_lateness(struct hart *h, uint64_t now)
{
    uint64_t due = MIN(h->next_tick, h->next_wake);
    if (due >= __atomic_load_n(&late_from, __ATOMIC_RELAXED) && now > due &&
        now - due > h->timer_late_max)
        h->timer_late_max = now - due;
}

bool timer_interrupt(void)
{
    struct hart *h = this_hart();
    uint64_t now = r_time();
    note_lateness(h, now);
    bool tick = now >= h->next_tick;
    if (tick) {
        h->ticks++;
        // Ticks missed while interrupts were off are skipped, not replayed; the hart
        // keeps its phase (first_tick).
        uint64_t next = h->next_tick + interval;
        if (next <= now)
            next += (now - next) / interval * interval + interval;
        h->next_tick = next;
    }
    timer_arm(h);
    return tick;
}
