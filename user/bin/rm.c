// rm: removes each file, or empty directory, named.
#include <stdio.h>

#include "fs.h"
#include "ulib.h"

int main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: rm PATH...\n");
        return 1;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        long err = fs_unlink(argv[i]);
        if (err < 0) {
            fprintf(stderr, "rm: %s: %s\n", argv[i],
                    err == E_NOENT  ? "no such file or directory"
                    : err == E_BUSY ? "directory not empty"
                    : err == E_PERM ? "read-only"
                                    : abi_strerror(err));
            status = 1;
        }
    }
    return status;
}
