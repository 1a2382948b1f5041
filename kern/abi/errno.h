// Error codes: every system call returns a value >= 0 or one of these.
// Shared by the kernel and user programs (user code includes <abi/errno.h>).
#pragma once

#define E_OK        0
#define E_INVAL     -1   // an argument or flag is not allowed
#define E_BADHANDLE -2   // no such handle, or a handle to the wrong kind of object
#define E_RIGHTS    -3   // the handle lacks a right the call needs
#define E_FAULT     -4   // a pointer or range is not mapped (or not writable) in user space
#define E_NOMEM     -5   // out of memory
#define E_NOENT     -6   // no such thing (name, file, mapping)
#define E_EXIST     -7   // already there (a page already mapped)
#define E_RANGE     -8   // an address or length outside user space, or misaligned
#define E_BUSY      -9   // in use
#define E_DEAD      -10  // the other side is gone (a process, a server)
#define E_TOOBIG    -11  // a length over the limit
#define E_AGAIN     -12  // a non-blocking call would block
#define E_CLOSED    -13  // the object was closed while waiting
#define E_PERM      -14  // not allowed for this caller
#define E_NOSYS     -15  // no such system call
#define E_LIMIT     -16  // a table is full (handles, threads)
#define E_DEADLK    -17  // the call would wait for itself (joining oneself)

#define E_MAX_ERRNO 17

#ifndef __ASSEMBLER__
// A name for an error code, for messages: "E_FAULT".
static inline const char *abi_strerror(long e)
{
    static const char *const names[] = {
        "E_OK",    "E_INVAL",  "E_BADHANDLE", "E_RIGHTS", "E_FAULT", "E_NOMEM",
        "E_NOENT", "E_EXIST",  "E_RANGE",     "E_BUSY",   "E_DEAD",  "E_TOOBIG",
        "E_AGAIN", "E_CLOSED", "E_PERM",      "E_NOSYS",  "E_LIMIT", "E_DEADLK",
    };
    return e <= 0 && -e <= E_MAX_ERRNO ? names[-e] : "E_?";
}
#endif
