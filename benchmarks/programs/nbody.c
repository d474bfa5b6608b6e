/* nbody.c: f64 arithmetic.
 *
 * The classic five-body planetary simulation (as in the Computer Language
 * Benchmarks Game), advanced a fixed number of steps, plus a Mandelbrot set
 * escape-time count over a small grid.  Measures f64 add/mul/div/sqrt,
 * comparisons and f64<->int conversions.  The checksum is the energy and the
 * iteration count folded into an int.
 */
#include "common.h"

#define PI 3.141592653589793
#define SOLAR_MASS (4 * PI * PI)
#define DAYS_PER_YEAR 365.24

typedef struct { double x, y, z, vx, vy, vz, mass; } body;

static body bodies[5] = {
    {0, 0, 0, 0, 0, 0, SOLAR_MASS},
    {4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01,
     1.66007664274403694e-03 * DAYS_PER_YEAR, 7.69901118419740425e-03 * DAYS_PER_YEAR,
     -6.90460016972063023e-05 * DAYS_PER_YEAR, 9.54791938424326609e-04 * SOLAR_MASS},
    {8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01,
     -2.76742510726862411e-03 * DAYS_PER_YEAR, 4.99852801234917238e-03 * DAYS_PER_YEAR,
     2.30417297573763929e-05 * DAYS_PER_YEAR, 2.85885980666130812e-04 * SOLAR_MASS},
    {1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01,
     2.96460137564761618e-03 * DAYS_PER_YEAR, 2.37847173959480950e-03 * DAYS_PER_YEAR,
     -2.96589568540237556e-05 * DAYS_PER_YEAR, 4.36624404335156298e-05 * SOLAR_MASS},
    {1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01,
     2.68067772490389322e-03 * DAYS_PER_YEAR, 1.62824170038242295e-03 * DAYS_PER_YEAR,
     -9.51592254519715870e-05 * DAYS_PER_YEAR, 5.15138902046611451e-05 * SOLAR_MASS},
};

static volatile int steps = 4000000;
static volatile int mandel_size = 600;

static void advance(int nb, body *b, double dt) {
    for (int i = 0; i < nb; i++) {
        for (int j = i + 1; j < nb; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            double d2 = dx * dx + dy * dy + dz * dz;
            double mag = dt / (d2 * __builtin_sqrt(d2));
            b[i].vx -= dx * b[j].mass * mag;
            b[i].vy -= dy * b[j].mass * mag;
            b[i].vz -= dz * b[j].mass * mag;
            b[j].vx += dx * b[i].mass * mag;
            b[j].vy += dy * b[i].mass * mag;
            b[j].vz += dz * b[i].mass * mag;
        }
    }
    for (int i = 0; i < nb; i++) {
        b[i].x += dt * b[i].vx;
        b[i].y += dt * b[i].vy;
        b[i].z += dt * b[i].vz;
    }
}

static double energy(int nb, const body *b) {
    double e = 0.0;
    for (int i = 0; i < nb; i++) {
        e += 0.5 * b[i].mass * (b[i].vx * b[i].vx + b[i].vy * b[i].vy + b[i].vz * b[i].vz);
        for (int j = i + 1; j < nb; j++) {
            double dx = b[i].x - b[j].x, dy = b[i].y - b[j].y, dz = b[i].z - b[j].z;
            e -= b[i].mass * b[j].mass / __builtin_sqrt(dx * dx + dy * dy + dz * dz);
        }
    }
    return e;
}

static void offset_momentum(int nb, body *b) {
    double px = 0, py = 0, pz = 0;
    for (int i = 0; i < nb; i++) {
        px += b[i].vx * b[i].mass;
        py += b[i].vy * b[i].mass;
        pz += b[i].vz * b[i].mass;
    }
    b[0].vx = -px / SOLAR_MASS;
    b[0].vy = -py / SOLAR_MASS;
    b[0].vz = -pz / SOLAR_MASS;
}

static int mandelbrot(int size) {
    int total = 0;
    for (int py = 0; py < size; py++) {
        double ci = 2.0 * py / size - 1.0;
        for (int px = 0; px < size; px++) {
            double cr = 2.0 * px / size - 1.5, zr = 0, zi = 0;
            int it = 0;
            while (it < 50 && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2.0 * zr * zi + ci;
                zr = t;
                it++;
            }
            total += it;
        }
    }
    return total;
}

EXPORT("run") int run(void) {
    body b[5];
    for (int i = 0; i < 5; i++) b[i] = bodies[i];
    offset_momentum(5, b);
    int n = steps;
    for (int s = 0; s < n; s++) advance(5, b, 0.01);
    double e = energy(5, b);
    /* -0.169...: keep 9 decimal digits, exact across IEEE-754 engines. */
    long long scaled = (long long)(e * 1e9);
    return (int)(scaled ^ (scaled >> 32)) ^ mandelbrot(mandel_size);
}
