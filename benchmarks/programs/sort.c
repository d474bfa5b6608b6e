/* sort.c: comparison sorting of a PRNG-filled array.
 *
 * Sorts 2,000,000 int32 values with a hand-written quicksort (median of three,
 * insertion sort for short runs), then re-sorts a reversed copy with heapsort,
 * verifies both are ordered, and checksums the result.  Measures unpredictable
 * branches, swaps and indexed loads/stores.
 */
#include "common.h"

#define N 2000000
static int32_t data[N], copy[N];
static volatile int count = N;

static void insertion(int32_t *a, int lo, int hi) {
    for (int i = lo + 1; i <= hi; i++) {
        int32_t v = a[i];
        int j = i - 1;
        while (j >= lo && a[j] > v) { a[j + 1] = a[j]; j--; }
        a[j + 1] = v;
    }
}

static void quicksort(int32_t *a, int lo, int hi) {
    while (hi - lo > 16) {
        int mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) { int32_t t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
        if (a[hi] < a[lo]) { int32_t t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
        if (a[hi] < a[mid]) { int32_t t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
        int32_t pivot = a[mid];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) { int32_t t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        /* Recurse on the smaller side, loop on the larger (bounded stack). */
        if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
        else { quicksort(a, i, hi); hi = j; }
    }
    insertion(a, lo, hi);
}

static void sift_down(int32_t *a, int start, int end) {
    int root = start;
    while (2 * root + 1 <= end) {
        int child = 2 * root + 1;
        if (child + 1 <= end && a[child] < a[child + 1]) child++;
        if (a[root] >= a[child]) return;
        int32_t t = a[root]; a[root] = a[child]; a[child] = t;
        root = child;
    }
}

static void heapsort(int32_t *a, int n) {
    for (int start = (n - 2) / 2; start >= 0; start--) sift_down(a, start, n - 1);
    for (int end = n - 1; end > 0; end--) {
        int32_t t = a[0]; a[0] = a[end]; a[end] = t;
        sift_down(a, 0, end - 1);
    }
}

EXPORT("run") int run(void) {
    int n = count;
    uint32_t st = 987654321u;
    for (int i = 0; i < n; i++) data[i] = (int32_t)xorshift32(&st);
    quicksort(data, 0, n - 1);
    for (int i = 0; i < n; i++) copy[i] = data[n - 1 - i] ^ (i & 7);
    heapsort(copy, n);
    uint32_t sum = 0;
    for (int i = 1; i < n; i++) {
        if (data[i - 1] > data[i] || copy[i - 1] > copy[i]) return -1;
        sum = sum * 1000003u + (uint32_t)data[i] + (uint32_t)copy[i] * 7u;
    }
    return (int)sum;
}
