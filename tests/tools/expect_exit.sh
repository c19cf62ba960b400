#!/usr/bin/env bash
# expect_exit.sh CODE COMMAND...: passes when COMMAND exits with CODE, and a
# failing command left exactly one line on stderr.
want=$1
shift
err=$(mktemp)
"$@" >/dev/null 2>"$err"
got=$?
lines=$(grep -c . "$err")
rm -f "$err"
if [ "$got" != "$want" ]; then
  echo "exit $got, expected $want: $*" >&2
  exit 1
fi
if [ "$want" != 0 ] && [ "$lines" != 1 ]; then
  echo "$lines lines on stderr, expected 1: $*" >&2
  exit 1
fi
