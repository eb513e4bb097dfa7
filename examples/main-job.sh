#!/usr/bin/env bash
# The main job on the embedded default (a SQLite file), with the bundled examples:
# create the database with its reference data, onboard the protocol's signatories,
# list what the protocol's deadlines still ask of them, import the legacy case
# data of the example ambito, and print its usage report (Art. 5).
# Usage: examples/main-job.sh [DATABASE_FILE]   (default: ./siso.db)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
db="${1:-siso.db}"
export SISO_DATABASE_URL="sqlite:$db"

cargo build --quiet --manifest-path "$here/Cargo.toml"
siso() { "$here/target/debug/siso" "$@"; }

echo "== 1. create the database, run the migrations, load the reference codes"
siso init

echo "== 2. the schema's state"
siso migrate status

echo "== 3. onboard the signatories of the protocol (safe to repeat: a second run changes nothing)"
siso onboard "$here"/examples/onboarding/*.toml

echo "== 4. the entes, their deadlines and privacy roles"
siso ente list

echo "== 5. what the protocol's deadlines still ask (exit 1 when something is overdue)"
siso compliance || echo "(siso compliance exited $?: the overdue items above need action)"

echo "== 6. import an old cartella system's exports for the Ambito di Monza (safe to repeat)"
legacy="$here/examples/legacy"
siso import "$legacy/operatori.xlsx" "$legacy/cartella_old_persone.csv" \
  "$legacy/cartella_old_cartelle.csv" "$legacy/cartella_old_interventi.csv" --ente AMB-MONZA

echo "== 7. the import batches"
siso import list

echo "== 8. the usage report of the example ambito since 2019 (Art. 5: counts only; counts of 1 and 2 read <3)"
siso report usage --ambito AMB-MONZA --from 2019-01-01 --to "$(date +%F)"
