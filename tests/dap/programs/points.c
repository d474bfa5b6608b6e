/* points.c: the DAP server's test program (a struct, a loop, calls, output, a trap).
 *
 *     points [MODE]
 *
 *     sum     sum_points over three points, print "total 47", exit 0    (default)
 *     show    show(message): print the message buffer (memory writes)
 *     trap    print a line, then divide by zero                         (a trap)
 *     spin    loop until `spin` is cleared (pause, then write the global)
 *     exit    exit with status 7
 *     env     print argc, $GREETING and the first line of data/note.txt (a preopen)
 *
 * Rebuild with build.sh (clang-22, wasm32-wasi, -O0 -g).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct point {
    int x;
    int y;
};

static volatile int zero = 0;
volatile int spin = 1;
int counter = 0;
char message[16] = "hello, world";

__attribute__((noinline)) int square(int v) {
    int r = v * v;
    return r;
}

__attribute__((noinline)) int sum_points(struct point *pts, int n) {
    int total = 0;
    for (int i = 0; i < n; i++) {
        total += square(pts[i].x) + pts[i].y;
        counter++;
    }
    return total;
}

__attribute__((noinline)) void show(char *text) {
    printf("message: %s\n", text);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "sum";
    struct point pts[3] = {{1, 2}, {3, 4}, {5, 6}};
    if (strcmp(mode, "sum") == 0) {
        int total = sum_points(pts, 3);
        printf("total %d\n", total);
        return total == 47 ? 0 : 1;
    }
    if (strcmp(mode, "show") == 0) {
        show(message);
        return 0;
    }
    if (strcmp(mode, "trap") == 0) {
        printf("about to trap\n");
        fflush(stdout);
        return 10 / zero;
    }
    if (strcmp(mode, "spin") == 0) {
        unsigned long turns = 0;
        while (spin)
            turns++;
        printf("spun %s\n", turns ? "some turns" : "no turns");
        return 0;
    }
    if (strcmp(mode, "exit") == 0)
        exit(7);
    if (strcmp(mode, "env") == 0) {
        const char *greeting = getenv("GREETING");
        printf("argc %d greeting %s\n", argc, greeting ? greeting : "(none)");
        FILE *f = fopen("data/note.txt", "r");
        char line[64] = "(no file)";
        if (f) {
            if (!fgets(line, sizeof line, f))
                strcpy(line, "(empty)");
            fclose(f);
        }
        printf("note %s\n", line);
        return 0;
    }
    fprintf(stderr, "usage: points [sum|show|trap|spin|exit|env]\n");
    return 2;
}
