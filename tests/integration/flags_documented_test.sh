#!/usr/bin/env bash
# Every flag that `peregrine --help` lists is in docs/configuration.md's flag table (issue #20), so
# the reference cannot fall behind the binary.
# Usage: flags_documented_test.sh PEREGRINE_BINARY SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
flags=$("$bin" --help | grep -oE '^ +--[a-z][a-z-]+' | tr -d ' ' | sort -u)
[[ $(wc -l <<<"$flags") -ge 15 ]] || { echo "flags_documented: too few flags parsed from --help: $flags"; exit 1; }
missing=0
for f in $flags; do
  grep -qE "^\| \`$f( |\`)" "$src/docs/configuration.md" || { echo "flags_documented: $f is not in docs/configuration.md"; missing=1; }
done
((missing == 0)) && echo "flags_documented: $(wc -l <<<"$flags") flags, all documented"
exit $missing
