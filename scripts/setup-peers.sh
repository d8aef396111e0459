#!/usr/bin/env bash
# Installs the real Delta peers the interop tests talk to: a project-local Python venv with pinned
# pyspark, delta-spark and deltalake, and the delta-spark jars cached once from Maven Central.
# Idempotent: a marker file records the pinned set, so a rerun with nothing changed costs nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
jars="$root/.cache/jars"
req="$root/scripts/peers-requirements.txt"
delta_version="3.3.2"
scala_version="2.12"

if [ ! -f "$venv/.installed" ] || ! cmp -s "$req" "$venv/.installed"; then
  echo "setup-peers: creating $venv with $(tr '\n' ' ' < "$req")" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.installed"
fi

marker="$jars/.delta-$delta_version"
if [ ! -f "$marker" ]; then
  echo "setup-peers: fetching delta-spark $delta_version jars into $jars" >&2
  mkdir -p "$jars"
  for artifact in "io.delta:delta-spark_$scala_version:$delta_version" "io.delta:delta-storage:$delta_version"; do
    mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$jars" >&2
  done
  touch "$marker"
fi
