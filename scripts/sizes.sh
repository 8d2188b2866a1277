#!/bin/sh
# Prints the longest product functions and files (tests, benches and fuzz
# targets excluded): information for keeping functions under 80 lines and
# files under 800, never a failure. CI runs it after the tests.
#   scripts/sizes.sh [N]     the N longest of each (default 15)
set -eu
cd "$(dirname "$0")/.."
n=${1:-15}
files=$(ls common/*.[ch] aws/*.[ch] planner/*.[ch] workers/*.[ch] orchestrator/*.[ch] preflight/*.[ch] cli/*.[ch] 2>/dev/null)

echo "longest files (lines):"
# shellcheck disable=SC2086
wc -l $files | grep -v ' total$' | sort -rn | head -n "$n" | awk '{printf "  %5d  %s\n", $1, $2}'

echo "longest functions (lines, from the opening line to the closing brace):"
# A function starts at a line that begins an identifier at column 0 and
# ends with ')' or ',' up to a '{' at column 0; it ends at the next '}' at
# column 0. That is how every product file is formatted (clang-format).
# shellcheck disable=SC2086
awk '
    FNR == 1 { name = ""; start = 0 }
    /^[A-Za-z_][A-Za-z0-9_ \*]*\(/ && !/;[ \t]*$/ && !/^(typedef|struct [a-z_]+ \{|enum|union)/ {
        sig = $0; sub(/\(.*/, "", sig); k = split(sig, w, /[ \*]+/); cand = w[k]; cstart = FNR
    }
    /^\{/ && cand != "" { name = cand; start = cstart; cand = "" }
    /^\}/ && name != "" { printf "%d %s:%d %s\n", FNR - start + 1, FILENAME, start, name; name = "" }
' $files | sort -rn | head -n "$n" | awk '{printf "  %5d  %s  %s\n", $1, $2, $3}'
