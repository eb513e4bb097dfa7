-- 0001 riferimento: reference tables (no personal data).
-- comune (ISTAT/Belfiore codes with validity history), stato_estero (foreign
-- states, Belfiore Z###), prestazione (INPS SIUSS service codes, extensible with
-- local codes), area_utenza (INPS, SISO and ISTAT target areas), ats (health
-- agencies) and dataset_riferimento (which reference data set was loaded, with
-- its checksum).
-- Conventions for every migration: dates are ISO 'YYYY-MM-DD' (SQLite TEXT,
-- PostgreSQL DATE); valido_dal / valido_al are both INCLUSIVE (valido_al is the
-- last valid day, NULL = still valid); timestamps are RFC 3339 UTC ending in 'Z'
-- (SQLite TEXT, PostgreSQL TIMESTAMPTZ); money is integer euro cents (_cent),
-- quantities are thousandths (_milli); booleans are 0/1 (SQLite) or BOOLEAN.

CREATE TABLE comune (
    id               INTEGER PRIMARY KEY,
    istat            TEXT NULL CHECK (istat IS NULL OR (length(istat) = 6 AND istat NOT GLOB '*[^0-9]*')),
    belfiore         TEXT NOT NULL CHECK (belfiore GLOB '[A-Z][0-9][0-9][0-9]'),
    nome             TEXT NOT NULL CHECK (nome <> ''),
    sigla_provincia  TEXT NULL CHECK (sigla_provincia IS NULL OR length(sigla_provincia) = 2),
    codice_provincia TEXT NULL CHECK (codice_provincia IS NULL OR (length(codice_provincia) = 3 AND codice_provincia NOT GLOB '*[^0-9]*')),
    codice_regione   TEXT NULL CHECK (codice_regione IS NULL OR (length(codice_regione) = 2 AND codice_regione NOT GLOB '*[^0-9]*')),
    regione          TEXT NULL,
    popolazione      BIGINT NULL CHECK (popolazione IS NULL OR popolazione >= 0),
    valido_dal       TEXT NULL CHECK (valido_dal IS NULL OR date(valido_dal, '+0 days') IS valido_dal),
    valido_al        TEXT NULL CHECK (valido_al IS NULL OR date(valido_al, '+0 days') IS valido_al),
    CONSTRAINT comune_belfiore_valido_dal_key UNIQUE (belfiore, valido_dal),
    CONSTRAINT comune_validita_chk CHECK (valido_al IS NULL OR valido_dal IS NULL OR valido_al >= valido_dal)
);
CREATE INDEX comune_istat_idx ON comune (istat);
CREATE INDEX comune_nome_lower_idx ON comune (lower(nome));

CREATE TABLE stato_estero (
    belfiore     TEXT PRIMARY KEY CHECK (belfiore GLOB 'Z[0-9][0-9][0-9]'),
    nome         TEXT NOT NULL CHECK (nome <> ''),
    codice_istat TEXT NULL CHECK (codice_istat IS NULL OR (length(codice_istat) = 3 AND codice_istat NOT GLOB '*[^0-9]*')),
    sigla_iso2   TEXT NULL CHECK (sigla_iso2 IS NULL OR length(sigla_iso2) = 2),
    valido_dal   TEXT NULL CHECK (valido_dal IS NULL OR date(valido_dal, '+0 days') IS valido_dal),
    valido_al    TEXT NULL CHECK (valido_al IS NULL OR date(valido_al, '+0 days') IS valido_al),
    CONSTRAINT stato_estero_validita_chk CHECK (valido_al IS NULL OR valido_dal IS NULL OR valido_al >= valido_dal)
);
CREATE INDEX stato_estero_codice_istat_idx ON stato_estero (codice_istat);
CREATE INDEX stato_estero_nome_lower_idx ON stato_estero (lower(nome));

-- INPS SIUSS / Casellario codes (2015 table: A1.01 ... Z9.99) plus later or
-- local codes and sub-codes (A1.05.01): the table is data, not code.
CREATE TABLE prestazione (
    codice      TEXT PRIMARY KEY CHECK (codice <> ''),
    descrizione TEXT NOT NULL,
    gruppo      TEXT NOT NULL CHECK (gruppo IN ('A1', 'A2', 'A3', 'Z9')),
    origine     TEXT NOT NULL DEFAULT 'inps' CHECK (origine IN ('inps', 'locale')),
    attiva      INTEGER NOT NULL DEFAULT 1 CHECK (attiva IN (0, 1))
);
CREATE INDEX prestazione_gruppo_idx ON prestazione (gruppo);

-- sistema 'inps': 1..3; 'siso': 1..4; 'istat': survey areas.
CREATE TABLE area_utenza (
    sistema     TEXT NOT NULL CHECK (sistema IN ('inps', 'siso', 'istat')),
    codice      TEXT NOT NULL CHECK (codice <> ''),
    descrizione TEXT NOT NULL,
    PRIMARY KEY (sistema, codice)
);

-- The 8 Lombardy ATS, Ministry codes 030321 ... 030328.
CREATE TABLE ats (
    codice TEXT PRIMARY KEY CHECK ((length(codice) = 6 AND codice NOT GLOB '*[^0-9]*')),
    nome   TEXT NOT NULL
);

-- One row per loaded reference data set (comuni, stati esteri, prestazioni...).
CREATE TABLE dataset_riferimento (
    nome        TEXT PRIMARY KEY CHECK (nome <> ''),
    sha256      TEXT NOT NULL CHECK ((length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')),
    righe       BIGINT NOT NULL CHECK (righe >= 0),
    fonte       TEXT NULL,
    caricato_il TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) CHECK (caricato_il IS NULL OR (caricato_il GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z' AND julianday(caricato_il) IS NOT NULL AND date(substr(caricato_il, 1, 10), '+0 days') IS substr(caricato_il, 1, 10)))
);
