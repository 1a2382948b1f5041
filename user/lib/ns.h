// The name server's protocol and client. ns maps names ("con", "pm", "fs", ...) to
// endpoints; every process but ns gets a send handle to ns's endpoint from its parent as
// startup handle STARTUP_H_NS.
//
//   op              request                               reply
//   NS_REGISTER     name in the buffer, the endpoint      -; the name now maps to it (a
//                   handle transferred                    name registered again is replaced:
//                                                         a restarted server takes it back)
//   NS_LOOKUP       name in the buffer                    a copy of the endpoint handle
//                                                         transferred; E_NOENT
//   NS_UNREGISTER   name in the buffer                    -; E_NOENT
//   NS_LIST         -                                     the names, each ending in '\n',
//                                                         in the buffer; w[1] = how many
//
// Names are 1..NS_NAME_MAX bytes of printable ASCII, sent without a '\0'. ns hands out
// what it was given, and NS_REGISTER gives it RIGHT_SEND | RIGHT_TRANSFER only: a lookup
// never yields the right to receive, nor to mint badges.
//
// Client functions, each 0 or a negative E_*:
//
//   ns_register(name, ep)                    ep itself stays the caller's
//   ns_lookup(name, &h)                      h is the caller's to close
//   ns_lookup_wait(name, timeout_ms, &h)     retries E_NOENT until timeout_ms has passed:
//                                            servers start concurrently with their clients
//   ns_unregister(name)
//   ns_list(buf, size, &count)               the NS_LIST buffer, cut to fit, '\0'-terminated
//
// A call that fails with E_DEAD (ns died while answering it) is tried again: init
// keeps ns's endpoint across restarts, so the same handle reaches the new ns.
#pragma once

#include <stddef.h>

#include <abi/types.h>

#include "stream.h"

#define NS_REGISTER   (STREAM_OP_USER + 0)
#define NS_LOOKUP     (STREAM_OP_USER + 1)
#define NS_UNREGISTER (STREAM_OP_USER + 2)
#define NS_LIST       (STREAM_OP_USER + 3)

#define NS_NAME_MAX 31
#define NS_RIGHTS   (RIGHT_SEND | RIGHT_TRANSFER)  // what a lookup hands out

long ns_register(const char *name, handle_t ep);
long ns_lookup(const char *name, handle_t *out);
long ns_lookup_wait(const char *name, int timeout_ms, handle_t *out);
long ns_unregister(const char *name);
long ns_list(char *buf, size_t size, int *count);

// The handle the calls use: startup handle STARTUP_H_NS unless set here (init, which
// makes ns's endpoint, has no such startup handle).
void ns_use(handle_t ns);
