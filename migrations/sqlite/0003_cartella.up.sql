-- 0003 cartella: case data (the cartella sociale). ALL PERSONAL DATA.
-- operatore, persona, persona_cittadinanza, cartella, cartella_stato,
-- intervento, erogazione, valutazione_sina, diario, nucleo_componente, documento.
-- Every table carries titolare_id (the GDPR controller owning the row, an ente)
-- and an index starting with titolare_id (purge, hand-back, per-ente reports).
-- Children of a cartella / intervento / persona that are the same record
-- (cartella_stato, intervento, erogazione, diario, documento,
-- persona_cittadinanza, valutazione_sina.intervento_id) reference their parent
-- through (id, titolare_id), so they cannot belong to a different titolare.
-- References to a persona from a cartella, nucleo_componente or
-- valutazione_sina are plain: a person may be shared with another titolare.
-- No ON DELETE CASCADE anywhere: purges delete explicitly, children first.
-- Nothing here references 0004 (import batches are tracked there).

CREATE TABLE operatore (
    id             INTEGER PRIMARY KEY,
    titolare_id    BIGINT NOT NULL REFERENCES ente (id),
    codice_fiscale TEXT NULL CHECK (codice_fiscale IS NULL OR ((length(codice_fiscale) = 16 AND codice_fiscale NOT GLOB '*[^A-Z0-9]*') OR (length(codice_fiscale) = 11 AND codice_fiscale NOT GLOB '*[^0-9]*'))),
    cognome        TEXT NOT NULL,
    nome           TEXT NOT NULL,
    professione    TEXT NOT NULL CHECK (professione IN ('assistente_sociale', 'educatore', 'psicologo', 'amministrativo', 'oss', 'altro')),
    attivo_dal     TEXT NULL CHECK (attivo_dal IS NULL OR date(attivo_dal, '+0 days') IS attivo_dal),
    attivo_al      TEXT NULL CHECK (attivo_al IS NULL OR date(attivo_al, '+0 days') IS attivo_al),
    CONSTRAINT operatore_attivo_chk CHECK (attivo_al IS NULL OR attivo_dal IS NULL OR attivo_al >= attivo_dal)
);
CREATE INDEX operatore_titolare_idx ON operatore (titolare_id, cognome, nome);
CREATE INDEX operatore_codice_fiscale_idx ON operatore (codice_fiscale);

-- codice_fiscale is NOT unique: two real people may share a computed CF.
-- cf_chiave: normalised matching key (omocodic letters mapped back to digits).
-- id_temporaneo: identifier used when the CF is unknown.
CREATE TABLE persona (
    id                     INTEGER PRIMARY KEY,
    titolare_id            BIGINT NOT NULL REFERENCES ente (id),
    codice_fiscale         TEXT NULL CHECK (codice_fiscale IS NULL OR ((length(codice_fiscale) = 16 AND codice_fiscale NOT GLOB '*[^A-Z0-9]*') OR (length(codice_fiscale) = 11 AND codice_fiscale NOT GLOB '*[^0-9]*'))),
    cf_chiave              TEXT NULL,
    id_temporaneo          TEXT NULL CHECK (id_temporaneo IS NULL OR id_temporaneo <> ''),
    cognome                TEXT NOT NULL,
    nome                   TEXT NOT NULL,
    sesso                  TEXT NULL CHECK (sesso IS NULL OR sesso IN ('M', 'F')),
    data_nascita           TEXT NULL CHECK (data_nascita IS NULL OR date(data_nascita, '+0 days') IS data_nascita),
    luogo_nascita_belfiore TEXT NULL CHECK (luogo_nascita_belfiore IS NULL OR luogo_nascita_belfiore GLOB '[A-Z][0-9][0-9][0-9]'),
    residenza_istat        TEXT NULL CHECK (residenza_istat IS NULL OR (length(residenza_istat) = 6 AND residenza_istat NOT GLOB '*[^0-9]*')),
    indirizzo              TEXT NULL,
    telefono               TEXT NULL,
    email                  TEXT NULL,
    data_decesso           TEXT NULL CHECK (data_decesso IS NULL OR date(data_decesso, '+0 days') IS data_decesso),
    CONSTRAINT persona_identificativo_chk CHECK (codice_fiscale IS NOT NULL OR id_temporaneo IS NOT NULL),
    CONSTRAINT persona_decesso_chk CHECK (data_decesso IS NULL OR data_nascita IS NULL OR data_decesso >= data_nascita),
    CONSTRAINT persona_id_titolare_key UNIQUE (id, titolare_id)
);
CREATE INDEX persona_titolare_cf_chiave_idx ON persona (titolare_id, cf_chiave);
CREATE INDEX persona_titolare_cognome_idx ON persona (titolare_id, cognome, nome);
CREATE UNIQUE INDEX persona_titolare_id_temporaneo_idx ON persona (titolare_id, id_temporaneo);
CREATE INDEX persona_cf_chiave_idx ON persona (cf_chiave);

-- stato_codice_istat: 3-digit ISTAT citizenship code (100 = Italia).
CREATE TABLE persona_cittadinanza (
    id                 INTEGER PRIMARY KEY,
    titolare_id        BIGINT NOT NULL REFERENCES ente (id),
    persona_id         BIGINT NOT NULL,
    stato_codice_istat TEXT NOT NULL CHECK ((length(stato_codice_istat) = 3 AND stato_codice_istat NOT GLOB '*[^0-9]*')),
    CONSTRAINT persona_cittadinanza_persona_fkey FOREIGN KEY (persona_id, titolare_id) REFERENCES persona (id, titolare_id),
    CONSTRAINT persona_cittadinanza_key UNIQUE (persona_id, stato_codice_istat)
);
CREATE INDEX persona_cittadinanza_titolare_idx ON persona_cittadinanza (titolare_id, persona_id);

-- persona_id may be a persona of another titolare (shared persons).
-- categoria_siso: SISO social category 1 famiglia e minori, 2 disabili,
-- 3 adulti, 4 anziani.
CREATE TABLE cartella (
    id             INTEGER PRIMARY KEY,
    titolare_id    BIGINT NOT NULL REFERENCES ente (id),
    persona_id     BIGINT NOT NULL REFERENCES persona (id),
    numero         TEXT NOT NULL CHECK (numero <> ''),
    comune_istat   TEXT NOT NULL CHECK ((length(comune_istat) = 6 AND comune_istat NOT GLOB '*[^0-9]*')),
    operatore_id   BIGINT NULL REFERENCES operatore (id),
    categoria_siso TEXT NULL CHECK (categoria_siso IS NULL OR categoria_siso IN ('1', '2', '3', '4')),
    aperta_il      TEXT NOT NULL CHECK (aperta_il IS NULL OR date(aperta_il, '+0 days') IS aperta_il),
    chiusa_il      TEXT NULL CHECK (chiusa_il IS NULL OR date(chiusa_il, '+0 days') IS chiusa_il),
    stato          TEXT NOT NULL DEFAULT 'aperta' CHECK (stato IN ('aperta', 'presa_in_carico', 'segnalata', 'chiusa', 'riaperta')),
    CONSTRAINT cartella_titolare_numero_key UNIQUE (titolare_id, numero),
    CONSTRAINT cartella_id_titolare_key UNIQUE (id, titolare_id),
    CONSTRAINT cartella_chiusura_chk CHECK (chiusa_il IS NULL OR chiusa_il >= aperta_il),
    CONSTRAINT cartella_chiusa_data_chk CHECK (stato <> 'chiusa' OR chiusa_il IS NOT NULL)
);
CREATE INDEX cartella_titolare_aperta_il_idx ON cartella (titolare_id, aperta_il);
CREATE INDEX cartella_titolare_comune_idx ON cartella (titolare_id, comune_istat);
CREATE INDEX cartella_persona_id_idx ON cartella (persona_id);
CREATE INDEX cartella_operatore_id_idx ON cartella (operatore_id);

-- State history of a cartella.
CREATE TABLE cartella_stato (
    id          INTEGER PRIMARY KEY,
    titolare_id BIGINT NOT NULL REFERENCES ente (id),
    cartella_id BIGINT NOT NULL,
    stato       TEXT NOT NULL CHECK (stato IN ('aperta', 'presa_in_carico', 'segnalata', 'chiusa', 'riaperta')),
    dal         TEXT NOT NULL CHECK (dal IS NULL OR date(dal, '+0 days') IS dal),
    nota        TEXT NULL,
    CONSTRAINT cartella_stato_cartella_fkey FOREIGN KEY (cartella_id, titolare_id) REFERENCES cartella (id, titolare_id)
);
CREATE INDEX cartella_stato_titolare_idx ON cartella_stato (titolare_id, cartella_id);
CREATE INDEX cartella_stato_cartella_id_idx ON cartella_stato (cartella_id, dal);

-- Planned service ("foglio amministrativo").
CREATE TABLE intervento (
    id                    INTEGER PRIMARY KEY,
    titolare_id           BIGINT NOT NULL REFERENCES ente (id),
    cartella_id           BIGINT NOT NULL,
    prestazione_codice    TEXT NULL REFERENCES prestazione (codice),
    area_utenza_inps      TEXT NULL CHECK (area_utenza_inps IS NULL OR area_utenza_inps IN ('1', '2', '3')),
    inizio                TEXT NOT NULL CHECK (inizio IS NULL OR date(inizio, '+0 days') IS inizio),
    fine                  TEXT NULL CHECK (fine IS NULL OR date(fine, '+0 days') IS fine),
    periodicita           TEXT NOT NULL CHECK (periodicita IN ('periodica', 'una_tantum')),
    importo_previsto_cent BIGINT NULL CHECK (importo_previsto_cent IS NULL OR importo_previsto_cent >= 0),
    protocollo_domanda    TEXT NULL,
    presa_in_carico       INTEGER NULL CHECK (presa_in_carico IN (0, 1)),
    CONSTRAINT intervento_cartella_fkey FOREIGN KEY (cartella_id, titolare_id) REFERENCES cartella (id, titolare_id),
    CONSTRAINT intervento_id_titolare_key UNIQUE (id, titolare_id),
    CONSTRAINT intervento_fine_chk CHECK (fine IS NULL OR fine >= inizio)
);
CREATE INDEX intervento_titolare_inizio_idx ON intervento (titolare_id, inizio);
CREATE INDEX intervento_cartella_id_idx ON intervento (cartella_id);
CREATE INDEX intervento_prestazione_codice_idx ON intervento (prestazione_codice);

-- Delivery / spending event. Amounts may be negative (corrections).
CREATE TABLE erogazione (
    id                INTEGER PRIMARY KEY,
    titolare_id       BIGINT NOT NULL REFERENCES ente (id),
    intervento_id     BIGINT NOT NULL,
    data              TEXT NOT NULL CHECK (data IS NULL OR date(data, '+0 days') IS data),
    periodo_dal       TEXT NULL CHECK (periodo_dal IS NULL OR date(periodo_dal, '+0 days') IS periodo_dal),
    periodo_al        TEXT NULL CHECK (periodo_al IS NULL OR date(periodo_al, '+0 days') IS periodo_al),
    importo_cent      BIGINT NOT NULL DEFAULT 0,
    quota_utente_cent BIGINT NOT NULL DEFAULT 0,
    quota_ssn_cent    BIGINT NOT NULL DEFAULT 0,
    quota_ente_cent   BIGINT NOT NULL DEFAULT 0,
    quantita_milli    BIGINT NULL,
    unita             TEXT NOT NULL DEFAULT 'euro' CHECK (unita IN ('euro', 'ore', 'giorni', 'accessi', 'pasti', 'km')),
    CONSTRAINT erogazione_intervento_fkey FOREIGN KEY (intervento_id, titolare_id) REFERENCES intervento (id, titolare_id),
    CONSTRAINT erogazione_periodo_chk CHECK (periodo_al IS NULL OR periodo_dal IS NULL OR periodo_al >= periodo_dal)
);
CREATE INDEX erogazione_titolare_data_idx ON erogazione (titolare_id, data);
CREATE INDEX erogazione_intervento_id_idx ON erogazione (intervento_id);

-- SINA (non-self-sufficiency) assessment; dati is the JSON of the SINA element.
CREATE TABLE valutazione_sina (
    id            INTEGER PRIMARY KEY,
    titolare_id   BIGINT NOT NULL REFERENCES ente (id),
    persona_id    BIGINT NOT NULL REFERENCES persona (id),
    intervento_id BIGINT NULL,
    data          TEXT NULL CHECK (data IS NULL OR date(data, '+0 days') IS data),
    dati          TEXT NOT NULL CHECK (json_valid(dati)),
    CONSTRAINT valutazione_sina_intervento_fkey FOREIGN KEY (intervento_id, titolare_id) REFERENCES intervento (id, titolare_id)
);
CREATE INDEX valutazione_sina_titolare_data_idx ON valutazione_sina (titolare_id, data);
CREATE INDEX valutazione_sina_persona_id_idx ON valutazione_sina (persona_id);
CREATE INDEX valutazione_sina_intervento_id_idx ON valutazione_sina (intervento_id);

CREATE TABLE diario (
    id           INTEGER PRIMARY KEY,
    titolare_id  BIGINT NOT NULL REFERENCES ente (id),
    cartella_id  BIGINT NOT NULL,
    data         TEXT NOT NULL CHECK (data IS NULL OR date(data, '+0 days') IS data),
    tipo         TEXT NOT NULL CHECK (tipo IN ('nota', 'colloquio', 'relazione', 'visita', 'altro')),
    testo        TEXT NOT NULL,
    riservato    INTEGER NOT NULL DEFAULT 0 CHECK (riservato IN (0, 1)),
    operatore_id BIGINT NULL REFERENCES operatore (id),
    CONSTRAINT diario_cartella_fkey FOREIGN KEY (cartella_id, titolare_id) REFERENCES cartella (id, titolare_id)
);
CREATE INDEX diario_titolare_data_idx ON diario (titolare_id, data);
CREATE INDEX diario_cartella_id_idx ON diario (cartella_id, data);
CREATE INDEX diario_operatore_id_idx ON diario (operatore_id);

-- Household member of persona_id: either another persona or just a name.
CREATE TABLE nucleo_componente (
    id                    INTEGER PRIMARY KEY,
    titolare_id           BIGINT NOT NULL REFERENCES ente (id),
    persona_id            BIGINT NOT NULL REFERENCES persona (id),
    componente_persona_id BIGINT NULL REFERENCES persona (id),
    cognome               TEXT NULL,
    nome                  TEXT NULL,
    data_nascita          TEXT NULL CHECK (data_nascita IS NULL OR date(data_nascita, '+0 days') IS data_nascita),
    relazione             TEXT NOT NULL CHECK (relazione <> ''),
    CONSTRAINT nucleo_componente_identita_chk CHECK (componente_persona_id IS NOT NULL OR cognome IS NOT NULL OR nome IS NOT NULL),
    CONSTRAINT nucleo_componente_se_stesso_chk CHECK (componente_persona_id IS NULL OR componente_persona_id <> persona_id)
);
CREATE INDEX nucleo_componente_titolare_idx ON nucleo_componente (titolare_id, persona_id);
CREATE INDEX nucleo_componente_persona_id_idx ON nucleo_componente (persona_id);
CREATE INDEX nucleo_componente_componente_idx ON nucleo_componente (componente_persona_id);

-- Files attached to a cartella; contenuto NULL when stored elsewhere.
CREATE TABLE documento (
    id          INTEGER PRIMARY KEY,
    titolare_id BIGINT NOT NULL REFERENCES ente (id),
    cartella_id BIGINT NOT NULL,
    nome_file   TEXT NOT NULL CHECK (nome_file <> ''),
    tipo_mime   TEXT NULL,
    dimensione  BIGINT NOT NULL CHECK (dimensione >= 0),
    sha256      TEXT NOT NULL CHECK ((length(sha256) = 64 AND sha256 NOT GLOB '*[^0-9a-f]*')),
    contenuto   BLOB NULL,
    caricato_il TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) CHECK (caricato_il IS NULL OR (caricato_il GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z' AND julianday(caricato_il) IS NOT NULL AND date(substr(caricato_il, 1, 10), '+0 days') IS substr(caricato_il, 1, 10))),
    CONSTRAINT documento_cartella_fkey FOREIGN KEY (cartella_id, titolare_id) REFERENCES cartella (id, titolare_id),
    CONSTRAINT documento_dimensione_chk CHECK (contenuto IS NULL OR length(contenuto) = dimensione)
);
CREATE INDEX documento_titolare_idx ON documento (titolare_id, cartella_id);
CREATE INDEX documento_cartella_id_idx ON documento (cartella_id);
