// Closing notices, after Mach's no-senders notification. A server that hands out badged
// handles (a stream per open file, say) can ask, when it mints one, to be told when the
// last copy of that handle closes, however many copies were made and wherever they went
// (a process that dies closes its handles too). The notice arrives as a receive on the
// endpoint that returns IPC_NOTICE instead of 0, with w[0] = IPC_NOTICE_CLOSED and the
// badge (<abi/types.h>): no thread sends it, and no reply goes back. So a server learns
// that nobody can reach an object any more, and frees it.
//
// The handle minted with MINT_NOTIFY_CLOSED is marked (HANDLE_WATCHED, proc/object.h),
// and so is every copy made of it: by handle_dup, handle_give, or in a message, where it
// counts from the send until the receiver has its own. Only marked handles count, so
// other handles with the same badge (minted without the flag) do not matter. One badge
// of an endpoint is watched at a time.
//
// The server hears it soon, not at once: the notice is posted when the closing thread
// leaves the kernel, and a server with several threads may answer a request sent after
// the close before the thread that received the notice acts on it.
//
//   badge_watch(ep, badge)            start counting (at mint, before the handle exists):
//                                     0, E_EXIST while it is watched, E_LIMIT
//   badge_unwatch(ep, badge)          stop, while no handle is counted (a mint that failed)
//   badge_handles_changed(ep, b, d)   a marked handle with badge b was installed or sent
//                                     (+1), or closed or delivered (-1); any lock may be
//                                     held: the last -1 queues the notice on this hart
//   badges_post_pending()             posts one queued notice to its endpoint; false when
//                                     there was none. For kobj_reap(): no lock held.
//   badges_in_use()                   records watched or waiting as notices (leak checks)
//
// And, for ipc/endpoint.c, under ep->lock: its queue of notices not yet received.
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct endpoint;

#define NO_NOTICE (-1)  // an empty queue of notices

void badges_init(void);
long badge_watch(struct endpoint *ep, uint64_t badge);
void badge_unwatch(struct endpoint *ep, uint64_t badge);
void badge_handles_changed(struct endpoint *ep, uint64_t badge, int delta);
bool badges_post_pending(void);
uint64_t badges_in_use(void);

// The endpoint's side (ipc/endpoint.c). notice names a record of the table.
void endpoint_post_notice(struct endpoint *ep, int notice);  // caller holds no lock
void badge_notice_push(struct endpoint *ep, int notice);
uint64_t badge_notice_take(struct endpoint *ep, int notice);  // its badge; frees it
uint64_t badge_notice_pop(struct endpoint *ep);               // the first one's badge
void badge_notices_drop(struct endpoint *ep);
