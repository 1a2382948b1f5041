#include "mm/failalloc.h"

#include "boot/bootargs.h"
#include "lib/console.h"
#include "lib/string.h"
#include "proc/process.h"
#include "proc/thread.h"

extern struct bootargs bootargs;

static struct {
    bool on;
    bool random;
    uint64_t every;  // N of failalloc=N
    uint64_t seed;
    const char *only;             // failin=NAME, or NULL for every process
    uint64_t made;                // atomic: allocations seen for injected processes
    uint64_t failed[FAIL_SITES];  // atomic
} inject;

static const char *const site_names[FAIL_SITES] = {
    [FAIL_PAGE] = "pages",         [FAIL_THREAD] = "threads",      [FAIL_PROCESS] = "processes",
    [FAIL_ENDPOINT] = "endpoints", [FAIL_BADGE] = "badge records",
};

void failalloc_init(void)
{
    uint64_t every;
    if (!bootargs_number(&bootargs, "failalloc", &every) || every == 0)
        return;
    inject.every = every;
    inject.random = bootargs_number(&bootargs, "failseed", &inject.seed);
    inject.only = bootargs_get(&bootargs, "failin");
    const char *who = inject.only ? inject.only : "every process but init";
    if (inject.random)
        printf("failalloc: 1 in %lu allocations fail (seed %lu), for %s%s\n", (unsigned long)every,
               (unsigned long)inject.seed, inject.only ? "processes named " : "", who);
    else
        printf("failalloc: one in every %lu allocations fails, for %s%s\n", (unsigned long)every,
               inject.only ? "processes named " : "", who);
    __atomic_store_n(&inject.on, true, __ATOMIC_RELEASE);
}

bool failalloc_injects(const char *name, const struct process *creator)
{
    if (!__atomic_load_n(&inject.on, __ATOMIC_ACQUIRE))
        return false;
    if (creator && creator->fail_injected)
        return true;
    return inject.only ? strcmp(name, inject.only) == 0 : creator != NULL;
}

// splitmix64's finalizer: allocation number n of seed s, well mixed.
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

bool failalloc_now(enum fail_site site)
{
    if (!__atomic_load_n(&inject.on, __ATOMIC_RELAXED))
        return false;
    struct thread *t = thread_current();
    if (!t || !t->process || !t->process->fail_injected)
        return false;
    uint64_t n = __atomic_add_fetch(&inject.made, 1, __ATOMIC_RELAXED);
    bool fail =
        inject.random ? mix(inject.seed ^ mix(n)) % inject.every == 0 : n % inject.every == 0;
    if (fail)
        __atomic_add_fetch(&inject.failed[site], 1, __ATOMIC_RELAXED);
    return fail;
}

void failalloc_report(void)
{
    if (!__atomic_load_n(&inject.on, __ATOMIC_ACQUIRE))
        return;
    uint64_t total = 0;
    for (int i = 0; i < FAIL_SITES; i++)
        total += __atomic_load_n(&inject.failed[i], __ATOMIC_RELAXED);
    printf("failalloc: %lu of %lu allocations failed on purpose (", (unsigned long)total,
           (unsigned long)__atomic_load_n(&inject.made, __ATOMIC_RELAXED));
    for (int i = 0; i < FAIL_SITES; i++)
        printf("%s%s %lu", i ? ", " : "", site_names[i],
               (unsigned long)__atomic_load_n(&inject.failed[i], __ATOMIC_RELAXED));
    printf(")\n");
}
