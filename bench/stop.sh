# Sourced by the benchmark scripts (not run): stop_bg ends the background processes a script
# started (servers, load generators, samplers) and reaps them. One that already ended is not
# an error here, and its exit status (143 when stopped here) is not the script's: whether it
# did its work is checked where that work is used (answers counted, "the server died").

# stop_bg PID...: empty PIDs are skipped; each process's own children go first (a `cargo
# bench` wrapper and the server it started).
stop_bg() {
  local pid
  for pid in "$@"; do
    [ -n "$pid" ] || continue
    if pkill -P "$pid" 2>/dev/null; then :; fi
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null; fi
    if wait "$pid" 2>/dev/null; then :; fi
  done
}
