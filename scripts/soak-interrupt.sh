#!/usr/bin/env bash
# Runs the interrupt tests N times in a row (default 20) while two busy loops keep both cores
# loaded, and stops at the first failure.  Usage: bash scripts/soak-interrupt.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
py=.venv/bin/python
busy=()
for _ in 1 2; do
  timeout 900 "$py" -c "while True: pass" & busy+=("$!")
done
trap 'kill "${busy[@]}" 2>/dev/null || true' EXIT
tests=(
  "tests/test_magics.py::test_interrupt_stops_within_half_a_second_and_keeps_the_partial_answer"
  "tests/test_regress_core.py::test_interrupt_during_retry_after_wait_sends_no_second_request"
  "tests/test_regress_core.py::test_interrupted_partial_text_is_every_delta_shown"
  "tests/test_panel.py::test_stop_cancels_within_half_a_second_and_keeps_the_head"
  "tests/test_panel_faults.py::test_stop_during_a_retry_after_wait_sends_no_second_request"
)
for i in $(seq 1 "$runs"); do
  if ! "$py" -m pytest -q -p no:cacheprovider "${tests[@]}" > /tmp/agc-soak.log 2>&1; then
    echo "run $i of $runs failed:"; tail -30 /tmp/agc-soak.log; exit 1
  fi
  echo "run $i of $runs: $(tail -1 /tmp/agc-soak.log)"
done
echo "$runs passed, 0 failed"
