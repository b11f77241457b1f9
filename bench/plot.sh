#!/usr/bin/env bash
# bench/plot.sh: one PNG (gnuplot) of Shardis against redis-server from the Markdown tables the
# benchmark scripts write with --out:
#   left:  server CPU per operation, per test    (bench/compare.sh --out FILE)
#   right: memory per element (RSS), per dataset (bench/memory.sh --out FILE)
# Usage: bench/plot.sh COMPARE.md MEMORY.md OUT.png
set -euo pipefail
[[ $# -eq 3 ]] || { sed -n '2,7p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
command -v gnuplot >/dev/null || { echo "plot.sh: needs gnuplot (apt-get install -y gnuplot-nox)" >&2; exit 1; }
compare=$1 memory=$2 out=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/shardis-plot.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Rows of a Markdown table (header and separator skipped) as "label<TAB>redis<TAB>shardis".
rows() {   # $1 = file, $2 = redis column, $3 = shardis column (1-based cells)
  awk -F'|' -v r="$2" -v s="$3" '
    /^\|/ && !/^\|---/ && !/^\| *(Test|Dataset) / {
      label = $2; gsub(/^ +| +$/, "", label); gsub(/ /, "_", label)
      rv = $(r + 1); sv = $(s + 1); gsub(/ /, "", rv); gsub(/ /, "", sv)
      if (rv ~ /^[0-9.]+$/ && sv ~ /^[0-9.]+$/) printf "%s\t%s\t%s\n", label, rv, sv
    }' "$1"
}
rows "$compare" 11 12 > "$work/cpu.dat"     # CPU us/op Redis, Shardis
rows "$memory" 2 3 > "$work/mem.dat"        # RSS B/elem Redis, Shardis
[[ -s "$work/cpu.dat" && -s "$work/mem.dat" ]] || { echo "plot.sh: no rows found" >&2; exit 1; }

gnuplot <<EOF
set terminal pngcairo size 1400,560 font ",10"
set output "$out"
set multiplot layout 1,2 title "Shardis vs redis-server (lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set grid ytics
set yrange [0:*]
set xtics rotate by -30 scale 0 noenhanced
set key top left
set datafile separator "\t"
set title "Server CPU per operation (us)"
plot "$work/cpu.dat" using 2:xtic(1) title "redis-server" lc rgb "#c0392b", \
     "" using 3 title "Shardis" lc rgb "#2471a3"
set title "Memory per element, RSS (bytes)"
plot "$work/mem.dat" using 2:xtic(1) title "redis-server" lc rgb "#c0392b", \
     "" using 3 title "Shardis" lc rgb "#2471a3"
unset multiplot
EOF
echo "plot.sh: wrote $out"
