-- 0004 importazioni_audit: import batches and their files, the crosswalk from
-- legacy identifiers to new rows, the per-batch change log (import_modifica,
-- allows undoing a batch), the hash-chained audit log and aggregate usage
-- statistics. audit_log and statistica_uso have no foreign keys on purpose:
-- they must survive the deletion of an ente; they never hold personal data.
-- crosswalk and import_modifica hold personal data (legacy ids, row images)
-- and carry titolare_id like the case tables.

CREATE TABLE import_batch (
    id               INTEGER PRIMARY KEY,
    ente_id          BIGINT NOT NULL REFERENCES ente (id),
    avviato_il       TEXT NOT NULL CHECK (avviato_il IS NULL OR (avviato_il GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z' AND julianday(avviato_il) IS NOT NULL AND date(substr(avviato_il, 1, 10), '+0 days') IS substr(avviato_il, 1, 10))),
    concluso_il      TEXT NULL CHECK (concluso_il IS NULL OR (concluso_il GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z' AND julianday(concluso_il) IS NOT NULL AND date(substr(concluso_il, 1, 10), '+0 days') IS substr(concluso_il, 1, 10))),
    operatore        TEXT NOT NULL CHECK (operatore <> ''),
    formato          TEXT NOT NULL CHECK (formato <> ''),
    mappatura        TEXT NULL,
    mappatura_sha256 TEXT NULL CHECK (mappatura_sha256 IS NULL OR (length(mappatura_sha256) = 64 AND mappatura_sha256 NOT GLOB '*[^0-9a-f]*')),
    stato            TEXT NOT NULL DEFAULT 'in_corso' CHECK (stato IN ('in_corso', 'completato', 'annullato')),
    conteggi         TEXT NULL CHECK (conteggi IS NULL OR json_valid(conteggi)),
    CONSTRAINT import_batch_concluso_chk CHECK (concluso_il IS NULL OR julianday(concluso_il) >= julianday(avviato_il)),
    CONSTRAINT import_batch_stato_chk CHECK ((stato = 'in_corso') = (concluso_il IS NULL))
);
CREATE INDEX import_batch_ente_id_idx ON import_batch (ente_id, avviato_il);

CREATE TABLE import_file (
    id         INTEGER PRIMARY KEY,
    batch_id   BIGINT NOT NULL REFERENCES import_batch (id),
    percorso   TEXT NOT NULL CHECK (percorso <> ''),
    sha256     TEXT NOT NULL CHECK ((length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')),
    dimensione BIGINT NOT NULL CHECK (dimensione >= 0),
    CONSTRAINT import_file_batch_percorso_key UNIQUE (batch_id, percorso)
);
CREATE INDEX import_file_sha256_idx ON import_file (sha256);

-- Legacy id -> new row. entita is the 0003 table the row lives in; riga_id is
-- its id there (no FK: the target table varies).
CREATE TABLE crosswalk (
    id              INTEGER PRIMARY KEY,
    titolare_id     BIGINT NOT NULL REFERENCES ente (id),
    sistema_origine TEXT NOT NULL CHECK (sistema_origine <> ''),
    entita          TEXT NOT NULL CHECK (entita IN ('operatore', 'persona', 'persona_cittadinanza', 'cartella', 'cartella_stato', 'intervento', 'erogazione', 'valutazione_sina', 'diario', 'nucleo_componente', 'documento')),
    id_legacy       TEXT NOT NULL CHECK (id_legacy <> ''),
    riga_id         BIGINT NOT NULL,
    batch_id        BIGINT NULL REFERENCES import_batch (id),
    CONSTRAINT crosswalk_legacy_key UNIQUE (titolare_id, sistema_origine, entita, id_legacy)
);
CREATE INDEX crosswalk_entita_riga_idx ON crosswalk (entita, riga_id);
CREATE INDEX crosswalk_batch_id_idx ON crosswalk (batch_id);

-- Rows inserted or updated by a batch; prima is the JSON image of the row
-- before an update (personal data: hence titolare_id).
CREATE TABLE import_modifica (
    id          INTEGER PRIMARY KEY,
    titolare_id BIGINT NOT NULL REFERENCES ente (id),
    batch_id    BIGINT NOT NULL REFERENCES import_batch (id),
    tabella     TEXT NOT NULL CHECK (tabella IN ('operatore', 'persona', 'persona_cittadinanza', 'cartella', 'cartella_stato', 'intervento', 'erogazione', 'valutazione_sina', 'diario', 'nucleo_componente', 'documento')),
    riga_id     BIGINT NOT NULL,
    azione      TEXT NOT NULL CHECK (azione IN ('inserita', 'aggiornata')),
    prima       TEXT NULL CHECK (prima IS NULL OR json_valid(prima)),
    CONSTRAINT import_modifica_prima_chk CHECK ((azione = 'aggiornata') = (prima IS NOT NULL))
);
CREATE INDEX import_modifica_titolare_idx ON import_modifica (titolare_id, batch_id);
CREATE INDEX import_modifica_batch_id_idx ON import_modifica (batch_id, tabella, riga_id);
CREATE INDEX import_modifica_riga_idx ON import_modifica (tabella, riga_id);

-- Append-only, hash-chained. ente_codice is a copy of ente.codice, no FK.
-- dettaglio never holds personal data.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    registrato_il   TEXT NOT NULL CHECK (registrato_il IS NULL OR (registrato_il GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z' AND julianday(registrato_il) IS NOT NULL AND date(substr(registrato_il, 1, 10), '+0 days') IS substr(registrato_il, 1, 10))),
    operatore       TEXT NOT NULL,
    comando         TEXT NOT NULL,
    ente_codice     TEXT NULL,
    azione          TEXT NOT NULL,
    dettaglio       TEXT NULL CHECK (dettaglio IS NULL OR json_valid(dettaglio)),
    hash_precedente TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_log_ente_codice_idx ON audit_log (ente_codice, registrato_il);
CREATE INDEX audit_log_registrato_il_idx ON audit_log (registrato_il);

-- Aggregate usage statistics (Art. 5), kept after a purge; periodo is YYYY-MM.
CREATE TABLE statistica_uso (
    id          INTEGER PRIMARY KEY,
    ente_codice TEXT NOT NULL,
    periodo     TEXT NOT NULL CHECK ((periodo GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]' AND substr(periodo, 6, 2) BETWEEN '01' AND '12')),
    indicatore  TEXT NOT NULL CHECK (indicatore <> ''),
    valore      BIGINT NOT NULL,
    CONSTRAINT statistica_uso_key UNIQUE (ente_codice, periodo, indicatore)
);
CREATE INDEX statistica_uso_periodo_idx ON statistica_uso (periodo);
