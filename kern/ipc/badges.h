// Closing notices, after Mach's no-senders notification. A server that hands out badged
// handles (a stream per open file, say) can ask, when it mints one, to be told when the
// last handle carrying that badge closes, however many copies were made and whoever
// held them (a process that dies closes its handles too). The notice arrives as a
// receive on the endpoint that returns IPC_NOTICE instead of 0, with w[0] =
// IPC_NOTICE_CLOSED and the badge (<abi/types.h>): no thread sends it, and no reply goes
// back. So a server learns that nobody can reach an object any more, and frees it.
// It learns it soon, not at once: close returns as the notice is queued, and a server
// with several threads may answer a request sent after the close before the thread that
// received the notice acts on it. A handle on its way in a message counts as its
// sender's: if the sender closes its own copy meanwhile, the notice may come first.
//
//   badge_watch(ep, badge)            count the handles with this badge (at mint)
//   badge_unwatch(ep, badge)          stop, while none exists (a mint that failed)
//   badge_handles_changed(ep, b, d)   a handle with badge b was installed (+1) or
//                                     removed (-1): the last removal posts the notice
// And, for ipc/endpoint.c, under ep->lock: its queue of notices not yet received.
#pragma once

#include <stdint.h>

struct endpoint;

#define NO_NOTICE (-1)  // an empty queue of notices

void badges_init(void);
uint64_t badges_in_use(void);  // records watched or queued as notices, for leak checks
long badge_watch(struct endpoint *ep, uint64_t badge);  // 0, E_EXIST, E_LIMIT
void badge_unwatch(struct endpoint *ep, uint64_t badge);
void badge_handles_changed(struct endpoint *ep, uint64_t badge, int delta);

// The endpoint's side (ipc/endpoint.c). notice names a record of the table.
void endpoint_post_notice(struct endpoint *ep, int notice);  // caller holds no lock
void badge_notice_push(struct endpoint *ep, int notice);
uint64_t badge_notice_take(struct endpoint *ep, int notice);  // its badge; frees it
uint64_t badge_notice_pop(struct endpoint *ep);               // the first one's badge
void badge_notices_drop(struct endpoint *ep);
