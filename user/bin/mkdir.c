// mkdir: makes each directory named. Its parent must exist.
#include <stdio.h>

#include "fs.h"
#include "ulib.h"

int main(int argc, char *argv[])
{
    if (argc < 2) {
        fprintf(stderr, "usage: mkdir DIR...\n");
        return 1;
    }
    int status = 0;
    for (int i = 1; i < argc; i++) {
        long err = fs_mkdir(argv[i]);
        if (err < 0) {
            fprintf(stderr, "mkdir: %s: %s\n", argv[i],
                    err == E_EXIST   ? "already exists"
                    : err == E_NOENT ? "no such parent directory"
                    : err == E_PERM  ? "read-only"
                                     : abi_strerror(err));
            status = 1;
        }
    }
    return status;
}
