/* Files and directories inside a preopen: write, append, read, seek, truncate,
 * rename, link, symlink, times, listing, removal, and the errors of each.
 * Usage: fileops [BASE]  (BASE defaults to /sandbox, the guest name of the preopen).
 * Prints one line per step; leaves a known tree behind for the test to compare. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char base[256];

static const char *at(const char *rel) {
    static char buf[4][512];
    static int next;
    char *out = buf[next++ & 3];
    snprintf(out, 512, "%s/%s", base, rel);
    return out;
}

static void result(const char *what, int rc) {
    if (rc < 0)
        printf("%s: error %d (%s)\n", what, errno, strerror(errno));
    else
        printf("%s: ok\n", what);
}

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list(const char *rel) {
    DIR *d = opendir(at(rel));
    if (!d) {
        printf("list %s: error %d\n", rel, errno);
        return;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64) {
        const char *kind = e->d_type == DT_DIR ? "dir" : e->d_type == DT_REG ? "file" : e->d_type == DT_LNK ? "link" : "other";
        char *s = malloc(strlen(e->d_name) + 8);
        sprintf(s, "%s(%s)", e->d_name, kind);
        names[n++] = s;
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    printf("list %s:", rel);
    for (int i = 0; i < n; i++) {
        printf(" %s", names[i]);
        free(names[i]);
    }
    printf("\n");
}

static void cat(const char *rel) {
    FILE *f = fopen(at(rel), "r");
    if (!f) {
        printf("cat %s: error %d\n", rel, errno);
        return;
    }
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    printf("cat %s: %zu bytes: %s", rel, n, buf);
    if (n == 0 || buf[n - 1] != '\n') printf("\n");
}

int main(int argc, char **argv) {
    snprintf(base, sizeof base, "%s", argc > 1 ? argv[1] : "/sandbox");

    result("mkdir work", mkdir(at("work"), 0755));
    result("mkdir work again", mkdir(at("work"), 0755));
    result("mkdir work/sub", mkdir(at("work/sub"), 0755));

    FILE *f = fopen(at("work/a.txt"), "w");
    printf("fopen w: %s\n", f ? "ok" : strerror(errno));
    if (f) {
        fprintf(f, "line one\nline two\n");
        fclose(f);
    }
    f = fopen(at("work/a.txt"), "a");
    if (f) {
        fprintf(f, "appended\n");
        fclose(f);
    }
    cat("work/a.txt");

    int fd = open(at("work/a.txt"), O_RDWR);
    result("open rdwr", fd);
    char buf[64] = {0};
    ssize_t n = pread(fd, buf, 4, 5);
    printf("pread: %zd '%.*s'\n", n, (int)n, buf);
    n = pwrite(fd, "ONE", 3, 5);
    printf("pwrite: %zd\n", n);
    off_t pos = lseek(fd, 0, SEEK_END);
    printf("lseek end: %lld\n", (long long)pos);
    pos = lseek(fd, -9, SEEK_CUR);
    printf("lseek cur: %lld\n", (long long)pos);
    n = read(fd, buf, sizeof buf);
    printf("read: %zd '%.*s'\n", n, (int)n - 1, buf);
    printf("lseek negative: %lld errno %d\n", (long long)lseek(fd, -1000, SEEK_SET), errno);
    result("ftruncate 13", ftruncate(fd, 13));
    struct stat st;
    result("fstat", fstat(fd, &st));
    printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    close(fd);
    cat("work/a.txt");

    fd = open(at("work/a.txt"), O_RDONLY);
    n = write(fd, "x", 1);
    printf("write to read-only fd: %zd errno %d\n", n, errno);
    close(fd);
    fd = open(at("work/a.txt"), O_WRONLY);
    n = read(fd, buf, 1);
    printf("read from write-only fd: %zd errno %d\n", n, errno);
    close(fd);

    result("open missing", open(at("work/missing"), O_RDONLY));
    result("open excl existing", open(at("work/a.txt"), O_CREAT | O_EXCL | O_WRONLY, 0644));
    result("open dir for writing", open(at("work"), O_WRONLY));
    result("open file as dir", open(at("work/a.txt"), O_RDONLY | O_DIRECTORY));
    result("open through file", open(at("work/a.txt/x"), O_RDONLY));

    result("rename a->b", rename(at("work/a.txt"), at("work/b.txt")));
    result("rename missing", rename(at("work/nope"), at("work/x")));
    result("link b->c", link(at("work/b.txt"), at("work/c.txt")));
    result("symlink", symlink("b.txt", at("work/ln")));
    char target[64] = {0};
    n = readlink(at("work/ln"), target, sizeof target - 1);
    printf("readlink: %zd '%s'\n", n, n > 0 ? target : "");
    cat("work/ln");
    result("lstat link", lstat(at("work/ln"), &st));
    printf("lstat is link: %d\n", S_ISLNK(st.st_mode));
    result("stat link", stat(at("work/ln"), &st));
    printf("stat size %lld nlink %lld\n", (long long)st.st_size, (long long)st.st_nlink);

    struct timespec times[2] = {{1000000000, 0}, {1234567890, 500}};
    result("utimensat", utimensat(AT_FDCWD, at("work/c.txt"), times, 0));
    stat(at("work/b.txt"), &st);
    printf("mtime %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);

    result("rename dir", rename(at("work/sub"), at("moved")));
    f = fopen(at("moved/inner.txt"), "w");
    if (f) {
        fputs("inner\n", f);
        fclose(f);
    }
    result("rmdir non-empty", rmdir(at("moved")));
    result("unlink dir", unlink(at("moved")));
    result("rmdir file", rmdir(at("work/b.txt")));
    result("unlink c", unlink(at("work/c.txt")));
    result("unlink missing", unlink(at("work/c.txt")));

    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "many/f%02d", i);
        if (i == 0) mkdir(at("many"), 0755);
        f = fopen(at(name), "w");
        if (f) fclose(f);
    }
    list("many");
    for (int i = 0; i < 20; i += 2) {
        char name[32];
        snprintf(name, sizeof name, "many/f%02d", i);
        unlink(at(name));
    }
    list("many");
    list("work");
    list("moved");
    list(".");
    cat("work/b.txt");
    return 0;
}
