// The console server's protocol and client. con owns the UART; its endpoint is
// registered in ns as "con". A console stream is a handle to that endpoint with a
// non-zero badge, and serves the stream protocol (stream.h): reads return one line at a
// time, as the line editor hands them over; writes go straight to the UART ('\n' becomes
// "\r\n"); STREAM_STAT says STREAM_TYPE_CONSOLE; seeking is E_INVAL. Besides:
//
//   op                   request                       reply
//   CON_OPEN             -                             a console stream handle transferred
//                                                      (RIGHT_SEND | RIGHT_TRANSFER)
//   CON_SET_FOREGROUND   w[1] = a pm pid, 0 = nobody   -; ^C will kill that process
//   CON_GET_FOREGROUND   -                             w[1] = the foreground pid
//
// Both may be sent on the unbadged handle from ns or on any console stream.
//
// Client functions, each 0 or a negative E_*:
//
//   con_open(&h)               a new console stream
//   con_set_foreground(pid)    whom ^C kills (sh sets it around each foreground job)
//   con_foreground()           the current foreground pid, or a negative E_*
#pragma once

#include <abi/types.h>

#include "stream.h"

#define CON_OPEN           (STREAM_OP_USER + 0)
#define CON_SET_FOREGROUND (STREAM_OP_USER + 1)
#define CON_GET_FOREGROUND (STREAM_OP_USER + 2)

#define CON_STREAM_RIGHTS (RIGHT_SEND | RIGHT_TRANSFER)

long con_open(handle_t *out);
long con_set_foreground(long pid);
long con_foreground(void);

// The endpoint the calls use: "con" from ns unless set here (init, which makes con's
// endpoint, sets it).
void con_use(handle_t con);
