/* rundir.c — the run directory's lock, its all-or-nothing creation, and its CSV files read and
 * pruned for --resume. */
#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "csvout.h"
#include "error.h"

/* Hidden, so that a listing of the run shows its results only. */
static const char lock_name[] = ".lock";

/* A lock found taken is tried again for this long before the run is
 * refused: `sweep --out` of an existing directory takes it for a moment
 * to see whether a writer is inside, and must not turn a writer away. */
enum { LOCK_TRIES = 5, LOCK_RETRY_MS = 20 };

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

void rundir_init(struct run_dir *d)
{
    memset(d, 0, sizeof *d);
    d->lock_fd = -1;
}

void rundir_path(char *buf, size_t len, const char *dir, const char *name)
{
    snprintf(buf, len, "%s/%s", dir, name);
}

/* Copies a directory name without trailing slashes ("results/x/" names "x"). */
static void copy_dir_name(char *out, size_t len, const char *path)
{
    snprintf(out, len, "%s", path);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/')
        out[--n] = '\0';
}

int rundir_sync(FILE *fp)
{
    return fflush(fp) == 0 && fsync(fileno(fp)) == 0 ? 0 : -1;
}

/* fsync of a directory, so a rename or a new entry in it is on disk. */
static cnn_status sync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cnn_fail(CNN_E_IO, "%s: cannot open the directory to sync it: %s", path,
                        strerror(errno));
    int failed = fsync(fd) != 0;
    int saved = errno;
    close(fd);
    if (failed)
        return cnn_fail(CNN_E_IO, "%s: cannot sync the directory: %s", path, strerror(saved));
    return CNN_OK;
}

/* ---- the lock ---- */

/* "pid N on host H" from a lock file, as its holder wrote it. The holder
 * writes it right after taking the lock, so an empty file is read again
 * for a moment before it is reported as unrecorded. */
static void read_holder(const char *lock_path, char *out, size_t len)
{
    snprintf(out, len, "its pid and host are not recorded in %s", lock_path);
    for (int attempt = 0; attempt < LOCK_TRIES; attempt++) {
        char text[512] = "";
        int fd = open(lock_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return;
        ssize_t n = read(fd, text, sizeof text - 1);
        close(fd);
        long pid;
        char host[256];
        if (n > 0 && (text[n] = '\0', sscanf(text, "pid %ld host %255s", &pid, host) == 2)) {
            snprintf(out, len, "pid %ld on host %s", pid, host);
            return;
        }
        sleep_ms(LOCK_RETRY_MS);
    }
}

static cnn_status write_holder(int fd, const char *lock_path)
{
    char host[256] = "unknown", text[320];
    if (gethostname(host, sizeof host) != 0 || !*host)
        snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    int n = snprintf(text, sizeof text, "pid %ld\nhost %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != n)
        return cnn_fail(CNN_E_IO, "%s: cannot write the lock file: %s", lock_path,
                        strerror(errno ? errno : EIO));
    return CNN_OK;
}

/* Takes DIR/.lock, creating it if needed. *busy: another process holds it,
 * described in holder. The file may be removed by the holder that ends
 * just as we open it: we then hold a lock on a file nobody else will open,
 * so the lock counts only if the name still leads to the file we locked. */
static cnn_status take_lock(const char *dir, int *fd_out, int *busy, char *holder, size_t len)
{
    char path[4200];
    rundir_path(path, sizeof path, dir, lock_name);
    *busy = 0;
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0)
            return cnn_fail(CNN_E_IO, "%s: cannot open the lock file: %s", path, strerror(errno));
        int locked = 0, e = 0;
        for (int t = 0; t < LOCK_TRIES && !locked; t++) {
            locked = flock(fd, LOCK_EX | LOCK_NB) == 0;
            e = errno;
            if (!locked && e != EWOULDBLOCK)
                break;
            if (!locked && t + 1 < LOCK_TRIES)
                sleep_ms(LOCK_RETRY_MS);
        }
        if (!locked) {
            close(fd);
            if (e != EWOULDBLOCK)
                return cnn_fail(CNN_E_IO, "%s: cannot lock: %s", path, strerror(e));
            *busy = 1;
            read_holder(path, holder, len);
            return CNN_E_IO;
        }
        struct stat held, named;
        if (fstat(fd, &held) == 0 && stat(path, &named) == 0 && held.st_dev == named.st_dev &&
            held.st_ino == named.st_ino) {
            cnn_status st = write_holder(fd, path);
            if (st != CNN_OK) {
                unlink(path);
                close(fd);
                return st;
            }
            *fd_out = fd;
            return CNN_OK;
        }
        close(fd);
    }
    return cnn_fail(CNN_E_IO, "%s: cannot lock: the lock file keeps being replaced", path);
}

/* 1 if a process holds DIR/.lock, described in holder. Looks without
 * creating the file, and holds a shared lock only for the moment of the
 * test (take_lock tries again for longer than that). */
static int held_by_other(const char *dir, char *holder, size_t len)
{
    char path[4200];
    rundir_path(path, sizeof path, dir, lock_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);
    if (held)
        read_holder(path, holder, len);
    return held;
}

cnn_status rundir_lock(struct run_dir *d, const char *path)
{
    rundir_init(d);
    copy_dir_name(d->path, sizeof d->path, path);
    struct stat st;
    if (stat(d->path, &st) != 0 && errno == ENOENT)
        return cnn_fail(CNN_E_IO, "%s: no such run directory", d->path);
    if (stat(d->path, &st) != 0)
        return cnn_fail(CNN_E_IO, "%s: cannot open the run directory: %s", d->path,
                        strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cnn_fail(CNN_E_IO, "%s: not a run directory (not a directory at all)", d->path);
    int busy;
    char holder[320];
    cnn_status s = take_lock(d->path, &d->lock_fd, &busy, holder, sizeof holder);
    if (busy)
        return cnn_fail(s, "%s is being written by another cnnbench (%s): two writers would "
                        "lose rows; wait until it ends, or stop it, then resume", d->path,
                        holder);
    return s;
}

/* ---- creation ---- */

/* mkdir -p of every directory above path. */
static cnn_status make_parents(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return cnn_fail(CNN_E_IO, "%s: cannot create directory: %s", buf, strerror(errno));
        *p = '/';
    }
    return CNN_OK;
}

/* Creates a file that must not exist yet, writes its header line and keeps
 * it open for appending. */
static cnn_status create_csv(const char *dir, const char *name, const char *header, FILE **fp)
{
    char path[4200];
    rundir_path(path, sizeof path, dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0)
        return cnn_fail(CNN_E_IO, "%s: cannot create: %s", path, strerror(errno));
    *fp = fdopen(fd, "a");
    if (!*fp) {
        int e = errno;
        close(fd);
        return cnn_fail(CNN_E_IO, "%s: cannot open: %s", path, strerror(e));
    }
    if (fprintf(*fp, "%s\n", header) < 0 || fflush(*fp) != 0)
        return cnn_fail(CNN_E_IO, "%s: write failed: %s", path, strerror(errno));
    return CNN_OK;
}

/* Why an existing path cannot become a new run. */
static cnn_status refuse_existing(const char *path)
{
    char holder[320], meta[4200];
    if (held_by_other(path, holder, sizeof holder))
        return cnn_fail(CNN_E_IO, "%s already exists and another cnnbench (%s) is writing it; "
                        "choose another --out", path, holder);
    rundir_path(meta, sizeof meta, path, "meta.json");
    if (access(meta, F_OK) == 0)
        return cnn_fail(CNN_E_IO, "%s already exists; cnnbench never overwrites a run "
                        "(choose another --out, or continue it with --resume %s)", path, path);
    return cnn_fail(CNN_E_IO, "%s already exists; cnnbench never writes a run into an existing "
                    "directory (choose another --out)", path);
}

cnn_status rundir_create(struct run_dir *d, const char *path, const char *steps_header,
                         const char *evals_header)
{
    rundir_init(d);
    copy_dir_name(d->final, sizeof d->final, path);
    struct stat st;
    if (lstat(d->final, &st) == 0)
        return refuse_existing(d->final);
    CNN_TRY(make_parents(d->final));
    const char *slash = strrchr(d->final, '/');
    int parent_len = slash ? (int)(slash - d->final + 1) : 0;
    if ((size_t)snprintf(d->path, sizeof d->path, "%.*s.%s.incomplete.XXXXXX", parent_len,
                         d->final, d->final + parent_len) >= sizeof d->path)
        return cnn_fail(CNN_E_ARG, "%s: path too long", d->final);
    if (!mkdtemp(d->path)) {
        int e = errno;
        d->path[0] = '\0';
        return cnn_fail(CNN_E_IO, "%s: cannot create the run directory: %s", d->final,
                        strerror(e));
    }
    /* mkdtemp makes it private (0700); a run is as readable as mkdir makes it */
    mode_t mask = umask(0);
    umask(mask);
    if (chmod(d->path, 0777 & ~mask) != 0)
        return cnn_fail(CNN_E_IO, "%s: cannot set permissions: %s", d->path, strerror(errno));
    int busy;
    char holder[320];
    cnn_status locked = take_lock(d->path, &d->lock_fd, &busy, holder, sizeof holder);
    if (busy)
        return cnn_fail(locked, "%s: a directory this process just made is locked by %s",
                        d->path, holder);
    CNN_TRY(locked);
    CNN_TRY(create_csv(d->path, "steps.csv", steps_header, &d->steps));
    return create_csv(d->path, "evals.csv", evals_header, &d->evals);
}

cnn_status rundir_publish(struct run_dir *d)
{
    if (rundir_sync(d->steps) != 0 || rundir_sync(d->evals) != 0)
        return cnn_fail(CNN_E_IO, "%s: cannot sync the CSV files: %s", d->path, strerror(errno));
    CNN_TRY(sync_dir(d->path));
    /* rename() would replace an empty directory made meanwhile: never take
     * over a name someone else chose */
    struct stat st;
    if (lstat(d->final, &st) == 0)
        return refuse_existing(d->final);
    if (rename(d->path, d->final) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY)
            return refuse_existing(d->final);
        return cnn_fail(CNN_E_IO, "%s: cannot rename %s to it: %s", d->final, d->path,
                        strerror(errno));
    }
    snprintf(d->path, sizeof d->path, "%s", d->final);
    d->final[0] = '\0';
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", d->path);
    char *slash = strrchr(parent, '/');
    if (slash == parent)
        parent[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(parent, sizeof parent, ".");
    return sync_dir(parent);
}

/* Removes a hidden directory whose creation failed, with everything this
 * process put in it. */
static void remove_unfinished(const char *path)
{
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char file[4200];
            rundir_path(file, sizeof file, path, e->d_name);
            unlink(file);
        }
        closedir(dir);
    }
    rmdir(path);
}

void rundir_close(struct run_dir *d)
{
    if (d->steps)
        fclose(d->steps);
    if (d->evals)
        fclose(d->evals);
    d->steps = d->evals = NULL;
    if (d->final[0] && d->path[0]) {
        remove_unfinished(d->path);
    } else if (d->lock_fd >= 0) {
        /* removed while still held: a process that opened it meanwhile
         * finds the name gone after its flock and takes a fresh file */
        char path[4200];
        rundir_path(path, sizeof path, d->path, lock_name);
        unlink(path);
    }
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    d->lock_fd = -1;
    d->final[0] = '\0';
}

/* ---- reading a run's CSV files for --resume ---- */

cnn_status rundir_open_csv(const char *dir, const char *name, struct runfile *f)
{
    char path[4200];
    rundir_path(path, sizeof path, dir, name);
    const struct runfile_rules rules = {.voice = RUNFILE_DAMAGE};
    return runfile_open(f, path, &rules);
}

/* Writes one record as csvout writes fields: a line cnnbench wrote comes
 * out byte for byte as it was. */
static int write_record(FILE *fp, char *const *fields, int n)
{
    int failed = 0;
    for (int i = 0; i < n; i++)
        failed |= (i && fputc(',', fp) == EOF) || csv_write_field(fp, fields[i]) < 0;
    return failed || fputc('\n', fp) == EOF ? -1 : 0;
}

cnn_status rundir_prune_csv(const char *dir, const char *name,
                            int (*keep)(void *ctx, const char *key), void *ctx,
                            struct cnn_atomic_file *out)
{
    struct runfile f;
    CNN_TRY(rundir_open_csv(dir, name, &f));
    cnn_status st = cnn_atomic_open(out, f.path);
    if (st != CNN_OK) {
        runfile_close(&f);
        return st;
    }
    int more = 1, failed = write_record(out->fp, f.header, f.columns);
    while (!failed && (st = runfile_next(&f, &more)) == CNN_OK && more)
        if (keep(ctx, f.field[0]))
            failed = write_record(out->fp, f.field, f.columns);
    runfile_close(&f);
    if (st == CNN_OK && failed)
        st = cnn_fail(CNN_E_IO, "%s: write failed: %s", out->tmp, strerror(errno));
    if (st != CNN_OK) {
        cnn_atomic_abort(out);
        return st;
    }
    return cnn_atomic_finish(out);
}
