#!/usr/bin/env bash
# A throwaway MQTT broker for tests and the README example: Debian's mosquitto on 127.0.0.1, a free port, a generated
# config in a temp dir (no persistence files anywhere near the repo).
#   scripts/mosquitto.sh start         installs mosquitto (and mosquitto-clients) with apt-get when missing, starts a
#                                      broker, prints its port on stdout
#   scripts/mosquitto.sh stop [PORT]   stops the broker this script started on PORT (all of them without PORT)
#   scripts/mosquitto.sh install       only installs
# State of a running broker: ${TMPDIR:-/tmp}/sensorlake-mosquitto-PORT/ (mosquitto.conf, pid, log).
set -euo pipefail

STATE_ROOT="${TMPDIR:-/tmp}"

install() {
  if { command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; } && command -v mosquitto_pub >/dev/null 2>&1; then
    return 0
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "mosquitto.sh: installing mosquitto and mosquitto-clients with apt-get" >&2
  # Quiet, but keep the log to show when it fails.
  local log
  log="$(mktemp)"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends mosquitto mosquitto-clients; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "mosquitto.sh: could not install mosquitto" >&2
    exit 1
  fi
  rm -f "$log"
}

mosquitto_bin() {
  command -v mosquitto 2>/dev/null || echo /usr/sbin/mosquitto
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Waits until the port accepts TCP connections (or the broker died).
wait_ready() {
  local port="$1" pid="$2"
  for _ in $(seq 1 100); do
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}

start() {
  install
  local bin attempt port dir pid
  bin="$(mosquitto_bin)"
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    dir="$STATE_ROOT/sensorlake-mosquitto-$port"
    rm -rf "$dir"
    mkdir -p "$dir"
    # persistence false: sessions live in the broker's memory only, enough for a client that crashes and comes back
    # (the broker itself is not restarted). Queues are generous so a test can publish while the client is down.
    cat >"$dir/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 1000000
max_inflight_messages 100
log_dest stderr
log_type error
log_type warning
log_type notice
user $(id -un)
EOF
    # setsid: the broker outlives this script and is not killed with the caller's process group.
    setsid "$bin" -c "$dir/mosquitto.conf" </dev/null >"$dir/mosquitto.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/pid"
    if wait_ready "$port" "$pid"; then
      echo "$port"
      return 0
    fi
    kill "$pid" 2>/dev/null || true
    echo "mosquitto.sh: broker did not start on port $port (attempt $attempt):" >&2
    cat "$dir/mosquitto.log" >&2 || true
    rm -rf "$dir"
  done
  exit 1
}

stop_dir() {
  local dir="$1" pid
  [ -f "$dir/pid" ] || { rm -rf "$dir"; return 0; }
  pid="$(cat "$dir/pid")"
  # Only a mosquitto this script started: the pid file names it and its command line names our config.
  if kill -0 "$pid" 2>/dev/null && grep -q "$dir/mosquitto.conf" "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}

stop() {
  if [ $# -ge 1 ] && [ -n "$1" ]; then
    stop_dir "$STATE_ROOT/sensorlake-mosquitto-$1"
    return 0
  fi
  local d
  for d in "$STATE_ROOT"/sensorlake-mosquitto-*; do
    [ -d "$d" ] && stop_dir "$d"
  done
  return 0
}

case "${1:-}" in
  start) start ;;
  stop) shift; stop "${1:-}" ;;
  install) install ;;
  *)
    echo "usage: scripts/mosquitto.sh start | stop [PORT] | install" >&2
    exit 2
    ;;
esac
