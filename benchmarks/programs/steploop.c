/* A line that runs a long loop: what `next` over it costs (benchmarks/stepping.py). */
#include <stdio.h>

static unsigned spin(unsigned n) {
    unsigned acc = 0;
    for (unsigned i = 0; i < n; i++) acc = acc * 31 + i; /* the hot line */
    return acc;
}

int main(void) {
    unsigned total = 0;
    total += 1;
    for (unsigned i = 0; i < 100000; i++) total += i ^ (total >> 3); /* next over this */
    total += spin(100000);                                 /* and this (a call) */
    printf("%u\n", total);
    return 0;
}
