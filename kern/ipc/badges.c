// Closing notices (see badges.h): a count of the marked handles of each watched badge,
// and the notice an endpoint gets when a count falls to zero.
//
// Records live in a fixed table and go through four places:
//   free        on the free list (badges_lock)
//   watched     in a bucket chain by (endpoint, badge) (badges_lock), counting
//   pending     the count fell to zero: on the hart's list of notices to post (that hart,
//               interrupts off), holding a reference to the endpoint; the fall may happen
//               under any lock, even the endpoint's, so posting waits for kobj_reap()
//   queued      on the endpoint's queue (ep->lock) until a receiver takes it, or the
//               endpoint closes; then it is free again
// An endpoint may have at most PER_ENDPOINT records, so a server that never receives
// its notices runs out of its own, not everyone's.
#include "ipc/badges.h"
#include "abi/errno.h"
#include "arch/hart.h"
#include "ipc/endpoint.h"
#include "lib/assert.h"
#include "mm/failalloc.h"

#define NBADGE       4096
#define NBUCKET      1024  // a power of two
#define PER_ENDPOINT (NBADGE / 8)
#define NONE         NO_NOTICE

struct badge_rec {
    struct endpoint *ep;  // NULL: free
    uint64_t badge;
    uint32_t handles;  // marked handles, and those in messages (badges_lock)
    int next;          // the link of the place it is in (see above)
};

static struct badge_rec recs[NBADGE];
static int buckets[NBUCKET];
static int free_head;
static uint64_t in_use;  // badges_lock
static struct spinlock badges_lock = SPINLOCK_INIT("badges", RANK_BADGES);

void badges_init(void)
{
    for (int i = 0; i < NBUCKET; i++)
        buckets[i] = NONE;
    for (int i = 0; i < NBADGE; i++)
        recs[i].next = i + 1 < NBADGE ? i + 1 : NONE;
    free_head = 0;
}

uint64_t badges_in_use(void)
{
    return __atomic_load_n(&in_use, __ATOMIC_RELAXED);
}

static int *bucket_of(const struct endpoint *ep, uint64_t badge)
{
    uint64_t h = ((uintptr_t)ep >> 7) * 0x9e3779b97f4a7c15ULL ^ badge;
    return &buckets[(h ^ (h >> 29)) & (NBUCKET - 1)];
}

// The link that points at (ep, badge)'s record, or at NONE. Caller holds badges_lock.
static int *find(const struct endpoint *ep, uint64_t badge)
{
    assert(holding(&badges_lock));
    int *link = bucket_of(ep, badge);
    while (*link != NONE && (recs[*link].ep != ep || recs[*link].badge != badge))
        link = &recs[*link].next;
    return link;
}

// Takes the record *link points at out of its bucket; returns its index.
static int unlink_rec(int *link)
{
    int i = *link;
    *link = recs[i].next;
    return i;
}

static void free_rec(int i)
{
    assert(holding(&badges_lock));
    in_use--;
    recs[i].ep->badge_records--;
    recs[i].ep = NULL;
    recs[i].next = free_head;
    free_head = i;
}

long badge_watch(struct endpoint *ep, uint64_t badge)
{
    bool injected = failalloc_now(FAIL_BADGE);
    spin_lock(&badges_lock);
    int *link = find(ep, badge);
    long err = *link != NONE                       ? E_EXIST
               : free_head == NONE || injected     ? E_LIMIT
               : ep->badge_records >= PER_ENDPOINT ? E_LIMIT
                                                   : 0;
    if (!err) {
        int i = free_head;
        free_head = recs[i].next;
        in_use++;
        ep->badge_records++;
        recs[i] = (struct badge_rec){ .ep = ep, .badge = badge, .handles = 0, .next = *link };
        *link = i;
    }
    spin_unlock(&badges_lock);
    return err;
}

void badge_unwatch(struct endpoint *ep, uint64_t badge)
{
    spin_lock(&badges_lock);
    int *link = find(ep, badge);
    if (*link != NONE && recs[*link].handles == 0)
        free_rec(unlink_rec(link));
    spin_unlock(&badges_lock);
}

void badge_handles_changed(struct endpoint *ep, uint64_t badge, int delta)
{
    spin_lock(&badges_lock);
    int *link = find(ep, badge);
    assert(*link != NONE);  // a marked handle exists only while its badge is watched
    struct badge_rec *r = &recs[*link];
    assert(delta > 0 || r->handles > 0);
    r->handles += delta;
    if (r->handles == 0 && delta < 0) {
        int i = unlink_rec(link);
        kobj_get(&ep->obj);            // the caller still holds one: the handle's, or the message's
        struct hart *h = this_hart();  // interrupts are off: badges_lock is held
        recs[i].next = (int)h->notices - 1;
        h->notices = (uint32_t)i + 1;
    }
    spin_unlock(&badges_lock);
}

bool badges_post_pending(void)
{
    push_off();
    struct hart *h = this_hart();
    int i = (int)h->notices - 1;
    if (i != NONE)
        h->notices = (uint32_t)(recs[i].next + 1);
    pop_off();
    if (i == NONE)
        return false;
    struct endpoint *ep = recs[i].ep;
    endpoint_post_notice(ep, i);
    kobj_put(&ep->obj);
    return true;
}

// ---- an endpoint's queue of notices (caller holds ep->lock) -------------------------

void badge_notice_push(struct endpoint *ep, int notice)
{
    assert(holding(&ep->lock));
    recs[notice].next = NONE;
    if (ep->notices == NONE)
        ep->notices = notice;
    else
        recs[ep->notices_tail].next = notice;
    ep->notices_tail = notice;
}

uint64_t badge_notice_take(struct endpoint *ep, int notice)
{
    assert(holding(&ep->lock));
    uint64_t badge = recs[notice].badge;
    spin_lock(&badges_lock);
    free_rec(notice);
    spin_unlock(&badges_lock);
    return badge;
}

uint64_t badge_notice_pop(struct endpoint *ep)
{
    assert(holding(&ep->lock) && ep->notices != NONE);
    int notice = ep->notices;
    ep->notices = recs[notice].next;
    return badge_notice_take(ep, notice);
}

void badge_notices_drop(struct endpoint *ep)
{
    while (ep->notices != NONE)
        badge_notice_pop(ep);
}
