/* The program the LLDB tests debug: structs, char arrays, doubles, a
 * recursion, a loop to interrupt, a global to read and write, a trap. */
#include <stdio.h>
#include <string.h>

struct point {
    int x;
    int y;
    double weight;
    char label[8];
};

volatile unsigned counter = 0;
char message[16] = "hello";

__attribute__((noinline)) int fact(int n) {
    if (n <= 1)
        return 1;
    return n * fact(n - 1); /* FACT_RECURSE */
}

__attribute__((noinline)) double scale(struct point *p, double factor) {
    double w = p->weight * factor; /* SCALE_FIRST */
    p->x = p->x * 2;
    return w;
}

__attribute__((noinline)) unsigned spin(void) {
    while (counter != 0xffffffffu)
        counter++; /* SPIN_BODY */
    return counter;
}

int main(int argc, char **argv) {
    struct point pt = {3, 4, 1.5, "origin"};
    double w = scale(&pt, 2.0); /* MAIN_SCALE */
    int f = fact(5);            /* MAIN_FACT */
    if (argc > 1 && strcmp(argv[1], "spin") == 0)
        spin();
    if (argc > 1 && strcmp(argv[1], "trap") == 0)
        __builtin_trap();
    printf("%s %d %g %d\n", message, pt.x, w, f); /* MAIN_PRINT */
    return (int)(f % 7 + counter);
}
