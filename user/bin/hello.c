// The smallest real program: prints `hello from <its arguments>` with printf, uses
// malloc and free, and exits 0. With -q it prints nothing, for usertests' spawn_cycles.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char *argv[])
{
    int quiet = argc > 1 && strcmp(argv[1], "-q") == 0;

    // Join the arguments in a heap buffer, so every run exercises malloc and free.
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *line = malloc(len);
    if (!line) {
        printf("hello: out of memory\n");
        return 1;
    }
    line[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(line, " ");
        strcat(line, argv[i]);
    }
    if (!quiet)
        printf("hello from %s\n", line);
    free(line);
    return 0;
}
