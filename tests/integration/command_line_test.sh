#!/usr/bin/env bash
# A shipped binary's command line (issue 17, section 4): `--help` exits 0 and lists every option;
# an unknown option and an empty `--opt=` are usage errors (exit 2) whose one-line message names
# the option, and `--opt=` does not take the next argument as its value; a good invocation works.
# Usage: command_line_test.sh BINARY "OPTIONS..." OPTION_WITH_VALUE GOOD_VALUE [GOOD ARGS...]
set -uo pipefail
bin=$1 options=$2 valued=$3 good_value=$4
shift 4
name=$(basename "$bin")
fail() { echo "command_line($name): $*"; exit 1; }

help=$("$bin" --help) || fail "--help exited $?"
for o in $options; do
  grep -qE -- "^ +(-[a-z],)?$o( |$)" <<<"$help" || fail "--help does not list $o:"$'\n'"$help"
done

expect_usage_error() {  # WANT ARGS...: exit 2, first line "<name>: ... WANT ..."
  local want=$1 out rc
  shift
  out=$("$bin" "$@" 2>&1 >/dev/null)
  rc=$?
  [[ $rc -eq 2 ]] || fail "$* exited $rc, not 2: $out"
  head -1 <<<"$out" | grep -qF -- "$name: " || fail "$*: message does not start with '$name: ': $out"
  head -1 <<<"$out" | grep -qF -- "$want" || fail "$*: message does not name $want: $out"
}
expect_usage_error --no-such-option "$@" --no-such-option
# The empty value must not swallow the next argument, even one that would be a good value.
expect_usage_error "$valued" "$@" "$valued=" "$good_value"
expect_usage_error "$valued" "$@" "$valued="

out=$("$bin" "$@" 2>&1) || fail "$* exited $?: $out"
out=$("$bin" "$@" "$valued=$good_value" 2>&1) || fail "$* $valued=$good_value exited $?: $out"
echo "command_line($name): --help lists $(wc -w <<<"$options") options; usage errors exit 2 naming the option; '$*' works"
