// Streams: the one protocol for everything file-like (the console, files, pipes).
//
// A stream is a handle to a server's endpoint whose badge names the open object: the
// server reads m.badge to know which file, pipe end or console a request is about. The
// operation is in w[0]; the server's reply has w[0] = 0 or a negative E_*, and the
// results in w[1], w[2]:
//
//   op            request                           reply
//   STREAM_READ   w[1] = most bytes wanted          w[1] = count (0: end of file), the
//                 (at most IPC_BUF_MAX)             bytes in the reply's buffer
//   STREAM_WRITE  the bytes in the buffer           w[1] = count written
//   STREAM_SEEK   w[1] = offset, w[2] = whence      w[1] = the new offset
//   STREAM_STAT   -                                 w[1] = size, w[2] = STREAM_TYPE_*
//
// Operation numbers 1..15 belong to this protocol; a server's own operations (CON_OPEN,
// FS_..., ...) start at STREAM_OP_USER, so one endpoint can serve both.
//
// Client side, each returning a count or 0, else a negative E_*:
//
//   stream_read(h, buf, n)         at most min(n, IPC_BUF_MAX) bytes: one request, and
//                                  like read(2) it may return fewer; 0 at end of file
//   stream_write(h, buf, n)        all n bytes, in as many requests as it takes
//   stream_seek(h, off, whence)    the new offset
//   stream_close(h)                closes this handle: the stream ends once every copy of it
//                                  is closed (the server hears it from the kernel)
//   stream_stat(h, &st)            size and type
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <abi/types.h>

#define STREAM_READ    1
#define STREAM_WRITE   2
#define STREAM_SEEK    3
// 4 was STREAM_CLOSE, when any holder could end a stream for every holder: a stream now
// ends when its last handle closes (MINT_NOTIFY_CLOSED, <abi/types.h>).
#define STREAM_STAT    5
#define STREAM_OP_USER 16  // the first operation number a server may use for its own

// whence for STREAM_SEEK (the values of SEEK_SET, SEEK_CUR, SEEK_END)
#define STREAM_SEEK_SET 0
#define STREAM_SEEK_CUR 1
#define STREAM_SEEK_END 2

// What STREAM_STAT says a stream is.
#define STREAM_TYPE_FILE    1
#define STREAM_TYPE_DIR     2
#define STREAM_TYPE_CONSOLE 3
#define STREAM_TYPE_PIPE    4

struct stream_stat {
    uint64_t size;  // bytes, for a file; 0 where it means nothing
    uint32_t type;  // STREAM_TYPE_*
};

long stream_read(handle_t h, void *buf, size_t n);
long stream_write(handle_t h, const void *buf, size_t n);
long stream_seek(handle_t h, int64_t offset, int whence);
long stream_close(handle_t h);
long stream_stat(handle_t h, struct stream_stat *st);
