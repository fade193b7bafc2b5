#!/usr/bin/env bash
# The MLflow export against a real MLflow tracking server on 127.0.0.1, read
# back with MLflow's own Python client. Needs the smoke reproduction's store
# (results-quick/, from `cargo xtask reproduce --quick`). MLflow is installed
# into a virtual environment of its own (MLFLOW_VENV, default
# /tmp/mlflow-venv): it is a tool of this check, never of the project.
#
#   1. an export to a port where nothing listens fails, naming the URI and request;
#   2. an export cut off mid-way (a proxy that drops the connection at the
#      21st log-batch request, as a server stopped mid-export) fails, and the
#      next export finishes it: the half-sent run is replaced, nothing doubled;
#   3. the server holds exactly the stored (experiment, run) pairs, one run's
#      params match its manifest and its metric histories its table, every
#      run has its weights (.ci/check_mlflow.py);
#   4. exporting again creates nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${MLFLOW_VENV:-/tmp/mlflow-venv}
if [ ! -x "$venv/bin/mlflow" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check mlflow
fi
"$venv/bin/mlflow" --version

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
port=$(free_port)
uri=http://127.0.0.1:$port
# In a process group of its own (setsid), so that stopping it stops its
# workers too (uvicorn's and MLflow's job consumers).
setsid "$venv/bin/mlflow" server --backend-store-uri "sqlite:///$work/mlflow.db" \
  --artifacts-destination "$work/artifacts" --host 127.0.0.1 --port "$port" \
  >"$work/server.log" 2>&1 </dev/null &
server=$!
proxy=
stop() {
  if [ -n "$proxy" ]; then kill "$proxy" 2>/dev/null || true; fi
  kill -TERM -- "-$server" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 -- "-$server" 2>/dev/null || break; sleep 0.5; done
  kill -KILL -- "-$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 180); do
  curl -fs "$uri/health" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 1
done
curl -fs "$uri/health" >/dev/null || { echo "the MLflow server did not start"; cat "$work/server.log"; exit 1; }

cargo xtask list --quick --ids >"$work/ids.tsv"
pairs=$(awk -F'\t' '$4 != "missing"' "$work/ids.tsv" | wc -l)
echo "mlflow check: $pairs stored (experiment, run) pairs in results-quick, server at $uri"

# 1. Nobody there.
dead=$(free_port)
if cargo xtask export mlflow --quick --tracking-uri "http://127.0.0.1:$dead" 2>"$work/dead.log"; then
  echo "an export to a port where nothing listens succeeded"; exit 1
fi
cat "$work/dead.log"
grep -q "no answer from the MLflow server at http://127.0.0.1:$dead to GET /api/2.0/mlflow/experiments/get-by-name" "$work/dead.log"

# 2. Cut off at the 21st log-batch, then finished by the next export.
cut=$(free_port)
python3 .ci/mlflow_cut.py "$cut" "$uri" 20 &
proxy=$!
for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$cut") 2>/dev/null && break; sleep 0.1; done
if cargo xtask export mlflow --quick --artifacts --tracking-uri "http://127.0.0.1:$cut" 2>"$work/cut.log"; then
  echo "an export cut off mid-way succeeded"; exit 1
fi
wait "$proxy" || true
tail -3 "$work/cut.log"
grep -q "no answer from the MLflow server at http://127.0.0.1:$cut" "$work/cut.log"
grep -q "finished by running the same command again" "$work/cut.log"
MLFLOW_TRACKING_URI=$uri cargo xtask export mlflow --quick --artifacts | tee "$work/first.log"
grep -Eq "exported to $uri: [0-9]+ runs created, [1-9][0-9]* found, 0 skipped \(1 replacing an interrupted or outdated export" "$work/first.log"

# 3. What the server holds, read with MLflow's client.
"$venv/bin/python" .ci/check_mlflow.py "$uri" results-quick "$work/ids.tsv" --artifacts | tee "$work/check1.log"
test "$(tail -1 "$work/check1.log")" = "$pairs"

# 4. Again: nothing new.
cargo xtask export mlflow --quick --tracking-uri "$uri" | tee "$work/second.log"
grep -q "exported to $uri: 0 runs created, $pairs found, 0 skipped" "$work/second.log"
"$venv/bin/python" .ci/check_mlflow.py "$uri" results-quick "$work/ids.tsv" | tail -1 | grep -qx "$pairs"
echo "mlflow check: passed"
