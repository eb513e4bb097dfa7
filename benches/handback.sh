#!/usr/bin/env bash
# Benchmark (not a test): seeds N case rows for one ente in a fresh SQLite
# database, then times `siso handback export` and `siso handback verify`.
# Usage: benches/handback.sh [N] (default 200000); needs sqlite3 and a
# release build (cargo build --release).
set -euo pipefail
N=${1:-200000}
cd "$(dirname "$0")/.."
SISO=${SISO:-target/release/siso}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SISO_DATABASE_URL="sqlite:$work/siso.db" SISO_OPERATOR=bench
"$SISO" -q init
# One persona, cartella, intervento per 10 erogazioni, diary notes, ~N rows in all.
sqlite3 "$work/siso.db" <<SQL
PRAGMA foreign_keys = ON;
INSERT INTO ente (id, codice, tipo, denominazione, stato, sottoscritto_il) VALUES (1, 'AMB-BENCH', 'ambito', 'Ambito di prova', 'aderente', '2019-03-01');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N / 10)
INSERT INTO persona (id, titolare_id, id_temporaneo, cognome, nome, sesso, data_nascita, indirizzo)
SELECT i, 1, 'T-' || i, 'Cognome' || i, 'Nome, "detto" ' || i, 'F', '1950-01-01', 'Via Roma ' || i FROM n;
INSERT INTO cartella (id, titolare_id, persona_id, numero, comune_istat, aperta_il, stato)
SELECT id, 1, id, 'C-' || id, '108033', '2024-01-15', 'aperta' FROM persona;
INSERT INTO intervento (id, titolare_id, cartella_id, prestazione_codice, inizio, periodicita, importo_previsto_cent, presa_in_carico)
SELECT id, 1, id, 'A2.07', '2024-01-20', 'periodica', 120000, 1 FROM cartella;
WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 5)
INSERT INTO erogazione (titolare_id, intervento_id, data, importo_cent, quota_ente_cent, unita)
SELECT 1, id, '2024-02-' || printf('%02d', j), 30000, 30000, 'ore' FROM intervento, k;
WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 2)
INSERT INTO diario (titolare_id, cartella_id, data, tipo, testo, riservato)
SELECT 1, id, '2024-01-2' || j, 'nota', 'Colloquio con la persona, esito positivo.
Seconda riga.', j - 1 FROM cartella, k;
SQL
rows=$(sqlite3 "$work/siso.db" "SELECT (SELECT count(*) FROM persona)+(SELECT count(*) FROM cartella)+(SELECT count(*) FROM intervento)+(SELECT count(*) FROM erogazione)+(SELECT count(*) FROM diario)")
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
export_s=$(t /usr/bin/time -f "export max RSS %M KB" "$SISO" -q handback export --ente AMB-BENCH --out "$work/bundle")
verify_s=$(t /usr/bin/time -f "verify max RSS %M KB" "$SISO" -q handback verify "$work/bundle")
echo "rows: $rows"
echo "export: ${export_s}s = $(echo "$rows / $export_s" | bc) rows/s"
echo "verify: ${verify_s}s = $(echo "$rows / $verify_s" | bc) rows/s"
echo "export+verify: $(echo "$rows / ($export_s + $verify_s)" | bc) rows/s"
