// POSIX file descriptors, as libc_glue.c keeps them: each open descriptor is a stream
// handle (stream.h), or 0 for the kernel's debug console. read, write, lseek, close and
// open (through fs) work on them, and so do picolibc's fopen and fdopen. These two
// connect descriptors with the handles the servers deal in:
//
//   fd_handle(fd)   the stream behind fd (0: the debug console), or -1 (errno EBADF)
//   fd_adopt(h)     a new descriptor for the stream h, which it now owns (close(fd)
//                   closes h), or -1 (errno EMFILE)
#pragma once

#include <abi/types.h>

handle_t fd_handle(int fd);
int fd_adopt(handle_t h);
