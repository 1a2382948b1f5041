// sh: the shell, in the spirit of xv6's. It reads a line, splits it into jobs at ';' and
// '&', each job into commands at '|', and runs them:
//
//   echo hi; ls /bin        one job after the other
//   spin &                  a background job: the prompt comes back at once
//   cat < in > out          redirection ('>>' appends)
//   ls /bin | cat | cat     a pipeline: fs's pipes between the commands
//   cd DIR, exit [N]        builtins ('cd' sets the shell's own directory, see fs.h)
//   'a b' "c d"             quotes keep spaces in one word
//
// A program is a file of /bin (the boot archive): pm starts it with the stream handles
// this shell chose for its stdin, stdout and stderr. Files and pipe ends the shell opens
// for a command are copied into it, and the shell closes its own copies once it started:
// fs hears when the last copy of a stream closes (MINT_NOTIFY_CLOSED, <abi/types.h>), so
// a pipe's reader sees end of file when its writer exits or dies, and a writer whose
// reader died gets E_CLOSED. A waiter thread per process collects its status, because pm
// waits for one pid at a time and a pipeline's processes end in any order.
//
// A foreground job's last process is named to con, so ^C kills it; the others of the job
// are then killed too. With `sh -c LINE` the shell runs LINE and exits with its status.
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "con.h"
#include "fs.h"
#include "pm.h"
#include "stream.h"
#include "ulib.h"
#include "uthread.h"

#define LINE_MAX         1024
#define TOKENS_MAX       128
#define ARGS_MAX         (PM_ARGV_MAX - 1)
#define CMDS_MAX         8  // commands in one pipeline
#define WAITER_STACK     (8 * 1024)
#define STATUS_NOT_FOUND 127  // a command that could not start, as POSIX shells say

// ---- errors ---------------------------------------------------------------------------

// Words for the errors a user meets at the prompt; the rest by their E_ name.
static const char *error_text(long err)
{
    switch (err) {
    case E_NOENT: return "no such file or directory";
    case E_EXIST: return "already exists";
    case E_PERM: return "permission denied (read-only)";
    case E_INVAL: return "invalid (a directory?)";
    case E_BUSY: return "directory not empty";
    case E_TOOBIG: return "too long";
    default: return abi_strerror(err);
    }
}

static void complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sh: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
}

// ---- reading lines ----------------------------------------------------------------------
// Straight from the stdin stream: con hands over one edited line per read; a file or pipe
// may hand over several, kept here until asked for.

static char inbuf[LINE_MAX];
static size_t inlen;
static bool in_eof;

// One line without its '\n' in line; false at end of input.
static bool read_line(handle_t in, char *line)
{
    for (;;) {
        char *nl = memchr(inbuf, '\n', inlen);
        if (nl || inlen == sizeof(inbuf) || (in_eof && inlen)) {
            size_t n = nl ? (size_t)(nl - inbuf) : inlen;
            size_t used = nl ? n + 1 : n;
            if (n >= LINE_MAX)
                n = LINE_MAX - 1;
            memcpy(line, inbuf, n);
            line[n] = '\0';
            memmove(inbuf, inbuf + used, inlen - used);
            inlen -= used;
            return true;
        }
        if (in_eof)
            return false;
        long r = stream_read(in, inbuf + inlen, sizeof(inbuf) - inlen);
        if (r < 0)
            complain("reading stdin: %s", abi_strerror(r));
        if (r <= 0)
            in_eof = true;
        else
            inlen += (size_t)r;
    }
}

// ---- parsing --------------------------------------------------------------------------

enum tok { T_WORD, T_PIPE, T_SEMI, T_AMP, T_IN, T_OUT, T_APPEND, T_END };

struct token {
    enum tok kind;
    char *word;  // T_WORD's text
};

struct cmd {
    char *argv[ARGS_MAX + 1];
    int argc;
    char *in, *out;  // redirections, or NULL
    bool append;
};

struct job_spec {
    struct cmd cmds[CMDS_MAX];
    int n;
    bool background;
};

// Splits line into tokens; word text goes to words (as big as line). Returns the count,
// or -1 after complaining.
static int tokenize(const char *line, struct token *toks, char *words)
{
    int n = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (n == TOKENS_MAX - 1) {
            complain("too many words");
            return -1;
        }
        struct token *t = &toks[n++];
        t->word = NULL;
        switch (*p) {
        case '\0': t->kind = T_END; return n;
        case '#': t->kind = T_END; return n;  // a comment to the end of the line
        case '|':
            t->kind = T_PIPE;
            p++;
            continue;
        case ';':
            t->kind = T_SEMI;
            p++;
            continue;
        case '&':
            t->kind = T_AMP;
            p++;
            continue;
        case '<':
            t->kind = T_IN;
            p++;
            continue;
        case '>':
            t->kind = p[1] == '>' ? T_APPEND : T_OUT;
            p += p[1] == '>' ? 2 : 1;
            continue;
        }
        t->kind = T_WORD;
        t->word = words;
        while (*p && !strchr(" \t|;&<>", *p)) {
            if (*p == '\'' || *p == '"') {
                char quote = *p++;
                while (*p && *p != quote)
                    *words++ = *p++;
                if (!*p) {
                    complain("unmatched %c", quote);
                    return -1;
                }
                p++;
            } else {
                *words++ = *p++;
            }
        }
        *words++ = '\0';
    }
}

static const char *tok_text(enum tok k)
{
    static const char *const text[] = { "word", "|", ";", "&", "<", ">", ">>", "newline" };
    return text[k];
}

// Parses one job from toks[*i]: commands joined by '|', ended by ';', '&' or the end.
// Returns 1 with a job, 0 when there is none left, -1 after complaining.
static int parse_job(struct token *toks, int *i, struct job_spec *job)
{
    memset(job, 0, sizeof(*job));
    while (toks[*i].kind == T_SEMI)
        (*i)++;
    if (toks[*i].kind == T_END)
        return 0;
    struct cmd *c = &job->cmds[job->n++];
    for (;; (*i)++) {
        struct token *t = &toks[*i];
        enum tok k = t->kind;
        if (k == T_WORD) {
            if (c->argc == ARGS_MAX) {
                complain("too many arguments");
                return -1;
            }
            c->argv[c->argc++] = t->word;
        } else if (k == T_IN || k == T_OUT || k == T_APPEND) {
            if (toks[*i + 1].kind != T_WORD) {
                complain("syntax error: a file name must follow %s", tok_text(k));
                return -1;
            }
            char *file = toks[++*i].word;
            if (k == T_IN) {
                c->in = file;
            } else {
                c->out = file;
                c->append = k == T_APPEND;
            }
        } else {
            if (c->argc == 0) {
                complain("syntax error near %s", tok_text(k));
                return -1;
            }
            if (k != T_PIPE) {
                job->background = k == T_AMP;
                if (k != T_END)
                    (*i)++;
                return 1;
            }
            if (job->n == CMDS_MAX) {
                complain("too many commands in one pipeline");
                return -1;
            }
            c = &job->cmds[job->n++];
        }
    }
}

// ---- running ----------------------------------------------------------------------------

// One process of a job.
struct proc {
    long pid;           // 0 when it did not start
    handle_t owned[2];  // streams the shell opened for it (0: none), until it starts
    int status;
    int done;               // set by the waiter once status is final
    struct uthread waiter;  // handle 0 when no waiter runs
};

struct job {
    struct proc procs[CMDS_MAX];
    int n;
    struct job *next;  // in the background list
};

static handle_t sh_in, sh_out, sh_err;  // the shell's own stdio
static struct job *background;          // jobs running behind the prompt

static void close_owned(struct proc *p)
{
    for (int k = 0; k < 2; k++) {
        if (p->owned[k])
            stream_close(p->owned[k]);
        p->owned[k] = 0;
    }
}

static long proc_waiter(void *arg)
{
    struct proc *p = arg;
    int status = -1;
    long err = pm_wait(p->pid, &status);
    p->status = err < 0 ? (int)err : status;
    __atomic_store_n(&p->done, 1, __ATOMIC_RELEASE);
    return 0;
}

// The name pm knows a program by: the archive's, so "/bin/ls" and "ls" are both "ls".
static const char *program_name(const char *cmd, char *buf, size_t size)
{
    if (!strchr(cmd, '/'))
        return cmd;
    if (fs_resolve(cmd, buf, size) < 0 || strncmp(buf, "/bin/", 5) != 0)
        return NULL;
    return buf + 5;
}

// Opens c's redirections; *in and *out are left alone where c has none. Returns false
// after complaining.
static bool open_redirections(const struct cmd *c, handle_t *in, handle_t *out)
{
    if (c->in) {
        long err = fs_open(c->in, O_RDONLY, in);
        if (err < 0) {
            complain("%s: %s", c->in, error_text(err));
            return false;
        }
    }
    if (c->out) {
        int flags = O_WRONLY | O_CREAT | (c->append ? O_APPEND : O_TRUNC);
        long err = fs_open(c->out, flags, out);
        if (err < 0) {
            complain("%s: %s", c->out, error_text(err));
            if (c->in)
                stream_close(*in);
            return false;
        }
    }
    return true;
}

// Starts one command with the given stdin and stdout, then closes the streams in owned:
// the command has its own copies, if it started.
static void start_cmd(const struct cmd *c, struct proc *p, handle_t in, handle_t out)
{
    p->pid = 0;
    p->status = STATUS_NOT_FOUND;
    p->done = 1;
    char buf[FS_PATH_MAX + 1];
    const char *name = program_name(c->argv[0], buf, sizeof(buf));
    long pid = name ? pm_spawn(name, c->argv, in, out, sh_err) : E_NOENT;
    if (pid == E_NOENT) {
        complain("%s: command not found", c->argv[0]);
    } else if (pid < 0) {
        complain("%s: cannot start: %s", c->argv[0], abi_strerror(pid));
    } else {
        p->pid = pid;
        p->done = 0;
        if (uthread_start(&p->waiter, proc_waiter, p, WAITER_STACK) < 0) {
            complain("%s: cannot wait for it: no memory", c->argv[0]);
            p->done = 1;
        }
    }
    close_owned(p);
}

// Starts every command of spec into job, with pipes between them. Returns false when
// nothing could start.
static bool start_job(const struct job_spec *spec, struct job *job)
{
    handle_t pipe_r = 0;  // the read end the next command gets
    bool any = false;
    job->n = spec->n;
    for (int i = 0; i < spec->n; i++) {
        const struct cmd *c = &spec->cmds[i];
        struct proc *p = &job->procs[i];
        memset(p, 0, sizeof(*p));
        handle_t in = i ? pipe_r : sh_in, out = sh_out, next_r = 0;
        p->owned[0] = i ? pipe_r : 0;
        if (i + 1 < spec->n) {
            long err = fs_pipe(&next_r, &out);
            if (err < 0) {
                complain("cannot make a pipe: %s", abi_strerror(err));
                out = sh_out;
                next_r = 0;
            } else {
                p->owned[1] = out;
            }
        }
        handle_t rin = in, rout = out;
        if (!open_redirections(c, &rin, &rout)) {
            p->pid = 0;
            p->done = 1;
            p->status = 1;
            close_owned(p);
        } else {
            // A redirection replaces the pipe end, which is closed now: its partner
            // sees end of file (or E_CLOSED) at once.
            for (int k = 0; k < 2; k++) {
                handle_t chosen = k ? rout : rin, given = k ? out : in;
                if (chosen == given)
                    continue;
                if (p->owned[k])
                    stream_close(p->owned[k]);
                p->owned[k] = chosen;
            }
            start_cmd(c, p, rin, rout);
            any |= p->pid != 0;
        }
        pipe_r = next_r;
    }
    return any;
}

static void join_proc(struct proc *p)
{
    if (p->waiter.handle)
        uthread_join(&p->waiter, NULL);
}

// Waits for a foreground job: its last process first, with ^C aimed at it; if that was
// killed, so are the others; else each remaining one in turn gets ^C and is waited for.
static int wait_job(struct job *job)
{
    int last = job->n - 1;
    int status = job->procs[last].status;
    for (int i = last; i >= 0; i--) {
        struct proc *p = &job->procs[i];
        if (!p->pid)
            continue;
        con_set_foreground(p->pid);
        join_proc(p);
        if (i == last) {
            status = p->status;
            if (status == EXIT_KILLED)
                for (int k = 0; k < last; k++)
                    if (job->procs[k].pid &&
                        !__atomic_load_n(&job->procs[k].done, __ATOMIC_ACQUIRE))
                        pm_kill(job->procs[k].pid);
        }
    }
    con_set_foreground(0);
    return status;
}

static bool job_done(struct job *job)
{
    for (int i = 0; i < job->n; i++)
        if (!__atomic_load_n(&job->procs[i].done, __ATOMIC_ACQUIRE))
            return false;
    return true;
}

// Collects the background jobs that have ended, saying so.
static void reap_background(void)
{
    for (struct job **link = &background; *link;) {
        struct job *job = *link;
        if (!job_done(job)) {
            link = &job->next;
            continue;
        }
        *link = job->next;
        for (int i = 0; i < job->n; i++)
            join_proc(&job->procs[i]);
        struct proc *p = &job->procs[job->n - 1];
        if (p->pid && p->status == EXIT_KILLED)
            printf("[%ld] killed\n", p->pid);
        else if (p->pid)
            printf("[%ld] done, status %d\n", p->pid, p->status);
        free(job);
    }
}

// ---- builtins -------------------------------------------------------------------------

static bool builtin(const struct job_spec *spec, int *status)
{
    const struct cmd *c = &spec->cmds[0];
    const char *name = c->argv[0];
    if (strcmp(name, "cd") != 0 && strcmp(name, "exit") != 0)
        return false;
    if (spec->n > 1 || spec->background || c->in || c->out) {
        complain("%s: a builtin runs alone, without pipes, '&' or redirection", name);
        *status = 1;
        return true;
    }
    if (strcmp(name, "exit") == 0) {
        console_flush();
        exit(c->argc > 1 ? atoi(c->argv[1]) : 0);
    }
    const char *dir = c->argc > 1 ? c->argv[1] : "/";
    long err = fs_chdir(dir);
    if (err < 0)
        complain("cd: %s: %s", dir, err == E_INVAL ? "not a directory" : error_text(err));
    *status = err < 0 ? 1 : 0;
    return true;
}

// Runs one line; returns the status of its last foreground job.
static int run_line(const char *line)
{
    static char words[LINE_MAX * 2];
    struct token toks[TOKENS_MAX];
    if (strlen(line) >= LINE_MAX) {
        complain("line too long");
        return 1;
    }
    if (tokenize(line, toks, words) < 0)
        return 1;
    int i = 0, status = 0, r;
    struct job_spec spec;
    while ((r = parse_job(toks, &i, &spec)) == 1) {
        if (builtin(&spec, &status))
            continue;
        struct job *job = calloc(1, sizeof(*job));
        if (!job) {
            complain("out of memory");
            return 1;
        }
        if (!start_job(&spec, job)) {
            status = job->procs[job->n - 1].status;
            free(job);
        } else if (spec.background) {
            printf("[%ld]\n", job->procs[job->n - 1].pid);
            job->next = background;
            background = job;
        } else {
            status = wait_job(job);
            free(job);
        }
    }
    return r < 0 ? 1 : status;
}

// A prompt only when a person types: stdin is the console.
static bool interactive(void)
{
    struct stream_stat st;
    return stream_stat(sh_in, &st) == 0 && st.type == STREAM_TYPE_CONSOLE;
}

int main(int argc, char *argv[])
{
    sh_in = startup_handle(STARTUP_H_STDIN);
    sh_out = startup_handle(STARTUP_H_STDOUT);
    sh_err = startup_handle(STARTUP_H_STDERR);
    if (argc == 3 && strcmp(argv[1], "-c") == 0)
        return run_line(argv[2]);
    bool prompt = interactive();
    static char line[LINE_MAX];
    int status = 0;
    for (;;) {
        reap_background();
        if (prompt) {
            printf("$ ");
            fflush(stdout);
        }
        if (!read_line(sh_in, line))
            break;
        status = run_line(line);
        fflush(stdout);
    }
    return status;
}
