/* probe.c: a WASI command that shows what the runtime gave it, for the CLI tests.
 *
 *     probe args          print argv, one "argv[i]=VALUE" line each
 *     probe env           print the environment, one "NAME=VALUE" line each
 *     probe exit N        exit with status N (strtol, so "-1" and "0x100" work)
 *     probe cat PATH      copy a file to stdout
 *     probe spin N        print "spinning", do N rounds of busy work, print "done"
 *
 * It also exports `add` (i32 i32 -> i32), `wide` (i64 -> i64), `half` (f32 -> f32) and
 * `scale` (f64 -> f64) for `--invoke`.  Rebuild with build.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

__attribute__((export_name("add"))) int add(int a, int b) { return a + b; }
__attribute__((export_name("wide"))) long long wide(long long a) { return a * 2; }
__attribute__((export_name("half"))) float half(float a) { return a / 2; }
__attribute__((export_name("scale"))) double scale(double a) { return a * 10; }

static volatile unsigned sink;

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "args";
    if (strcmp(mode, "args") == 0) {
        for (int i = 0; i < argc; i++)
            printf("argv[%d]=%s\n", i, argv[i]);
        return 0;
    }
    if (strcmp(mode, "env") == 0) {
        for (char **e = environ; *e; e++)
            printf("%s\n", *e);
        return 0;
    }
    if (strcmp(mode, "exit") == 0 && argc > 2) {
        fflush(stdout);
        exit((int)strtol(argv[2], NULL, 0));
    }
    if (strcmp(mode, "cat") == 0 && argc > 2) {
        FILE *f = fopen(argv[2], "rb");
        if (!f) {
            perror(argv[2]);
            return 1;
        }
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            fwrite(buf, 1, n, stdout);
        fclose(f);
        return 0;
    }
    if (strcmp(mode, "spin") == 0 && argc > 2) {
        long rounds = strtol(argv[2], NULL, 0);
        printf("spinning\n");
        fflush(stdout);
        for (long i = 0; i < rounds; i++)
            sink = sink * 31 + (unsigned)i;
        printf("done\n");
        return 0;
    }
    fprintf(stderr, "usage: probe args|env|exit N|cat PATH|spin N\n");
    return 2;
}
