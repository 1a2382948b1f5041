// Starting a program in a new process, the user-level loader:
//
//   spawn(elf, size, name, argv, give, ngive, &proc)      from an ELF image in our memory
//   spawn_from_bootfs(path, argv, give, ngive, &proc)     from a file of the boot archive
//   spawn_in(cwd, elf, ...), spawn_from_bootfs_in(cwd, path, ...)
//                                                         the same, in directory cwd
//
// The child gets each PT_LOAD segment with its own protection, a STACK_SIZE main stack
// under USER_STACK_TOP, and at the top of that stack its struct startup (abi/types.h), the
// argv pointer array, its current directory and the strings; its first thread starts at
// the ELF entry with a0 = the startup block and sp just below it (what crt0.S expects).
// spawn and spawn_from_bootfs start the child in our own directory (fs_cwd()); the _in
// variants in cwd, which must be absolute (it is normalised; NULL means "/"), for a
// spawner working for someone else, as pm does. give[i] is handed over
// with sys_handle_give (keeping whatever rights it has) and appears in the child as
// startup.handles[i]; a give[i] of 0 leaves that slot empty. argv may be NULL (no
// arguments). On success *proc is the child's process handle, to wait for and close.
#pragma once

#include <stdint.h>

#include <abi/types.h>

#define SPAWN_ARGS_MAX (16 * 1024)  // bytes for the startup block, argv and its strings

// Returns 0, or a negative E_*: E_INVAL for a bad ELF image, ngive out of
// [0, STARTUP_MAX_HANDLES] or a cwd that is not absolute or longer than FS_PATH_MAX,
// E_TOOBIG for arguments over SPAWN_ARGS_MAX, or the error of the system call that
// failed. On failure no child is left behind.
long spawn(const void *elf, uint64_t size, const char *name, char *const argv[],
           const handle_t *give, int ngive, handle_t *proc);
long spawn_in(const char *cwd, const void *elf, uint64_t size, const char *name, char *const argv[],
              const handle_t *give, int ngive, handle_t *proc);

// spawn() of the boot archive's file at path; the process is named after the path's last
// component. Also fails as bootfs_find() does.
long spawn_from_bootfs(const char *path, char *const argv[], const handle_t *give, int ngive,
                       handle_t *proc);
long spawn_from_bootfs_in(const char *cwd, const char *path, char *const argv[],
                          const handle_t *give, int ngive, handle_t *proc);
