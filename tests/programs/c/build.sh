#!/bin/sh
# Rebuild the C programs used by the source-level debugging tests.
#
# Toolchain (Debian):  apt-get install clang-22 lld-22 wasi-libc libclang-rt-22-dev-wasm32
# Each program is a WASI command (main, printf) built twice:
#   NAME.O0.wasm   -O0 -g   (every variable in memory, one address per line)
#   NAME.O2.wasm   -O2 -g   (inlining, location lists, optimized-out variables)
#   NAME.O2.dwarf5.wasm  the same as DWARF 5 (types and inline only)
# The tests read the committed .wasm files and find lines by their
# `// MARK: name` comments, so rebuilding must keep those comments in place.
set -eu
cd "$(dirname "$0")"

CC=${CC:-clang-22}
TARGET=${TARGET:-wasm32-wasi}
# -fdebug-prefix-map keeps the build directory out of DWARF (DW_AT_comp_dir
# becomes "."), so the bytes do not depend on where the tree is checked out.
COMMON="-fdebug-prefix-map=$(pwd)=. --target=$TARGET -Wno-deprecated -fno-sanitize=undefined
        -std=c11 -Wall -Wextra -g"

PROGRAMS="recursion types inline trap"
for p in $PROGRAMS; do
    for opt in O0 O2; do
        echo "build $p.$opt"
        # shellcheck disable=SC2086
        $CC $COMMON -$opt -o "$p.$opt.wasm" "$p.c"
    done
done

# DWARF 5 variants (.debug_addr, .debug_str_offsets, .debug_line_str,
# .debug_loclists, .debug_rnglists) of two programs; clang's default for
# Wasm is DWARF 4.
for p in types inline; do
    echo "build $p.O2.dwarf5"
    # shellcheck disable=SC2086
    $CC $COMMON -gdwarf-5 -O2 -o "$p.O2.dwarf5.wasm" "$p.c"
done
