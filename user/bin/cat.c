// cat: copies each file named (or stdin, with no arguments or for "-") to stdout.
// It reads and writes the streams directly rather than through stdio, so that a write
// that fails (the reader of a pipe has gone: E_CLOSED) stops it at once.
#include <stdio.h>
#include <string.h>

#include "fs.h"
#include "stream.h"
#include "ulib.h"

static char buf[IPC_BUF_MAX];

// Copies in to out until end of file; 0, or 1 after saying what failed.
static int copy(handle_t in, handle_t out, const char *name)
{
    for (;;) {
        long n = stream_read(in, buf, sizeof(buf));
        if (n == 0)
            return 0;
        if (n < 0) {
            fprintf(stderr, "cat: %s: %s\n", name, abi_strerror(n));
            return 1;
        }
        long w = stream_write(out, buf, (size_t)n);
        if (w != n)
            return 1;  // stdout is gone: nobody to tell
    }
}

int main(int argc, char *argv[])
{
    handle_t out = startup_handle(STARTUP_H_STDOUT);
    handle_t in = startup_handle(STARTUP_H_STDIN);
    if (!out) {
        fprintf(stderr, "cat: no stdout\n");
        return 1;
    }
    if (argc < 2)
        return copy(in, out, "stdin");
    int status = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0) {
            status |= copy(in, out, "stdin");
            continue;
        }
        handle_t h;
        long err = fs_open(argv[i], O_RDONLY, &h);
        if (err < 0) {
            fprintf(stderr, "cat: %s: %s\n", argv[i],
                    err == E_NOENT   ? "no such file"
                    : err == E_INVAL ? "is a directory"
                                     : abi_strerror(err));
            status = 1;
            continue;
        }
        status |= copy(h, out, argv[i]);
        stream_close(h);
    }
    return status;
}
