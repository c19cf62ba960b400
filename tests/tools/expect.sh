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
# wait_for FILE TEXT [SECONDS]: waits until FILE holds TEXT (a receiver's
# "listening", on its stdout), at most SECONDS (30): on 2 busy cores a
# process may take several seconds to start, more than a fixed sleep gives.
wait_for() {
  local i
  for i in $(seq $((${3:-30} * 10))); do grep -q -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  cat "$1" >&2; fail "no '$2' in $1 within ${3:-30} s"
}
