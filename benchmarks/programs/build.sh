#!/bin/sh
# Rebuild the wasmdbg benchmark programs (and the bundled example) from C.
#
# Toolchain (Debian 12/13):  apt-get install clang-22 lld-22 wasi-libc libclang-rt-22-dev-wasm32
# Each program is built twice:
#   NAME.wasm        -O2 -g   (keeps DWARF, used by the debugger's tests)
#   NAME.nodbg.wasm  -O2      (no DWARF, smaller)
# Exports: `run` (int run(void), returns a checksum) and `memory`.  No imports.
#
# Without Debian's packages, the `ziglang` PyPI package ships a clang and a
# wasi-libc that work too (checked with ziglang 0.17.1):
#   pip install ziglang
#   CC="python -m ziglang cc" EXTRA="-mexec-model=reactor" sh build.sh
# zig ignores -nostartfiles, so the reactor model keeps its _start (and the WASI
# imports it needs) out; the modules then also export `_initialize`, which the
# programs do not need.  The bytes differ from the Debian build; the checksums in
# expected.json do not.
set -eu
cd "$(dirname "$0")"

CC=${CC:-clang-22}
TARGET=${TARGET:-wasm32-wasi}
# Debian installs wasi-libc into /usr/include/wasm32-wasi and /usr/lib/wasm32-wasi,
# which clang-22 finds by itself for --target=wasm32-wasi (with a deprecation
# warning in favour of wasm32-wasip1, whose directories Debian does not ship).
SYSROOT_FLAGS=${SYSROOT_FLAGS:-}
EXTRA=${EXTRA:-}
# -fdebug-prefix-map keeps the build directory out of DWARF (reproducible bytes;
# DW_AT_comp_dir becomes "." so sources are found next to the .wasm).
COMMON="-fdebug-prefix-map=$(pwd)=. --target=$TARGET $SYSROOT_FLAGS $EXTRA -Wno-deprecated -fno-sanitize=undefined -std=c11 -Wall -Wextra -O2
        -nostartfiles -Wl,--no-entry -Wl,--export=run -Wl,-z,stack-size=1048576"

PROGRAMS="fib sieve matmul nbody hash sort alloc strings"
for p in $PROGRAMS; do
    echo "build $p"
    # shellcheck disable=SC2086
    $CC $COMMON -g -o "$p.wasm" "$p.c"
    # shellcheck disable=SC2086
    $CC $COMMON -Wl,--strip-debug -o "$p.nodbg.wasm" "$p.c"
done

# The bundled example used by the README (src/wasmdbg/examples).
EX=../../src/wasmdbg/examples
echo "build example hello"
cd "$EX"
# shellcheck disable=SC2086
$CC -fdebug-prefix-map="$(pwd)"=. --target=$TARGET $SYSROOT_FLAGS $EXTRA -Wno-deprecated -fno-sanitize=undefined -std=c11 -Wall -Wextra -O0 -g \
    -nostdlib -Wl,--no-entry -o hello.wasm hello.c

# A WASI command (main, printf, malloc): `wasmdbg run primes.wasm [N]`.
echo "build example primes"
# shellcheck disable=SC2086
$CC -fdebug-prefix-map="$(pwd)"=. --target=$TARGET $SYSROOT_FLAGS $EXTRA -Wno-deprecated -fno-sanitize=undefined -std=c11 -Wall -Wextra -O2 -g \
    -o primes.wasm primes.c

# The stepping benchmark's program: a WASI command at -O0 (benchmarks/stepping.py).
echo "build steploop"
# shellcheck disable=SC2086
$CC -fdebug-prefix-map="$(pwd)"=. --target=$TARGET $SYSROOT_FLAGS $EXTRA -Wno-deprecated -std=c11 -Wall -Wextra -O0 -g \
    -o steploop.wasm steploop.c
