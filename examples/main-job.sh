#!/usr/bin/env bash
# The main job on the embedded default (a SQLite file), with the bundled examples:
# create the database with its reference data and show the schema's state.
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

echo "== 3. a look-up in the reference data: the comune of the Capofila"
siso codes comuni Monza --limit 3
