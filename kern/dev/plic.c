// The PLIC (see plic.h). Every line gets priority 1 when enabled, and every hart's
// threshold is 0, so any enabled line interrupts any hart; the one that claims it
// first handles it.
#include "dev/plic.h"
#include "arch/hart.h"
#include "mm/memlayout.h"

#define PRIORITY(line)    (4 * (line))
#define ENABLE(ctx, line) (0x2000 + 0x80 * (ctx) + 4 * ((line) / 32))
#define THRESHOLD(ctx)    (0x200000 + 0x1000 * (ctx))
#define CLAIM(ctx)        (0x200004 + 0x1000 * (ctx))

static volatile uint8_t *plic;
static uint32_t ndev;

static volatile uint32_t *reg(uint64_t offset)
{
    return (volatile uint32_t *)(plic + offset);
}

void plic_init(const struct platform *p)
{
    if (!p->plic_base)
        return;
    plic = P2V(p->plic_base);
    ndev = p->plic_ndev;
    for (uint32_t line = 1; line <= ndev; line++)
        *reg(PRIORITY(line)) = 0;  // 0: never interrupts
}

void plic_init_hart(void)
{
    struct hart *h = this_hart();
    if (!plic || h->plic_context < 0)
        return;
    *reg(THRESHOLD(h->plic_context)) = 0;
    w_sie(r_sie() | SIE_SEIE);
}

void plic_enable(uint32_t line)
{
    if (!plic || line == 0 || line > ndev)
        return;
    *reg(PRIORITY(line)) = 1;
    for (int i = 0; i < nharts; i++) {
        int ctx = harts[i].plic_context;
        if (ctx >= 0)
            *reg(ENABLE(ctx, line)) |= 1u << (line % 32);
    }
}

uint32_t plic_claim(int *context)
{
    int ctx = this_hart()->plic_context;
    *context = ctx;
    if (!plic || ctx < 0)
        return 0;
    return *reg(CLAIM(ctx));
}

void plic_complete(int context, uint32_t line)
{
    if (plic && context >= 0)
        *reg(CLAIM(context)) = line;
}

uint32_t plic_lines(void)
{
    return ndev;
}
