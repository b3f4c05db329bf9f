#!/bin/sh
# mk/models.sh BUILD_DIR MODEL.pml "PAN_CFLAGS" "PAN_FLAGS" BUG...
#
# Checks one Promela model (mk/models.mk): spin -a, cc pan.c, ./pan in
# BUILD_DIR/NAME. The model as written must pass, exhaustively (no error,
# the search neither cut by the depth limit nor by the memory bound); each
# BUG, the model built with -DBUG, must fail. Prints one line for the
# model (states stored, depth, time) and one per seeded bug (how it
# failed); exits non-zero if the model fails or a seeded bug passes.
# Environment: SPIN (spin), CC (cc).
set -u
build=$1 model=$2 cflags=$3 panflags=$4
shift 4
name=$(basename "$model" .pml)
spin=${SPIN:-spin}
cc=${CC:-cc}
src=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
status=0

# run VARIANT [-DBUG]: the verifier's output in $dir/pan.out.
run() {
  dir=$build/$1
  shift
  rm -rf "$dir" && mkdir -p "$dir" || return 2
  # pan.c is generated next to the model's copy, out of the source tree.
  # (with its siblings: a model may #include another)
  cp "$(dirname "$src")"/*.pml "$dir/" && cp "$src" "$dir/$name.pml"
  ( cd "$dir" && "$spin" -a "$@" "$name.pml" > spin.out 2>&1 ) || {
    cat "$dir/spin.out"; echo "models: $name: spin -a $* failed"; return 2; }
  # pan.c is generated code: its warnings are not ours (-w).
  ( cd "$dir" && $cc $cflags -w -o pan pan.c > cc.out 2>&1 ) || {
    cat "$dir/cc.out"; echo "models: $name: cc pan.c failed"; return 2; }
  ( cd "$dir" && ./pan $panflags > pan.out 2>&1 )
  return 0
}

# What pan says about a run: figures, and whether the search was whole.
field() { sed -n "$1" "$dir/pan.out" | head -n 1; }
incomplete() {
  grep -q -e 'max search depth too small' -e 'reached -DMEMLIM bound' -e 'out of memory' "$dir/pan.out"
}

run "$name" || exit 2
errors=$(field 's/.*errors: \([0-9]*\).*/\1/p')
stored=$(field 's/^ *\([0-9.e+]*\) states, stored.*/\1/p')
depth=$(field 's/.*depth reached \([0-9]*\).*/\1/p')
took=$(field 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p')
if [ "$errors" = 0 ] && ! incomplete; then
  echo "models: $name: passes exhaustively: $stored states stored, depth $depth, $took s (pan $panflags)"
else
  cat "$dir/pan.out"
  echo "models: $name: FAILS (errors: ${errors:-?}; a trail is in $dir)"
  status=1
fi

for bug in "$@"; do
  run "$name-$bug" "-D$bug" || exit 2
  errors=$(field 's/.*errors: \([0-9]*\).*/\1/p')
  how=$(field 's/^pan:1: \(.*\) (at depth.*/\1/p')
  took=$(field 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p')
  if [ "${errors:-0}" -gt 0 ] 2>/dev/null; then
    echo "models: $name -D$bug: fails as it must: $how ($took s)"
  else
    cat "$dir/pan.out"
    echo "models: $name -D$bug: the seeded bug PASSES: the model no longer catches it"
    status=1
  fi
done
exit $status
