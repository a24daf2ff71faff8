#!/usr/bin/env bash
# Streaming on real data, end to end, with a real redis-server:
#   1. fit a window LSTM and a stateful LSTM on the AMZN LOBSTER sample (examples/amzn_streaming.toml, a run folder);
#   2. replay the day's 57,515 events into a Redis Stream;
#   3. serve each model on it (online features + model step per event, onnxruntime), predictions to a Parquet sink;
#   4. score each sink against the realised labels on the rows the model never saw (evaluation.html in the sink).
# Needs redis-server on PATH (apt-get install redis-server): this script starts its own on a free loopback port in a
# temporary folder and stops it at the end. Usage: bash examples/stream_amzn.sh [RUN_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
command -v redis-server >/dev/null || { echo "redis-server not found on PATH: apt-get install redis-server" >&2; exit 1; }
data=../shared/data/lobster/LOBSTER_SampleFile_AMZN_2012-06-21_1.zip
[ -f "$data" ] || { echo "$data not found (the shared LOBSTER sample; see ../shared/data/README.md)" >&2; exit 1; }
run=${1:-runs/amzn-streaming-$(date -u +%Y%m%dT%H%M%S)}
work=$(mktemp -d)
port=$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no --daemonize yes \
    --pidfile "$work/redis.pid" --logfile "$work/redis.log"
trap 'kill "$(cat "$work/redis.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
url="redis://127.0.0.1:$port/0"
for _ in $(seq 50); do [ -f "$work/redis.pid" ] && break; sleep 0.1; done

.venv/bin/signalbench run examples/amzn_streaming.toml --out "$run" --quiet --no-report
.venv/bin/signalbench stream replay "$data" --stream lob:events --speed max --redis "$url"
for spec in "lstm window" "stateful_lstm stateful"; do
    read -r model mode <<<"$spec"
    .venv/bin/signalbench stream infer --model "$run/models/$model" --mode "$mode" --backend onnxruntime \
        --in lob:events --out "lob:predictions:$model" --group "$model" --sink "$run/stream/$model" \
        --redis "$url" --exit-at-end --metrics-interval 5
    .venv/bin/signalbench stream evaluate "$run/stream/$model"
done
echo "run folder: $run (stream sinks and evaluation.html under $run/stream/)"
