#!/usr/bin/env bash
# Import benchmark (issue 4): siso's import with full validation against the
# raw baselines, on SQLite and on PostgreSQL, on generated legacy exports.
#
#   benches/import.sh [PERSONS]        (default 155000: about 1,000,000 rows)
#
# Baselines load the same files raw into untyped tables without indexes:
# `sqlite3 .import` and PostgreSQL `COPY` (psql \copy). Reports rows/s and
# siso's peak memory.
#
# A third line per backend, the floor, is the database work alone: the rows
# siso stored (persons, cases, interventions, deliveries and their crosswalk
# lines), copied by the database itself into a fresh siso database with its
# keys, foreign keys and indexes, with no file read and nothing validated
# (SQLite: INSERT ... SELECT from the imported database, the non-unique
# indexes set aside and built again as siso does; PostgreSQL: pg_dump's COPY
# into the same schema). No import can beat it, so raw / floor is the
# highest ratio any importer could reach on this schema. The usage
# statistics siso refreshes at the end are not in the floor.
#
# Needs sqlite3, psql, pg_dump, and PostgreSQL at $SISO_TEST_POSTGRES_URL
# (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
persons="${1:-155000}"
admin="${SISO_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
work="$(mktemp -d)"
trap 'rm -rf "$work"; psql -q "$admin" -c "DROP DATABASE IF EXISTS siso_bench_import WITH (FORCE)" -c "DROP DATABASE IF EXISTS siso_bench_raw WITH (FORCE)" -c "DROP DATABASE IF EXISTS siso_bench_floor WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

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
sqlite3 "$work/siso.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$work/siso.db" "$work/floor.db"
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

# The floor: what siso stored, copied into the fresh database it started from.
stored=(persona cartella cartella_stato intervento erogazione crosswalk)
in_list="$(printf "'%s'," "${stored[@]}")"
{
  echo "PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;"
  echo "ATTACH '$work/siso.db' AS src;"
  echo "BEGIN;"
  echo "INSERT INTO import_batch SELECT * FROM src.import_batch;"
  sqlite3 "$work/floor.db" "SELECT 'DROP INDEX \"' || name || '\";' FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN (${in_list%,})"
  # WHERE 1 keeps SQLite from copying pages whole: rows go in one by one.
  for t in "${stored[@]}"; do echo "INSERT INTO main.$t SELECT * FROM src.$t WHERE 1;"; done
  sqlite3 "$work/floor.db" "SELECT sql || ';' FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN (${in_list%,})"
  echo "COMMIT;"
} > "$work/floor.sql"
read -r f_secs _ < <(timed sqlite3 -bail "$work/floor.db" ".read $work/floor.sql")
for t in "${stored[@]}"; do
  [ "$(sqlite3 "$work/floor.db" "SELECT count(*) FROM $t")" = "$(sqlite3 "$work/siso.db" "SELECT count(*) FROM $t")" ] || { echo "floor: $t differs" >&2; exit 1; }
done

# --- PostgreSQL ----------------------------------------------------------------
base="${admin%/*}"
psql -q "$admin" -c "CREATE DATABASE siso_bench_import" -c "CREATE DATABASE siso_bench_raw" -c "CREATE DATABASE siso_bench_floor"
for db in siso_bench_import siso_bench_floor; do
  SISO_DATABASE_URL="$base/$db" "$siso" -q init >/dev/null
  SISO_DATABASE_URL="$base/$db" "$siso" -q onboard "$here/examples/onboarding/17-ambito-monza.toml" >/dev/null
done
export SISO_DATABASE_URL="$base/siso_bench_import"
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

# The floor on PostgreSQL: the stored rows, dumped and loaded in one transaction.
{
  echo "BEGIN;"
  pg_dump --data-only -t import_batch $(printf -- '-t %s ' "${stored[@]}") "$base/siso_bench_import" | grep -v '^SELECT pg_catalog.setval'
  echo "COMMIT;"
} > "$work/floor-pg.sql"
read -r g_secs _ < <(timed psql -q -v ON_ERROR_STOP=1 "$base/siso_bench_floor" -f "$work/floor-pg.sql")
for t in "${stored[@]}"; do
  [ "$(psql -qtA "$base/siso_bench_floor" -c "SELECT count(*) FROM $t")" = "$(psql -qtA "$base/siso_bench_import" -c "SELECT count(*) FROM $t")" ] || { echo "floor: $t differs on PostgreSQL" >&2; exit 1; }
done

echo
printf '%-44s %10s %12s %10s\n' "" "seconds" "rows/s" "peak RSS"
printf '%-44s %10s %12s %10s\n' "siso import, SQLite (full validation)" "$s_secs" "$(rate "$rows" "$s_secs")" "$((s_rss / 1024)) MiB"
printf '%-44s %10s %12s\n' "sqlite3 .import, raw untyped tables" "$r_secs" "$(rate "$rows" "$r_secs")"
printf '%-44s %10s %12s\n' "floor: siso's rows copied by SQLite itself" "$f_secs" "$(rate "$rows" "$f_secs")"
printf '%-44s %10s %12s %10s\n' "siso import, PostgreSQL (full validation)" "$p_secs" "$(rate "$rows" "$p_secs")" "$((p_rss / 1024)) MiB"
printf '%-44s %10s %12s\n' "psql \\copy (COPY), raw untyped tables" "$c_secs" "$(rate "$rows" "$c_secs")"
printf '%-44s %10s %12s\n' "floor: siso's rows by COPY (pg_dump)" "$g_secs" "$(rate "$rows" "$g_secs")"
echo
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
echo "SQLite ratio: $(ratio "$r_secs" "$s_secs") (target >= 0.50); the floor's: $(ratio "$r_secs" "$f_secs"); siso against the floor: $(ratio "$f_secs" "$s_secs")"
echo "PostgreSQL ratio: $(ratio "$c_secs" "$p_secs") (target >= 0.35); the floor's: $(ratio "$c_secs" "$g_secs"); siso against the floor: $(ratio "$g_secs" "$p_secs")"
echo "rejected rows: $(($(wc -l < "$work/rejects.csv") - 1)) (SQLite), $(($(wc -l < "$work/rejects-pg.csv") - 1)) (PostgreSQL)"
