-- 0002 protocollo: the entes and the Protocollo d'Intesa.
-- edizione_protocollo (signed editions/renewals), ente (comuni, ambiti,
-- comunità montane, associazioni; the GDPR titolare of case data is an ente),
-- adesione (Art. 7 requests and the Capofila's decision within 60 days),
-- appartenenza_ambito (which ambito a comune belongs to, with history),
-- referente (Art. 6 Cabina di Regia / Tavolo operativo), ruolo_privacy
-- (Art. 10 titolare, DPO, responsabili, amministratori di sistema) and
-- recesso (Art. 9 withdrawals).
-- Holds names and contacts of referents and privacy officers (personal data of
-- officials, owned through ente_id).

CREATE TABLE edizione_protocollo (
    id              INTEGER PRIMARY KEY,
    nome            TEXT NOT NULL UNIQUE CHECK (nome <> ''),
    sottoscritto_il TEXT NOT NULL CHECK (sottoscritto_il IS NULL OR date(sottoscritto_il, '+0 days') IS sottoscritto_il),
    scadenza        TEXT NULL CHECK (scadenza IS NULL OR date(scadenza, '+0 days') IS scadenza),
    CONSTRAINT edizione_protocollo_scadenza_chk CHECK (scadenza IS NULL OR scadenza >= sottoscritto_il)
);

-- codice: short stable code, upper case (the ISTAT code for a comune,
-- e.g. 108033; AMB-MONZA or similar otherwise).
-- sottoscritto_il: date of signing / approval of the adhesion; start of the
-- 30-day (Art. 6) and 60-day (Art. 10) clocks; required once 'aderente'.
CREATE TABLE ente (
    id              INTEGER PRIMARY KEY,
    codice          TEXT NOT NULL UNIQUE CHECK ((codice GLOB '[A-Z0-9]*' AND codice NOT GLOB '*[^A-Z0-9_-]*')),
    tipo            TEXT NOT NULL CHECK (tipo IN ('comune', 'ambito', 'comunita_montana', 'associazione')),
    denominazione   TEXT NOT NULL CHECK (denominazione <> ''),
    istat           TEXT NULL CHECK (istat IS NULL OR (length(istat) = 6 AND istat NOT GLOB '*[^0-9]*')),
    belfiore        TEXT NULL CHECK (belfiore IS NULL OR belfiore GLOB '[A-Z][0-9][0-9][0-9]'),
    codice_fiscale  TEXT NULL CHECK (codice_fiscale IS NULL OR (length(codice_fiscale) = 11 AND codice_fiscale NOT GLOB '*[^0-9]*')),
    pec             TEXT NULL CHECK (pec IS NULL OR pec LIKE '%_@_%'),
    ats_codice      TEXT NULL REFERENCES ats (codice),
    capofila        INTEGER NOT NULL DEFAULT 0 CHECK (capofila IN (0, 1)),
    stato           TEXT NOT NULL DEFAULT 'richiesta' CHECK (stato IN ('richiesta', 'aderente', 'respinta', 'receduto')),
    sottoscritto_il TEXT NULL CHECK (sottoscritto_il IS NULL OR date(sottoscritto_il, '+0 days') IS sottoscritto_il),
    creato_il       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) CHECK (creato_il IS NULL OR (creato_il GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z' AND julianday(creato_il) IS NOT NULL AND date(substr(creato_il, 1, 10), '+0 days') IS substr(creato_il, 1, 10))),
    aggiornato_il   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) CHECK (aggiornato_il IS NULL OR (aggiornato_il GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z' AND julianday(aggiornato_il) IS NOT NULL AND date(substr(aggiornato_il, 1, 10), '+0 days') IS substr(aggiornato_il, 1, 10))),
    CONSTRAINT ente_aderente_sottoscritto_chk CHECK (stato <> 'aderente' OR sottoscritto_il IS NOT NULL)
);
-- At most one Ente Capofila.
CREATE UNIQUE INDEX ente_capofila_unico_idx ON ente (capofila) WHERE capofila = 1;
CREATE INDEX ente_istat_idx ON ente (istat);
CREATE INDEX ente_ats_codice_idx ON ente (ats_codice);

-- Art. 7: written request received by the Capofila, decision within 60 days
-- (scadenza_decisione, computed by the application).
CREATE TABLE adesione (
    id                    INTEGER PRIMARY KEY,
    ente_id               BIGINT NOT NULL REFERENCES ente (id),
    edizione_id           BIGINT NULL REFERENCES edizione_protocollo (id),
    ricevuta_il           TEXT NOT NULL CHECK (ricevuta_il IS NULL OR date(ricevuta_il, '+0 days') IS ricevuta_il),
    protocollo_ricezione  TEXT NOT NULL CHECK (protocollo_ricezione <> ''),
    rappresentante_legale TEXT NOT NULL CHECK (rappresentante_legale <> ''),
    ambito_id             BIGINT NULL REFERENCES ente (id),
    scadenza_decisione    TEXT NOT NULL CHECK (scadenza_decisione IS NULL OR date(scadenza_decisione, '+0 days') IS scadenza_decisione),
    esito                 TEXT NULL CHECK (esito IS NULL OR esito IN ('approvata', 'respinta')),
    atto_numero           TEXT NULL,
    atto_data             TEXT NULL CHECK (atto_data IS NULL OR date(atto_data, '+0 days') IS atto_data),
    motivo_rifiuto        TEXT NULL,
    deciso_il             TEXT NULL CHECK (deciso_il IS NULL OR (deciso_il GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z' AND julianday(deciso_il) IS NOT NULL AND date(substr(deciso_il, 1, 10), '+0 days') IS substr(deciso_il, 1, 10))),
    CONSTRAINT adesione_scadenza_chk CHECK (scadenza_decisione >= ricevuta_il),
    CONSTRAINT adesione_atto_data_chk CHECK (atto_data IS NULL OR atto_data >= ricevuta_il),
    CONSTRAINT adesione_deciso_chk CHECK ((esito IS NULL) = (deciso_il IS NULL)),
    CONSTRAINT adesione_approvata_chk CHECK (esito IS NULL OR esito <> 'approvata'
        OR (atto_numero IS NOT NULL AND atto_numero <> '' AND atto_data IS NOT NULL)),
    CONSTRAINT adesione_respinta_chk CHECK (esito IS NULL OR esito <> 'respinta'
        OR (motivo_rifiuto IS NOT NULL AND motivo_rifiuto <> ''))
);
CREATE INDEX adesione_ente_id_idx ON adesione (ente_id);
CREATE INDEX adesione_edizione_id_idx ON adesione (edizione_id);
CREATE INDEX adesione_ambito_id_idx ON adesione (ambito_id);
-- At most one undecided request per ente; also serves the "deadline" report.
CREATE UNIQUE INDEX adesione_pendente_unica_idx ON adesione (ente_id) WHERE esito IS NULL;
CREATE INDEX adesione_pendenti_scadenza_idx ON adesione (scadenza_decisione) WHERE esito IS NULL;

-- A comune is never in two ambiti on the same day (valido_al inclusive).
-- SQLite: enforced by the application; PostgreSQL: also by an exclusion constraint.
CREATE TABLE appartenenza_ambito (
    id           INTEGER PRIMARY KEY,
    ambito_id    BIGINT NOT NULL REFERENCES ente (id),
    comune_istat TEXT NOT NULL CHECK ((length(comune_istat) = 6 AND comune_istat NOT GLOB '*[^0-9]*')),
    valido_dal   TEXT NOT NULL CHECK (valido_dal IS NULL OR date(valido_dal, '+0 days') IS valido_dal),
    valido_al    TEXT NULL CHECK (valido_al IS NULL OR date(valido_al, '+0 days') IS valido_al),
    CONSTRAINT appartenenza_ambito_validita_chk CHECK (valido_al IS NULL OR valido_al >= valido_dal)
);
CREATE INDEX appartenenza_ambito_ambito_id_idx ON appartenenza_ambito (ambito_id, valido_dal);
CREATE INDEX appartenenza_ambito_comune_idx ON appartenenza_ambito (comune_istat, valido_dal);

-- Art. 6: referents nominated by formal communication (comunicazione_rif).
CREATE TABLE referente (
    id                INTEGER PRIMARY KEY,
    ente_id           BIGINT NOT NULL REFERENCES ente (id),
    ruolo             TEXT NOT NULL CHECK (ruolo IN ('cabina_politico', 'cabina_tecnico', 'tavolo_operativo')),
    nominativo        TEXT NOT NULL CHECK (nominativo <> ''),
    email             TEXT NULL,
    telefono          TEXT NULL,
    nominato_il       TEXT NOT NULL CHECK (nominato_il IS NULL OR date(nominato_il, '+0 days') IS nominato_il),
    comunicazione_rif TEXT NOT NULL CHECK (comunicazione_rif <> ''),
    revocato_il       TEXT NULL CHECK (revocato_il IS NULL OR date(revocato_il, '+0 days') IS revocato_il),
    CONSTRAINT referente_revoca_chk CHECK (revocato_il IS NULL OR revocato_il >= nominato_il)
);
CREATE INDEX referente_ente_id_idx ON referente (ente_id, ruolo);

-- Art. 10: for ruolo 'titolare', titolare_ente_id is the ente that is the
-- controller (the comune itself or its ambito / ufficio di piano).
CREATE TABLE ruolo_privacy (
    id                INTEGER PRIMARY KEY,
    ente_id           BIGINT NOT NULL REFERENCES ente (id),
    ruolo             TEXT NOT NULL CHECK (ruolo IN ('titolare', 'dpo', 'responsabile', 'amministratore_sistema')),
    titolare_ente_id  BIGINT NULL REFERENCES ente (id),
    nominativo        TEXT NOT NULL CHECK (nominativo <> ''),
    contatto          TEXT NULL,
    comunicato_il     TEXT NOT NULL CHECK (comunicato_il IS NULL OR date(comunicato_il, '+0 days') IS comunicato_il),
    valido_dal        TEXT NULL CHECK (valido_dal IS NULL OR date(valido_dal, '+0 days') IS valido_dal),
    valido_al         TEXT NULL CHECK (valido_al IS NULL OR date(valido_al, '+0 days') IS valido_al),
    CONSTRAINT ruolo_privacy_titolare_chk CHECK (ruolo <> 'titolare' OR titolare_ente_id IS NOT NULL),
    CONSTRAINT ruolo_privacy_validita_chk CHECK (valido_al IS NULL OR valido_dal IS NULL OR valido_al >= valido_dal)
);
CREATE INDEX ruolo_privacy_ente_id_idx ON ruolo_privacy (ente_id, ruolo);
CREATE INDEX ruolo_privacy_titolare_ente_id_idx ON ruolo_privacy (titolare_ente_id);

-- Art. 9: received by 30 September -> effective 31 December of that year;
-- later -> 31 December of the next year. The database checks that efficace_il
-- is a 31 December not earlier than that; the application computes it.
CREATE TABLE recesso (
    id           INTEGER PRIMARY KEY,
    ente_id      BIGINT NOT NULL REFERENCES ente (id),
    ricevuto_il  TEXT NOT NULL CHECK (ricevuto_il IS NULL OR date(ricevuto_il, '+0 days') IS ricevuto_il),
    protocollo   TEXT NOT NULL CHECK (protocollo <> ''),
    efficace_il  TEXT NOT NULL CHECK (efficace_il IS NULL OR date(efficace_il, '+0 days') IS efficace_il),
    atto_numero  TEXT NULL,
    atto_data    TEXT NULL CHECK (atto_data IS NULL OR date(atto_data, '+0 days') IS atto_data),
    accettato_il TEXT NULL CHECK (accettato_il IS NULL OR (accettato_il GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z' AND julianday(accettato_il) IS NOT NULL AND date(substr(accettato_il, 1, 10), '+0 days') IS substr(accettato_il, 1, 10))),
    CONSTRAINT recesso_efficace_chk CHECK (strftime('%m-%d', efficace_il) = '12-31'
        AND efficace_il >= printf('%04d-12-31', CAST(strftime('%Y', ricevuto_il) AS INTEGER)
            + CASE WHEN strftime('%m', ricevuto_il) <= '09' THEN 0 ELSE 1 END))
);
CREATE INDEX recesso_ente_id_idx ON recesso (ente_id);
