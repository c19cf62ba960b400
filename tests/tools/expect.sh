# Sourced by the end-to-end scripts here, after they set $tmp (a scratch folder).
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect CODE CMD...: exit code CODE; a failure leaves exactly one line on stderr
# (stdout in $tmp/out, stderr in $tmp/err).
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" = "$want" ] || { cat "$tmp/err" >&2; fail "exit $got, expected $want: $*"; }
  if [ "$want" != 0 ] && [ "$(grep -c . "$tmp/err")" != 1 ]; then
    cat "$tmp/err" >&2; fail "expected one line on stderr: $*"
  fi
}
