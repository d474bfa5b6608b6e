/* Every way out of a preopen we know of, through the raw WASI calls (so the
 * host sees exactly these paths) and through libc.  Each attempt prints the
 * WASI errno it got, or "OPENED" and what it read.  The test plants, beside
 * the preopen /sandbox, a file ../outside.txt and inside it the symlinks
 *   planted -> ../outside.txt       planted_abs -> /etc/passwd
 *   planted_dir -> ..               chain1 -> chain2 -> sub/../../outside.txt
 *   loop1 -> loop2 -> loop1         ok_link -> sub/../inside.txt
 * and the files inside.txt and sub/. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

static __wasi_fd_t root = (__wasi_fd_t)-1;

static const __wasi_rights_t READ = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_FILESTAT_GET;
static const __wasi_rights_t ALL = (__wasi_rights_t)-1 >> 34;

static void show_fd(const char *label, __wasi_fd_t fd) {
    char buf[32] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
    size_t n = 0;
    __wasi_errno_t e = __wasi_fd_read(fd, &iov, 1, &n);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\n') buf[i] = ' ';
    printf("%s: OPENED read errno %d: '%s'\n", label, e, buf);
    (void)__wasi_fd_close(fd);
}

static void try_open_at(const char *label, __wasi_fd_t dir, const char *path, int follow, __wasi_oflags_t oflags) {
    __wasi_fd_t fd;
    __wasi_errno_t e = __wasi_path_open(dir, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, path, oflags, READ, READ, 0, &fd);
    if (e == 0) {
        if (oflags & __WASI_OFLAGS_DIRECTORY) {
            printf("%s: OPENED a directory\n", label);
            (void)__wasi_fd_close(fd);
        } else {
            show_fd(label, fd);
        }
    } else {
        printf("%s: errno %d\n", label, e);
    }
}

static void try_open(const char *label, const char *path, int follow) { try_open_at(label, root, path, follow, 0); }

static void report(const char *label, __wasi_errno_t e) { printf("%s: errno %d\n", label, e); }

static void libc_open(const char *label, const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        char buf[32] = {0};
        ssize_t n = read(fd, buf, sizeof buf - 1);
        printf("%s: OPENED %zd bytes\n", label, n);
        close(fd);
    } else {
        printf("%s: libc errno %d (%s)\n", label, errno, strerror(errno));
    }
}

int main(void) {
    for (__wasi_fd_t fd = 3; fd < 64; fd++) {
        __wasi_prestat_t pre;
        if (__wasi_fd_prestat_get(fd, &pre) != 0) break;
        char name[64] = {0};
        if (pre.u.dir.pr_name_len < sizeof name && __wasi_fd_prestat_dir_name(fd, (uint8_t *)name, pre.u.dir.pr_name_len) == 0 &&
            strcmp(name, "/sandbox") == 0)
            root = fd;
    }
    if (root == (__wasi_fd_t)-1) {
        printf("no /sandbox preopen\n");
        return 1;
    }

    try_open("inside", "inside.txt", 1);
    try_open("dotdot", "../outside.txt", 1);
    try_open("absolute", "/etc/passwd", 1);
    try_open("sub/../..", "sub/../../outside.txt", 1);
    try_open("sub/./../..", "sub/./.././../outside.txt", 1);
    try_open("sub/../inside", "sub/../inside.txt", 1);
    try_open("double slash", "sub//..//inside.txt", 1);
    try_open("planted follow", "planted", 1);
    try_open("planted nofollow", "planted", 0);
    try_open("planted_abs", "planted_abs", 1);
    try_open("planted_dir/outside", "planted_dir/outside.txt", 1);
    try_open("planted_dir/sandbox/inside", "planted_dir/sandbox/inside.txt", 1);
    try_open_at("planted_dir as dir", root, "planted_dir", 1, __WASI_OFLAGS_DIRECTORY);
    try_open("planted trailing slash", "planted/", 1);
    try_open("chain", "chain1", 1);
    try_open("loop", "loop1", 1);
    try_open("ok_link", "ok_link", 1);
    try_open("empty path", "", 1);

    report("symlink mine -> ../outside.txt", __wasi_path_symlink("../outside.txt", root, "mine"));
    try_open("mine", "mine", 1);
    report("symlink mine_abs -> /etc/passwd", __wasi_path_symlink("/etc/passwd", root, "mine_abs"));
    try_open("mine_abs", "mine_abs", 1);
    report("symlink mine_deep", __wasi_path_symlink("sub/../../outside.txt", root, "mine_deep"));
    try_open("mine_deep", "mine_deep", 1);
    report("symlink outside -> x", __wasi_path_symlink("x", root, "../planted_by_guest"));

    __wasi_filestat_t st;
    report("filestat ../outside", __wasi_path_filestat_get(root, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "../outside.txt", &st));
    report("filestat planted follow", __wasi_path_filestat_get(root, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "planted", &st));
    __wasi_errno_t e = __wasi_path_filestat_get(root, 0, "planted", &st);
    printf("filestat planted nofollow: errno %d type %d\n", e, e ? -1 : st.filetype);
    report("filestat ..", __wasi_path_filestat_get(root, 0, "..", &st));
    report("set_times planted follow",
           __wasi_path_filestat_set_times(root, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "planted", 0, 0, __WASI_FSTFLAGS_MTIM_NOW));
    report("mkdir ../newdir", __wasi_path_create_directory(root, "../newdir"));
    report("mkdir planted_dir/newdir", __wasi_path_create_directory(root, "planted_dir/newdir"));
    report("rename to ../stolen", __wasi_path_rename(root, "inside.txt", root, "../stolen.txt"));
    report("rename from ../outside", __wasi_path_rename(root, "../outside.txt", root, "got.txt"));
    report("link to ../linked", __wasi_path_link(root, 0, "inside.txt", root, "../linked.txt"));
    report("link planted follow", __wasi_path_link(root, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "planted", root, "hard.txt"));
    report("unlink ../outside", __wasi_path_unlink_file(root, "../outside.txt"));
    report("unlink planted_dir/outside", __wasi_path_unlink_file(root, "planted_dir/outside.txt"));
    report("rmdir ..", __wasi_path_remove_directory(root, ".."));
    char target[64] = {0};
    size_t used = 0;
    e = __wasi_path_readlink(root, "planted", (uint8_t *)target, sizeof target - 1, &used);
    printf("readlink planted: errno %d '%.*s'\n", e, (int)used, target);
    report("readlink ../", __wasi_path_readlink(root, "../x", (uint8_t *)target, sizeof target, &used));

    __wasi_fd_t sub;
    e = __wasi_path_open(root, 0, "sub", __WASI_OFLAGS_DIRECTORY, ALL, ALL, 0, &sub);
    printf("open sub: errno %d\n", e);
    if (e == 0) {
        try_open_at("from sub: ../inside", sub, "../inside.txt", 1, 0);
        try_open_at("from sub: ..", sub, "..", 1, __WASI_OFLAGS_DIRECTORY);
        (void)__wasi_fd_close(sub);
    }

    libc_open("libc /sandbox/../outside", "/sandbox/../outside.txt");
    libc_open("libc /sandbox/planted", "/sandbox/planted");
    libc_open("libc /etc/passwd", "/etc/passwd");
    libc_open("libc relative ../outside", "../outside.txt");
    libc_open("libc /sandbox/inside", "/sandbox/inside.txt");
    DIR *d = opendir("/sandbox/planted_dir");
    printf("opendir planted_dir: %s %d\n", d ? "OPENED" : "refused", d ? 0 : errno);
    if (d) closedir(d);
    return 0;
}
