/* shapes.c: the program the README debugs first.
 *
 *     wasmdbg run   shapes.wasm
 *     wasmdbg debug --batch -ex 'break shapes.c:31' -ex run -ex next \
 *                   -ex 'print best' -ex 'print rects[1]' -ex finish -ex continue shapes.wasm
 *
 * A WASI command built at -O0 -g (every variable in memory, one stop per
 * line), so each line and variable is there to look at.  Rebuild with
 * build.sh next to it.
 */
#include <stdio.h>

struct point {
    int x;
    int y;
};

struct rect {
    struct point corner;
    int width;
    int height;
    const char *name;
};

static int area(const struct rect *r) {
    return r->width * r->height;
}

/* The index of the rectangle with the largest area. */
static int largest(const struct rect *rects, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
        if (area(&rects[i]) > area(&rects[best]))
            best = i;
    }
    return best;
}

int main(void) {
    struct rect rects[3] = {
        {{0, 0}, 4, 3, "small"},
        {{2, 5}, 10, 6, "wide"},
        {{-1, 7}, 5, 5, "square"},
    };
    int best = largest(rects, 3);
    printf("largest: %s, area %d\n", rects[best].name, area(&rects[best]));
    return 0;
}
