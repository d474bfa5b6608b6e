/* Standard input: poll() for it, read it line by line and in raw chunks, sleep.
 * Prints counts and an upper-cased echo; exit status is the number of lines % 256. */
#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    struct pollfd p = {.fd = 0, .events = POLLIN};
    int ready = poll(&p, 1, 5000);
    printf("poll: %d revents %s\n", ready, (p.revents & POLLIN) ? "POLLIN" : "-");

    struct timespec t0, t1, nap = {0, 20 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long slept = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    printf("slept at least 20ms: %s\n", slept >= 20 * 1000 * 1000 ? "yes" : "no");

    char line[4096];
    long lines = 0, bytes = 0, words = 0;
    /* the first line through stdio, the rest through read(2) */
    if (fgets(line, sizeof line, stdin)) {
        lines++;
        bytes += strlen(line);
        for (char *c = line; *c; c++) putchar(toupper((unsigned char)*c));
    }
    /* whatever stdio buffered after the first line */
    int c;
    int inword = 0;
    while ((c = getchar()) != EOF) {
        bytes++;
        if (c == '\n') lines++;
        if (isspace(c)) inword = 0;
        else if (!inword) {
            inword = 1;
            words++;
        }
        putchar(toupper(c));
    }
    char raw[16];
    ssize_t n = read(0, raw, sizeof raw);
    printf("\nread after EOF: %zd\n", n);
    printf("lines %ld bytes %ld words after first line %ld\n", lines, bytes, words);
    return (int)(lines % 256);
}
