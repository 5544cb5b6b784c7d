#!/bin/sh
# Build benchmarks/aff3ct/polar_driver.cpp against AFF3CT's own sources (no full library build:
# the FAST polar decoders are header templates; only the module / task / CRC / pattern-parser /
# exception sources they call are compiled, with the flags AFF3CT's docs give for a Release build).
#
#   sh benchmarks/aff3ct/build.sh AFF3CT_SRC [OUT]      # OUT defaults to AFF3CT_SRC/build-driver
#   AFF3CT_POLAR_DRIVER=OUT/polar_driver python benchmarks/bench_polar_aff3ct.py
#
# AFF3CT_SRC: an AFF3CT v3.0.2 source tree with its submodules lib/MIPP, lib/cli, lib/rang and
# lib/date checked out (git clone --recursive https://github.com/aff3ct/aff3ct; git checkout v3.0.2).
set -eu
SRC=$(cd "$1" && pwd)
OUT=${2:-$SRC/build-driver}
HERE=$(cd "$(dirname "$0")" && pwd)
CXX=${CXX:-g++}
FLAGS="-std=c++11 -O3 -DNDEBUG -funroll-loops -march=native -DAFF3CT_32BIT_PREC"
INC="-I$SRC/include -I$SRC/src -I$SRC/lib/MIPP/src -I$SRC/lib/cli/src -I$SRC/lib/rang/include -I$SRC/lib/date/include"
mkdir -p "$OUT"
cd "$SRC/src"
for s in Module/CRC/Polynomial/CRC_polynomial.cpp Module/Decoder/Decoder.cpp Module/Module.cpp \
         Module/Task.cpp Tools/Code/Polar/Pattern_polar_parser.cpp Tools/Code/Polar/fb_assert.cpp \
         Tools/general_utils.cpp Tools/Display/rang_format/rang_format.cpp \
         Tools/Exception/*.cpp Tools/Exception/*/*.cpp; do
    o="$OUT/$(echo "$s" | tr / _ | sed 's/\.cpp$/.o/')"
    [ "$o" -nt "$s" ] || nice $CXX $FLAGS $INC -c "$s" -o "$o"
done
nice $CXX $FLAGS $INC -c "$HERE/polar_driver.cpp" -o "$OUT/polar_driver.o"
$CXX "$OUT"/*.o -o "$OUT/polar_driver"
echo "$OUT/polar_driver"
