#!/usr/bin/env bash
# Import benchmark (issue 4): siso's import with full validation against the
# raw baselines, on SQLite and on PostgreSQL, on generated legacy exports.
#
#   benches/import.sh [PERSONS]        (default 155000: about 1,000,000 rows)
#
# Baselines load the same files raw into untyped tables without indexes:
# `sqlite3 .import` and PostgreSQL `COPY` (psql \copy). Reports rows/s and
# siso's peak memory. Needs sqlite3, psql, and PostgreSQL at
# $SISO_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
persons="${1:-155000}"
admin="${SISO_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
work="$(mktemp -d)"
trap 'rm -rf "$work"; psql -q "$admin" -c "DROP DATABASE IF EXISTS siso_bench_import WITH (FORCE)" -c "DROP DATABASE IF EXISTS siso_bench_raw WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

cargo build --quiet --release --manifest-path "$here/Cargo.toml" --bin siso --example gen_legacy
siso="$here/target/release/siso"
rows=$("$here/target/release/examples/gen_legacy" "$work/data" "$persons")
files=("$work/data/persone.csv" "$work/data/cartelle.csv" "$work/data/interventi.csv" "$work/data/erogazioni.csv")
echo "dataset: $rows rows ($persons persons), $(du -sh "$work/data" | cut -f1), Windows-1252, ';', dd/mm/yyyy, decimal commas, ~2% dirty"

rate() { python3 -c "print(f'{$1/$2:,.0f}')"; }
timed() { # prints seconds and peak RSS (KiB) of a command; exit 1 (rejected rows) is expected
  local rc=0
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/err" || rc=$?
  if [ "$rc" -gt 1 ]; then cat "$work/err" >&2; return 1; fi
  tail -n 1 "$work/time"
}

# --- SQLite ------------------------------------------------------------------
export SISO_DATABASE_URL="sqlite:$work/siso.db"
"$siso" -q init >/dev/null
"$siso" -q onboard "$here/examples/onboarding/17-ambito-monza.toml" >/dev/null
read -r s_secs s_rss < <(timed "$siso" -q import "${files[@]}" --ente AMB-MONZA --max-error-rate 0.1 --rejects "$work/rejects.csv")

raw_sql=""
for f in persone cartelle interventi erogazioni; do raw_sql+=".import --skip 1 $work/data/$f.csv raw_$f
"; done
{
  echo "CREATE TABLE raw_persone(a,b,c,d,e,f,g,h,i); CREATE TABLE raw_cartelle(a,b,c,d,e,f);"
  echo "CREATE TABLE raw_interventi(a,b,c,d,e,f,g); CREATE TABLE raw_erogazioni(a,b,c,d,e);"
  echo ".mode csv"
  echo ".separator ;"
  printf '%s' "$raw_sql"
} > "$work/raw.sql"
read -r r_secs _ < <(timed sqlite3 "$work/raw.db" ".read $work/raw.sql")

# --- PostgreSQL ----------------------------------------------------------------
base="${admin%/*}"
psql -q "$admin" -c "CREATE DATABASE siso_bench_import" -c "CREATE DATABASE siso_bench_raw"
export SISO_DATABASE_URL="$base/siso_bench_import"
"$siso" -q init >/dev/null
"$siso" -q onboard "$here/examples/onboarding/17-ambito-monza.toml" >/dev/null
read -r p_secs p_rss < <(timed "$siso" -q import "${files[@]}" --ente AMB-MONZA --max-error-rate 0.1 --rejects "$work/rejects-pg.csv")
{
  echo "CREATE UNLOGGED TABLE raw_persone(a text,b text,c text,d text,e text,f text,g text,h text,i text);"
  echo "CREATE UNLOGGED TABLE raw_cartelle(a text,b text,c text,d text,e text,f text);"
  echo "CREATE UNLOGGED TABLE raw_interventi(a text,b text,c text,d text,e text,f text,g text);"
  echo "CREATE UNLOGGED TABLE raw_erogazioni(a text,b text,c text,d text,e text);"
  for f in persone cartelle interventi erogazioni; do
    echo "\\copy raw_$f FROM '$work/data/$f.csv' WITH (FORMAT csv, DELIMITER ';', HEADER true, ENCODING 'WIN1252')"
  done
} > "$work/raw-pg.sql"
read -r c_secs _ < <(timed psql -q "$base/siso_bench_raw" -f "$work/raw-pg.sql")

echo
printf '%-44s %10s %12s %10s\n' "" "seconds" "rows/s" "peak RSS"
printf '%-44s %10s %12s %10s\n' "siso import, SQLite (full validation)" "$s_secs" "$(rate "$rows" "$s_secs")" "$((s_rss / 1024)) MiB"
printf '%-44s %10s %12s\n' "sqlite3 .import, raw untyped tables" "$r_secs" "$(rate "$rows" "$r_secs")"
printf '%-44s %10s %12s %10s\n' "siso import, PostgreSQL (full validation)" "$p_secs" "$(rate "$rows" "$p_secs")" "$((p_rss / 1024)) MiB"
printf '%-44s %10s %12s\n' "psql \\copy (COPY), raw untyped tables" "$c_secs" "$(rate "$rows" "$c_secs")"
echo
echo "SQLite ratio: $(python3 -c "print(f'{$r_secs/$s_secs:.2f}')") (target >= 0.50); PostgreSQL ratio: $(python3 -c "print(f'{$c_secs/$p_secs:.2f}')") (target >= 0.35)"
echo "rejected rows: $(($(wc -l < "$work/rejects.csv") - 1)) (SQLite), $(($(wc -l < "$work/rejects-pg.csv") - 1)) (PostgreSQL)"
