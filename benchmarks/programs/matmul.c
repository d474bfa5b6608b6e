/* matmul.c: array-indexed integer arithmetic over 2-D arrays.
 *
 * Fills two 200x200 int32 matrices from a PRNG, transposes one, multiplies them
 * (naive triple loop, row-major and transposed access), and checksums the
 * product.  Measures i32 multiply/add, address arithmetic and strided loads.
 */
#include "common.h"

#define N 200
static int32_t a[N][N], b[N][N], bt[N][N], c[N][N];
static volatile int reps = 80;

EXPORT("run") int run(void) {
    uint32_t st = 12345;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            a[i][j] = (int32_t)(xorshift32(&st) % 1000) - 500;
            b[i][j] = (int32_t)(xorshift32(&st) % 1000) - 500;
        }
    uint32_t sum = 0;
    int n = reps;
    for (int r = 0; r < n; r++) {
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) bt[j][i] = b[i][j] + r;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                int32_t s = 0;
                for (int k = 0; k < N; k++) s += a[i][k] * bt[j][k];
                c[i][j] = s;
            }
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) sum = sum * 31u + (uint32_t)c[i][j];
    }
    return (int)sum;
}
