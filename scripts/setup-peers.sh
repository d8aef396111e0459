#!/usr/bin/env bash
# Installs the real Delta peers the interop tests talk to: a project-local Python venv with pinned
# pyspark, delta-spark and deltalake, and the delta-spark and spark-avro jars cached once from Maven Central
# (the Spark engine, src/spark, runs with them: `sensorlake backfill --engine spark`).
# Idempotent: a marker file records the pinned set, so a rerun with nothing changed costs nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.venv"
jars="$root/.cache/jars"
req="$root/scripts/peers-requirements.txt"
delta_version="3.3.2"
scala_version="2.12"
spark_avro_version="3.5.6" # = pyspark in peers-requirements.txt

if [ ! -f "$venv/.installed" ] || ! cmp -s "$req" "$venv/.installed"; then
  echo "setup-peers: creating $venv with $(tr '\n' ' ' < "$req")" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.installed"
fi

# The jars come from Maven Central through Maven, once: without mvn there is nothing to fetch them with.
need_mvn() {
  command -v mvn > /dev/null && return 0
  echo "setup-peers: needs mvn (Apache Maven) once, to fetch $1 into $jars; install it (Debian: apt-get install maven) and rerun" >&2
  exit 1
}

marker="$jars/.delta-$delta_version"
if [ ! -f "$marker" ]; then
  need_mvn "the delta-spark $delta_version jars"
  echo "setup-peers: fetching delta-spark $delta_version jars into $jars" >&2
  mkdir -p "$jars"
  for artifact in "io.delta:delta-spark_$scala_version:$delta_version" "io.delta:delta-storage:$delta_version"; do
    mvn -q -B dependency:copy -Dartifact="$artifact" -DoutputDirectory="$jars" >&2
  done
  touch "$marker"
fi

avro_marker="$jars/.spark-avro-$spark_avro_version"
if [ ! -f "$avro_marker" ]; then
  need_mvn "the spark-avro $spark_avro_version jar"
  echo "setup-peers: fetching spark-avro $spark_avro_version into $jars" >&2
  mkdir -p "$jars"
  mvn -q -B dependency:copy -Dartifact="org.apache.spark:spark-avro_$scala_version:$spark_avro_version" -DoutputDirectory="$jars" >&2
  touch "$avro_marker"
fi

# The Spark engine's LogStore for file: lakes (src/spark/java/LinkLogStore.java): commits by hard link, exclusive
# across processes like ours. Compiled against the venv's Hadoop and the cached delta-storage; skipped without a JDK.
logstore_src="$root/src/spark/java/LinkLogStore.java"
logstore_jar="$jars/sensorlake-logstore.jar"
logstore_marker="$jars/.sensorlake-logstore-$(sha256sum "$logstore_src" | cut -c1-16)"
if [ ! -f "$logstore_marker" ] && ! command -v javac > /dev/null; then
  echo "setup-peers: no javac (a JDK 17: Debian's openjdk-17-jdk-headless), so $logstore_jar is not built; the Spark engine" \
    "then commits with Spark's default LogStore, which is not exclusive against our own writers on the same file: lake" >&2
elif [ ! -f "$logstore_marker" ]; then
  echo "setup-peers: compiling $logstore_src" >&2
  build="$(mktemp -d)"
  hadoop_api="$(ls "$venv"/lib/python3*/site-packages/pyspark/jars/hadoop-client-api-*.jar | head -1)"
  # Without it the Spark engine runs on Spark's own LogStore: a failed build is reported, not fatal.
  if javac --release 8 -nowarn -cp "$hadoop_api:$jars/delta-storage-$delta_version.jar" -d "$build" "$logstore_src" >&2 \
    && (cd "$build" && jar cf "$logstore_jar" sensorlake); then
    rm -f "$jars"/.sensorlake-logstore-*
    touch "$logstore_marker"
  else
    echo "setup-peers: could not build $logstore_jar; the Spark engine will use Spark's default LogStore" >&2
  fi
  rm -rf "$build"
fi
