#!/usr/bin/env bash
# Usage report benchmark (issue 6), not a test: on SQLite and on PostgreSQL,
# with the indexes the migrations create, times
#   siso report usage --ambito A --year 2024      (one ambito of 10 comuni)
#   siso report usage --all-ambiti --year 2024    (100 ambiti of 10 comuni)
# Targets: under 1 s and under 5 s.
#
#   benches/report.sh [CARTELLE] [AMBITI] [CARTELLE_ALL]
#                                 (default 1000000, 100 and CARTELLE)
#
# Two synthetic data sets per backend, generated straight in the database by
# SQL (a recursive CTE on SQLite, generate_series on PostgreSQL): CARTELLE
# cartelle in one ambito, then CARTELLE_ALL cartelle over AMBITI ambiti. Each
# has as many persons as cartelle, 3 interventi and 3 erogazioni per
# cartella, a diary note every second cartella, 50 operators per ambito,
# real ISTAT codes with their population. Case data written by SQL, so
# `siso report refresh` computes the usage statistics (timed too). Each
# report runs once to warm the caches, then the best of 3 is printed.
# Everything is deleted at the end. Needs sqlite3, psql, and PostgreSQL at
# $SISO_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cartelle="${1:-1000000}"
ambiti="${2:-100}"
cartelle_all="${3:-$cartelle}"
admin="${SISO_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
pgdb=siso_bench_report
work="$(mktemp -d)"
trap 'rm -rf "$work"; psql -q "$admin" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
export SISO_OPERATOR=bench PGOPTIONS=--client-min-messages=warning

cargo build --quiet --release --manifest-path "$here/Cargo.toml" --bin siso
siso="$here/target/release/siso"

# The SQL of one data set: $1 backend, $2 cartelle, $3 ambiti (10 comuni each).
generate_sql() {
  local backend=$1 n=$2 na=$3 nk=$(($3 * 10))
  if [ "$backend" = sqlite ]; then
    series() { echo "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < $1)"; }
    from() { echo "s"; }
    add_days() { echo "date($1, '+' || ($2) || ' days')"; }
    pad() { echo "printf('%03d', $1)"; }
    day() { echo "'$1'"; }
    echo "PRAGMA foreign_keys = ON;"
  else
    series() { echo ""; }
    from() { echo "generate_series(1::bigint, $1::bigint) AS s(x)"; }
    add_days() { echo "($1 + ($2)::int)"; }
    pad() { echo "lpad(($1)::text, 3, '0')"; }
    day() { echo "DATE '$1'"; }
    echo "\\set ON_ERROR_STOP 1"
    echo "SET synchronous_commit = off;"
  fi
  cat <<SQL
BEGIN;
$(series "$na") INSERT INTO ente (codice, tipo, denominazione, stato, sottoscritto_il)
  SELECT 'AMB-BENCH-' || $(pad "x - 1"), 'ambito', 'Ambito di prova ' || $(pad "x - 1"), 'aderente', $(day 2020-01-01) FROM $(from "$na");
CREATE TABLE bench_comune (k BIGINT PRIMARY KEY, istat TEXT NOT NULL, ambito_id BIGINT NOT NULL);
INSERT INTO bench_comune (k, istat, ambito_id)
  SELECT r - 1, istat, (SELECT min(id) FROM ente WHERE codice LIKE 'AMB-BENCH-%') + (r - 1) / 10 FROM (
    SELECT istat, row_number() OVER (ORDER BY istat) AS r FROM comune
     WHERE valido_al IS NULL AND istat IS NOT NULL AND popolazione IS NOT NULL) c
   WHERE r <= $nk;
INSERT INTO appartenenza_ambito (ambito_id, comune_istat, valido_dal) SELECT ambito_id, istat, $(day 2018-01-01) FROM bench_comune;
$(series $((na * 50))) INSERT INTO operatore (id, titolare_id, cognome, nome, professione)
  SELECT x, (SELECT min(id) FROM ente WHERE codice LIKE 'AMB-BENCH-%') + (x - 1) / 50, 'Operatore', 'Op', 'assistente_sociale' FROM $(from $((na * 50)));
CREATE TABLE bench_codice (k BIGINT PRIMARY KEY, codice TEXT NOT NULL);
INSERT INTO bench_codice (k, codice) VALUES (0, 'A1.01'), (1, 'A1.02'), (2, 'A1.04'), (3, 'A1.05'), (4, 'A1.06'),
  (5, 'A1.07'), (6, 'A1.11'), (7, 'A1.12'), (8, 'A1.14'), (9, 'A1.16'), (10, 'A2.01'), (11, 'A2.02'), (12, 'A2.07'),
  (13, 'A2.08'), (14, 'A2.10'), (15, 'A2.11'), (16, 'A2.12'), (17, 'A3.01'), (18, 'A3.02'), (19, 'A3.03');
$(series "$n") INSERT INTO persona (id, titolare_id, id_temporaneo, cognome, nome)
  SELECT x, b.ambito_id, 'T' || x, 'Cognome', 'Nome' FROM $(from "$n") JOIN bench_comune b ON b.k = x % $nk;
$(series "$n") INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, operatore_id, categoria_siso, aperta_il, chiusa_il, stato)
  SELECT x, b.ambito_id, x, 'N' || x, b.istat,
    CASE WHEN x % 37 = 0 THEN NULL ELSE (b.k / 10) * 50 + x % 50 + 1 END,
    CASE WHEN x % 20 = 0 THEN NULL ELSE CAST(x % 4 + 1 AS TEXT) END,
    $(add_days "$(day 2018-01-01)" "(x * 7919) % 2900"),
    CASE WHEN x % 3 = 0 THEN $(add_days "$(add_days "$(day 2018-01-01)" "(x * 7919) % 2900")" "x % 700") END,
    CASE WHEN x % 3 = 0 THEN 'chiusa' ELSE 'aperta' END
  FROM $(from "$n") JOIN bench_comune b ON b.k = x % $nk;
$(series $((3 * n))) INSERT INTO intervento (id, titolare_id, cartella_id, prestazione_codice, inizio, periodicita)
  SELECT x, c.titolare_id, c.id, CASE WHEN x % 101 = 0 THEN NULL ELSE bc.codice END, $(add_days "c.aperta_il" "x % 200"), 'periodica'
  FROM $(from $((3 * n))) JOIN cartella c ON c.id = (x + 2) / 3 JOIN bench_codice bc ON bc.k = (x * 7) % 20;
$(series $((3 * n))) INSERT INTO erogazione (id, titolare_id, intervento_id, data, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent)
  SELECT x, i.titolare_id, i.id, $(add_days "i.inizio" "x % 60"), (x % 500) * 100, (x % 5) * 100, 0, (x % 500) * 100 - (x % 5) * 100
  FROM $(from $((3 * n))) JOIN intervento i ON i.id = x;
$(series $((n / 2))) INSERT INTO diario (id, titolare_id, cartella_id, data, tipo, testo, operatore_id)
  SELECT x, c.titolare_id, c.id, $(add_days "c.aperta_il" "x % 90"), 'nota', '-', c.operatore_id
  FROM $(from $((n / 2))) JOIN cartella c ON c.id = 2 * x;
DROP TABLE bench_comune;
DROP TABLE bench_codice;
COMMIT;
SQL
  # PostgreSQL needs VACUUM for index-only scans (the visibility map).
  if [ "$backend" = sqlite ]; then echo "ANALYZE;"; else echo "VACUUM ANALYZE;"; fi
}

# Best of 3 runs (after one warm-up) of a command, in seconds.
best() {
  "$@" >/dev/null
  local b=999999 t
  for _ in 1 2 3; do
    t=$( { /usr/bin/time -f "%e" "$@" >/dev/null; } 2>&1 | tail -n 1 )
    b=$(python3 -c "print(min($b, $t))")
  done
  echo "$b"
}

declare -A result
run() { # backend, label, ambiti, cartelle
  local backend=$1 label=$2 na=$3 n=$4 t0 t1
  if [ "$backend" = sqlite ]; then
    rm -f "$work/siso.db"*
    export SISO_DATABASE_URL="sqlite:$work/siso.db"
    "$siso" -q init >/dev/null
    t0=$(date +%s.%N)
    generate_sql sqlite "$n" "$na" | sqlite3 "$work/siso.db"
  else
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" -c "CREATE DATABASE $pgdb" >/dev/null
    export SISO_DATABASE_URL="${admin%/*}/$pgdb"
    "$siso" -q init >/dev/null
    t0=$(date +%s.%N)
    generate_sql postgres "$n" "$na" | psql -q "$SISO_DATABASE_URL" >/dev/null
  fi
  t1=$(date +%s.%N)
  echo "$backend, $label: generated $n cartelle over $na ambiti in $(python3 -c "print(f'{$t1 - $t0:.1f}')") s" >&2
  result[$backend,$label,refresh]=$( { /usr/bin/time -f "%e" "$siso" -q report refresh >/dev/null; } 2>&1 | tail -n 1 )
  if [ "$na" = 1 ]; then
    result[$backend,$label]=$(best "$siso" -q report usage --ambito AMB-BENCH-000 --year 2024 --format json)
  else
    result[$backend,$label]=$(best "$siso" -q report usage --all-ambiti --year 2024 --format json)
  fi
  echo "$backend, $label: report ${result[$backend,$label]} s, report refresh ${result[$backend,$label,refresh]} s" >&2
  if [ "$backend" = sqlite ]; then rm -f "$work/siso.db"*; else psql -q "$admin" -c "DROP DATABASE $pgdb WITH (FORCE)" >/dev/null; fi
}

for backend in sqlite postgres; do
  run "$backend" one 1 "$cartelle"
  run "$backend" all "$ambiti" "$cartelle_all"
done

echo
echo "siso report usage --year 2024 (best of 3, seconds): one ambito with $cartelle cartelle and"
echo "$((3 * cartelle)) interventi; $ambiti ambiti with $cartelle_all cartelle in all"
printf '%-44s %8s %10s %8s\n' "" SQLite PostgreSQL target
printf '%-44s %8s %10s %8s\n' "--ambito (1 ambito, 10 comuni)" "${result[sqlite,one]}" "${result[postgres,one]}" 1
printf '%-44s %8s %10s %8s\n' "--all-ambiti ($ambiti ambiti, $((ambiti * 10)) comuni)" "${result[sqlite,all]}" "${result[postgres,all]}" 5
printf '%-44s %8s %10s %8s\n' "report refresh, 1 ambito (once, after SQL)" "${result[sqlite,one,refresh]}" "${result[postgres,one,refresh]}" -
