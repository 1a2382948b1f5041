// ls: lists each directory named (the current one with no arguments), one name per line,
// with '/' after the names of directories; a file named is listed as itself. With -l,
// each name follows its size in bytes.
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"
#include "ulib.h"

static bool long_form;

static void show(const char *name, uint64_t size, uint32_t type)
{
    if (long_form)
        printf("%8lu ", (unsigned long)size);
    printf("%s%s\n", name, type == STREAM_TYPE_DIR ? "/" : "");
}

static int list(const char *path)
{
    struct stream_stat st;
    long err = fs_stat(path, &st);
    if (err < 0) {
        fprintf(stderr, "ls: %s: %s\n", path,
                err == E_NOENT ? "no such file or directory" : abi_strerror(err));
        return 1;
    }
    if (st.type != STREAM_TYPE_DIR) {
        show(path, st.size, st.type);
        return 0;
    }
    struct fs_dirent ent;
    for (uint64_t i = 0; (err = fs_readdir(path, i, &ent)) == 1; i++)
        show(ent.name, ent.size, ent.type);
    if (err < 0) {
        fprintf(stderr, "ls: %s: %s\n", path, abi_strerror(err));
        return 1;
    }
    return 0;
}

int main(int argc, char *argv[])
{
    int first = 1;
    if (argc > 1 && strcmp(argv[1], "-l") == 0) {
        long_form = true;
        first = 2;
    }
    if (first >= argc)
        return list(fs_cwd());
    int status = 0;
    for (int i = first; i < argc; i++) {
        if (argc - first > 1)
            printf("%s%s:\n", i > first ? "\n" : "", argv[i]);
        status |= list(argv[i]);
    }
    return status;
}
