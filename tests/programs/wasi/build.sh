#!/bin/sh
# Rebuild the WASI test programs from C (the .wasm files are committed, so
# the tests need no compiler).  Toolchain as in benchmarks/programs/build.sh:
#   apt-get install clang-22 lld-22 wasi-libc libclang-rt-22-dev-wasm32
# Each program is built twice: NAME.O0.wasm (-O0 -g) and NAME.O2.wasm (-O2).
set -eu
cd "$(dirname "$0")"

CC=${CC:-clang-22}
TARGET=${TARGET:-wasm32-wasi}
SYSROOT_FLAGS=${SYSROOT_FLAGS:-}
EXTRA=${EXTRA:-}
# -fdebug-prefix-map keeps the build directory out of DWARF.
COMMON="-fdebug-prefix-map=$(pwd)=. --target=$TARGET $SYSROOT_FLAGS $EXTRA -Wno-deprecated -fno-sanitize=undefined -std=c11 -D_GNU_SOURCE -Wall -Wextra"

for p in fileops escape stdin; do
    echo "build $p"
    # shellcheck disable=SC2086
    $CC $COMMON -O0 -g -o "$p.O0.wasm" "$p.c"
    # shellcheck disable=SC2086
    $CC $COMMON -O2 -Wl,--strip-debug -o "$p.O2.wasm" "$p.c"
done
