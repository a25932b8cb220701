#!/usr/bin/env bash
# Interleaved before/after runs of the purchase and listing benchmarks on two checkouts, each
# with its own .venv: base, head, base, head... so that a drift of the machine hits both.
#   bench/compare_trees.sh <base checkout> <head checkout> [rounds=2] [outdir=bench-out]
set -euo pipefail
base=$1 head=$2 rounds=${3:-2} out=${4:-bench-out}
mkdir -p "$out"
run() {  # tree-name dir bench args...
  local name=$1 dir=$2 bench=$3; shift 3
  echo "== $name $bench round $round $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)" | tee -a "$out/log"
  (cd "$dir" && .venv/bin/python -m "bench.$bench" "$@") > "$out/$bench-$name-$round.txt" 2>&1
}
for round in $(seq "$rounds"); do
  run base "$base" purchases
  run head "$head" purchases
  run base "$base" listings --listings 3000
  run head "$head" listings --listings 3000
done
grep -H "^ratio" "$out"/*.txt
