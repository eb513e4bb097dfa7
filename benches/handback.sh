#!/usr/bin/env bash
# Benchmark (not a test): seeds N case rows for one ente (AMB-BENCH, plus a
# small second ente so that the purge has others to prove intact), then times
# `siso handback export` (folder, --archive, --encrypt-to when age-keygen is
# installed), `verify` of each and `purge --choice delete`, on SQLite and on
# PostgreSQL. Targets (issue 5): export and verify >= 200,000 rows/s with
# flat memory; purge of a million rows < 60 s on both backends.
#
# Usage: benches/handback.sh [N] [sqlite|postgres|both]   (default 200000 both)
# Needs sqlite3, psql (for PostgreSQL; SISO_BENCH_POSTGRES_URL, default
# postgres://postgres@127.0.0.1:5432/postgres, is where a scratch database is
# created and dropped), bc, GNU time and a release build (cargo build --release).
set -euo pipefail
N=${1:-200000}
BACKENDS=${2:-both}
cd "$(dirname "$0")/.."
SISO=${SISO:-target/release/siso}
PG_ADMIN=${SISO_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
work=$(mktemp -d)
pgdb=siso_bench_$$
cleanup() {
    rm -rf "$work"
    if [[ $BACKENDS != sqlite ]]; then
        psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
export SISO_OPERATOR=bench

# One persona, cartella, intervento per 5 erogazioni and 2 diary notes:
# N rows in all for AMB-BENCH; 100 persons' worth for AMB-ALTRO.
seed_sqlite() {
    sqlite3 "$1" <<SQL
PRAGMA foreign_keys = ON;
INSERT INTO ente (id, codice, tipo, denominazione, stato, sottoscritto_il) VALUES
  (1, 'AMB-BENCH', 'ambito', 'Ambito di prova', 'aderente', '2019-03-01'),
  (2, 'AMB-ALTRO', 'ambito', 'Altro ambito', 'aderente', '2019-03-01');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N / 10 + 100)
INSERT INTO persona (id, titolare_id, id_temporaneo, cognome, nome, sesso, data_nascita, indirizzo)
SELECT i, CASE WHEN i <= $N / 10 THEN 1 ELSE 2 END, 'T-' || i, 'Cognome' || i, 'Nome, "detto" ' || i, 'F', '1950-01-01', 'Via Roma ' || i FROM n;
INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, aperta_il, stato)
SELECT id, titolare_id, id, 'C-' || id, '108033', '2024-01-15', 'aperta' FROM persona;
INSERT INTO intervento (id, titolare_id, cartella_id, prestazione_codice, inizio, periodicita, importo_previsto_cent, presa_in_carico)
SELECT id, titolare_id, id, 'A2.07', '2024-01-20', 'periodica', 120000, 1 FROM cartella;
WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 5)
INSERT INTO erogazione (titolare_id, intervento_id, data, importo_cent, quota_ente_cent, unita)
SELECT titolare_id, id, '2024-02-' || printf('%02d', j), 30000, 30000, 'ore' FROM intervento, k;
WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 2)
INSERT INTO diario (titolare_id, cartella_id, data, tipo, testo, riservato)
SELECT titolare_id, id, '2024-01-2' || j, 'nota', 'Colloquio con la persona, esito positivo.
Seconda riga.', j - 1 FROM cartella, k;
ANALYZE;
SQL
}

seed_postgres() {
    psql -q -v ON_ERROR_STOP=1 -o /dev/null "$1" <<SQL
INSERT INTO ente (id, codice, tipo, denominazione, stato, sottoscritto_il) VALUES
  (1, 'AMB-BENCH', 'ambito', 'Ambito di prova', 'aderente', '2019-03-01'),
  (2, 'AMB-ALTRO', 'ambito', 'Altro ambito', 'aderente', '2019-03-01');
INSERT INTO persona (id, titolare_id, id_temporaneo, cognome, nome, sesso, data_nascita, indirizzo)
SELECT i, CASE WHEN i <= $N / 10 THEN 1 ELSE 2 END, 'T-' || i, 'Cognome' || i, 'Nome, "detto" ' || i, 'F', '1950-01-01', 'Via Roma ' || i
FROM generate_series(1, $N / 10 + 100) i;
INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, aperta_il, stato)
SELECT id, titolare_id, id, 'C-' || id, '108033', '2024-01-15', 'aperta' FROM persona;
INSERT INTO intervento (id, titolare_id, cartella_id, prestazione_codice, inizio, periodicita, importo_previsto_cent, presa_in_carico)
SELECT id, titolare_id, id, 'A2.07', '2024-01-20', 'periodica', 120000, true FROM cartella;
INSERT INTO erogazione (titolare_id, intervento_id, data, importo_cent, quota_ente_cent, unita)
SELECT titolare_id, id, ('2024-02-0' || j)::date, 30000, 30000, 'ore' FROM intervento, generate_series(1, 5) j;
INSERT INTO diario (titolare_id, cartella_id, data, tipo, testo, riservato)
SELECT titolare_id, id, ('2024-01-2' || j)::date, 'nota', 'Colloquio con la persona, esito positivo.
Seconda riga.', j = 2 FROM cartella, generate_series(1, 2) j;
SELECT setval(pg_get_serial_sequence(t, 'id'), (SELECT max(id) FROM persona))
FROM unnest(ARRAY['persona', 'cartella', 'intervento']) t;
ANALYZE;
SQL
}

# run LABEL ROWS CMD...: elapsed time, rows/s and peak memory of one command.
run() {
    local label=$1 rows=$2 secs rss
    shift 2
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null
    read -r secs rss <"$work/time"
    printf '  %-24s %7.2f s  %9s rows/s  max RSS %4d MB\n' "$label" "$secs" \
        "$(echo "$rows / ($secs + 0.005)" | bc)" "$((rss / 1024))"
}

bench() {
    local backend=$1 rows
    echo "== $backend, N=$N"
    "$SISO" -q init >/dev/null
    if [[ $backend == sqlite ]]; then
        seed_sqlite "$work/siso.db"
    else
        seed_postgres "$SISO_DATABASE_URL"
    fi
    rows=$N
    local b=$work/$backend
    run "export (folder)" "$rows" "$SISO" -q handback export --ente AMB-BENCH --out "$b"
    run "verify (folder)" "$rows" "$SISO" -q handback verify "$b"
    run "export --archive" "$rows" "$SISO" -q handback export --ente AMB-BENCH --archive --out "$b.tar.gz"
    run "verify (archive)" "$rows" "$SISO" -q handback verify "$b.tar.gz"
    if command -v age-keygen >/dev/null; then
        age-keygen -o "$work/$backend.key" 2>/dev/null
        run "export --encrypt-to" "$rows" "$SISO" -q handback export --ente AMB-BENCH \
            --encrypt-to "$(age-keygen -y "$work/$backend.key")" --out "$b.tar.gz.age"
        run "verify (encrypted)" "$rows" "$SISO" -q handback verify "$b.tar.gz.age" --identity "$work/$backend.key"
    fi
    echo "  sizes: folder $(du -sh "$b" | cut -f1), archive $(du -h "$b.tar.gz" | cut -f1)"
    run "purge --choice delete" "$rows" "$SISO" -q handback purge --ente AMB-BENCH --bundle "$b" \
        --choice delete --reference "bench" --yes
    rm -rf "$b" "$b".tar.gz*
}

if [[ $BACKENDS != postgres ]]; then
    SISO_DATABASE_URL="sqlite:$work/siso.db" bench sqlite
    rm -f "$work"/siso.db*
fi
if [[ $BACKENDS != sqlite ]]; then
    psql -q "$PG_ADMIN" -c "CREATE DATABASE $pgdb" >/dev/null
    SISO_DATABASE_URL="${PG_ADMIN%/*}/$pgdb" bench postgres
fi
