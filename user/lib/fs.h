// The file server's protocol and client. fs (user/servers/fs.c) serves one tree:
//
//   /bin/<name>   the boot archive's files, read-only (the programs: /bin/sh, /bin/ls...)
//   everything else   a writable tree in fs's memory (/tmp is there at boot), lost at
//                     power-off
//
// Its endpoint is registered in ns as "fs". Requests on that (unbadged) handle name a
// path in the buffer: absolute, normalised (no ".", "..", "//" or trailing '/'), at most
// FS_PATH_MAX bytes, sent without a '\0'. The reply has w[0] = 0 or a negative E_*:
//
//   op          request                      reply
//   FS_OPEN     w[1] = O_* flags (fcntl.h)   an open-file stream handle transferred
//   FS_STAT     -                            w[1] = size, w[2] = STREAM_TYPE_FILE or _DIR
//   FS_READDIR  w[1] = index (0, 1, ...)     the index-th name in the buffer, w[1] = its
//                                            size, w[2] = its type; w[2] = 0 past the end
//   FS_MKDIR    -                            -; E_EXIST
//   FS_UNLINK   -                            -; a file, or an empty directory (else E_BUSY)
//   FS_PIPE     (no path)                    the read end of a new pipe transferred
//
// An open file or pipe end is a stream (stream.h) whose badge names it in fs. Besides
// the stream operations, the read end of a pipe answers
//
//   FS_PIPE_PEER  -                          its write end transferred (once per pipe)
//
// so that FS_PIPE, whose reply carries one handle, can hand out both. A pipe read waits
// for data, or returns 0 (end of file) once every write end is closed; a write waits for
// room, and fails with E_CLOSED once every read end is closed. An end is closed when the
// last copy of its handle is, in whichever process held it (fs mints each stream with
// MINT_NOTIFY_CLOSED and is told): so, as in POSIX, a parent may give a child a pipe end
// and close its own. fs hears of a last close a moment after it, not before it returns:
// a write racing the close of the last read end may still succeed.
//
// Client side, each 0 (or a count) or a negative E_*:
//
//   fs_resolve(path, out, size)      path made absolute against the cwd, normalised
//   fs_cwd()                         the current directory: at start the one the
//                                    spawner gave (startup's cwd), else "/"
//   fs_chdir(path)                   sets it, after checking it is a directory
//   fs_open(path, flags, &h)         a stream (read and write it with stream.h)
//   fs_stat(path, &st)
//   fs_readdir(path, index, &ent)    1 with an entry, 0 past the last one
//   fs_mkdir(path), fs_unlink(path)
//   fs_pipe(&r, &w)                  a pipe's two ends
//
// Paths given to the client may be relative: each function resolves them first.
#pragma once

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>

#include <abi/types.h>

#include "stream.h"

#define FS_OPEN      (STREAM_OP_USER + 0)
#define FS_STAT      (STREAM_OP_USER + 1)
#define FS_READDIR   (STREAM_OP_USER + 2)
#define FS_MKDIR     (STREAM_OP_USER + 3)
#define FS_UNLINK    (STREAM_OP_USER + 4)
#define FS_PIPE      (STREAM_OP_USER + 5)
#define FS_PIPE_PEER (STREAM_OP_USER + 6)

#define FS_PATH_MAX 255  // bytes in a path, without the '\0'
#define FS_NAME_MAX 59   // bytes in one component

// What fs gives with an open file or pipe end: enough to use it and pass it on.
#define FS_STREAM_RIGHTS (RIGHT_SEND | RIGHT_TRANSFER | RIGHT_DUP)

struct fs_dirent {
    char name[FS_NAME_MAX + 1];
    uint64_t size;
    uint32_t type;  // STREAM_TYPE_FILE or STREAM_TYPE_DIR
};

long fs_resolve(const char *path, char *out, size_t size);
const char *fs_cwd(void);
long fs_chdir(const char *path);

long fs_open(const char *path, int flags, handle_t *out);
long fs_stat(const char *path, struct stream_stat *st);
long fs_readdir(const char *path, uint64_t index, struct fs_dirent *ent);
long fs_mkdir(const char *path);
long fs_unlink(const char *path);
long fs_pipe(handle_t *read_end, handle_t *write_end);

// Sets the current directory without asking fs, from the startup block (start.c calls
// it before main): NULL means "/"; else path must be absolute and at most FS_PATH_MAX
// bytes, and is normalised. Otherwise the directory is "/" and the result E_INVAL.
long fs_cwd_init(const char *path);

// The pure part of fs_resolve, for any directory: cwd must be absolute and normalised.
// E_INVAL for an empty path or an empty cwd, E_TOOBIG when the result does not fit.
long fs_path_join(const char *cwd, const char *path, char *out, size_t size);

// The endpoint the calls use: "fs" from ns unless set here.
void fs_use(handle_t fs);
