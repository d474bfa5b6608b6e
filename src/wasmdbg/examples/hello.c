/* hello.c: the small example program bundled with wasmdbg.
 *
 * Built without libc (no imports) with DWARF debug info, so it can be run and
 * debugged by wasmdbg without WASI:
 *
 *     wasmdbg run --invoke fib hello.wasm 20
 *     wasmdbg debug hello.wasm --invoke run
 *
 * Rebuild with benchmarks/programs/build.sh.
 */

#define EXPORT(name) __attribute__((export_name(name)))

/* A greeting written into linear memory; `greeting` returns its address. */
static char message[32];

/* Recursive Fibonacci: fib(0) = 0, fib(1) = 1. */
EXPORT("fib") int fib(int n) {
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

/* Iterative factorial with 64-bit result (wraps modulo 2**64). */
EXPORT("factorial") long long factorial(int n) {
    long long result = 1;
    for (int i = 2; i <= n; i++)
        result *= i;
    return result;
}

/* Greatest common divisor (Euclid). */
EXPORT("gcd") unsigned gcd(unsigned a, unsigned b) {
    while (b != 0) {
        unsigned t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Sum of the squares of the first n integers, in f64. */
EXPORT("sum_squares") double sum_squares(int n) {
    double total = 0.0;
    for (int i = 1; i <= n; i++) {
        double x = (double)i;
        total += x * x;
    }
    return total;
}

/* Writes "Hello, wasmdbg!" followed by a NUL into memory and returns its address. */
EXPORT("greeting") char *greeting(void) {
    const char *text = "Hello, wasmdbg!";
    int i = 0;
    while (text[i] != '\0') {
        message[i] = text[i];
        i++;
    }
    message[i] = '\0';
    return message;
}

/* Main-like entry point: exercises every function and returns a checksum
 * (fib(20) + factorial(10) % 1000 + gcd(1071, 462) + sum_squares(10) +
 * length of the greeting) = 6765 + 800 + 21 + 385 + 15 = 7986. */
EXPORT("run") int run(void) {
    int checksum = fib(20);
    checksum += (int)(factorial(10) % 1000);
    checksum += (int)gcd(1071, 462);
    checksum += (int)sum_squares(10);
    char *text = greeting();
    int length = 0;
    while (text[length] != '\0')
        length++;
    checksum += length;
    return checksum;
}
