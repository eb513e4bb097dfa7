-- 0010 statistica_giornaliera: daily aggregates behind `siso report usage`,
-- so a report reads a few thousand rows per comune and year instead of
-- millions of case rows. Counts and sums only: no person, case or operator
-- identifier (what statistica_uso promises too), hence no foreign keys: the
-- rows of a titolare outlive a purge of its case data (issue 5: past
-- reports still work), then marked archiviata = 1.
--
-- Maintained by siso::report::statistica (refresh_statistica) in the transaction of
-- every write of cartelle, interventi or erogazioni (import, undo, bundle
-- restore); rebuilt for every titolare by `siso report refresh`. Each row is
-- one (titolare, comune of the cartella, day); categoria_siso and
-- prestazione_codice use '' for "not given".

-- Cartelle opened and closed on the day (aperta_il / chiusa_il), those of
-- them without a responsible operator, and cartelle that left the records
-- open on the day because their titolare's data was purged (uscite).
CREATE TABLE statistica_cartelle (
    titolare_id            BIGINT NOT NULL,
    archiviata             INTEGER NOT NULL DEFAULT 0 CHECK (archiviata IN (0, 1)),
    comune_istat           TEXT NOT NULL,
    giorno                 TEXT NOT NULL CHECK (date(giorno, '+0 days') IS giorno),
    categoria_siso         TEXT NOT NULL CHECK (categoria_siso IN ('', '1', '2', '3', '4')),
    aperte                 BIGINT NOT NULL DEFAULT 0,
    chiuse                 BIGINT NOT NULL DEFAULT 0,
    aperte_senza_operatore BIGINT NOT NULL DEFAULT 0,
    chiuse_senza_operatore BIGINT NOT NULL DEFAULT 0,
    uscite                 BIGINT NOT NULL DEFAULT 0,
    uscite_senza_operatore BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (titolare_id, archiviata, comune_istat, giorno, categoria_siso)
);
-- The report reads by comune and day, every column (covering).
CREATE INDEX statistica_cartelle_comune_idx ON statistica_cartelle (comune_istat, giorno, categoria_siso, aperte, chiuse,
    aperte_senza_operatore, chiuse_senza_operatore, uscite, uscite_senza_operatore);

-- Interventi started on the day (inizio) and erogazioni dated on it (data),
-- by the prestazione code of the intervento, with their amounts in cents.
CREATE TABLE statistica_prestazioni (
    titolare_id        BIGINT NOT NULL,
    archiviata         INTEGER NOT NULL DEFAULT 0 CHECK (archiviata IN (0, 1)),
    comune_istat       TEXT NOT NULL,
    giorno             TEXT NOT NULL CHECK (date(giorno, '+0 days') IS giorno),
    prestazione_codice TEXT NOT NULL,
    interventi         BIGINT NOT NULL DEFAULT 0,
    erogazioni         BIGINT NOT NULL DEFAULT 0,
    importo_cent       BIGINT NOT NULL DEFAULT 0,
    quota_utente_cent  BIGINT NOT NULL DEFAULT 0,
    quota_ssn_cent     BIGINT NOT NULL DEFAULT 0,
    quota_ente_cent    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (titolare_id, archiviata, comune_istat, giorno, prestazione_codice)
);
CREATE INDEX statistica_prestazioni_comune_idx ON statistica_prestazioni (comune_istat, giorno, prestazione_codice, interventi,
    erogazioni, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent);

-- Cases without activity (the data-quality figure of the usage report): a
-- case is dormant on day E when it was opened by E minus 3 years, is not
-- closed by E, and has no event (state change, intervention start,
-- delivery, diary note) in the year ending on E. For each case, the days it
-- is dormant form intervals; a row counts the intervals starting (dal) and
-- ending (al, exclusive) on the day, so the dormant cases on E are the
-- running sum dal - al up to E.
CREATE TABLE statistica_dormienti (
    titolare_id        BIGINT NOT NULL,
    archiviata         INTEGER NOT NULL DEFAULT 0 CHECK (archiviata IN (0, 1)),
    comune_istat       TEXT NOT NULL,
    giorno             TEXT NOT NULL CHECK (date(giorno, '+0 days') IS giorno),
    dal                BIGINT NOT NULL DEFAULT 0,
    al                 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (titolare_id, archiviata, comune_istat, giorno)
);
CREATE INDEX statistica_dormienti_comune_idx ON statistica_dormienti (comune_istat, giorno, dal, al);

-- Cases of a comune by closing date with their operator: the active
-- operators of a period (0008 reads cases by opening date only).
CREATE INDEX cartella_comune_chiusa_il_idx ON cartella (comune_istat, chiusa_il, operatore_id);

-- The case data already stored, counted once now.
INSERT INTO statistica_cartelle (titolare_id, archiviata, comune_istat, giorno, categoria_siso,
    aperte, chiuse, aperte_senza_operatore, chiuse_senza_operatore)
SELECT titolare_id, 0, comune_istat, giorno, categoria, SUM(aperte), SUM(chiuse), SUM(aperte_so), SUM(chiuse_so) FROM (
    SELECT titolare_id, comune_istat, aperta_il AS giorno, COALESCE(categoria_siso, '') AS categoria, 1 AS aperte, 0 AS chiuse,
           CASE WHEN operatore_id IS NULL THEN 1 ELSE 0 END AS aperte_so, 0 AS chiuse_so
      FROM cartella
    UNION ALL
    SELECT titolare_id, comune_istat, chiusa_il, COALESCE(categoria_siso, ''), 0, 1, 0, CASE WHEN operatore_id IS NULL THEN 1 ELSE 0 END
      FROM cartella WHERE chiusa_il IS NOT NULL
) x GROUP BY titolare_id, comune_istat, giorno, categoria;
INSERT INTO statistica_prestazioni (titolare_id, archiviata, comune_istat, giorno, prestazione_codice,
    interventi, erogazioni, importo_cent, quota_utente_cent, quota_ssn_cent, quota_ente_cent)
SELECT titolare_id, 0, comune_istat, giorno, codice, SUM(interventi), SUM(erogazioni),
       SUM(importo), SUM(utente), SUM(ssn), SUM(ente) FROM (
    SELECT i.titolare_id, c.comune_istat, i.inizio AS giorno, COALESCE(i.prestazione_codice, '') AS codice,
           1 AS interventi, 0 AS erogazioni, CAST(0 AS BIGINT) AS importo, CAST(0 AS BIGINT) AS utente,
           CAST(0 AS BIGINT) AS ssn, CAST(0 AS BIGINT) AS ente
      FROM intervento i JOIN cartella c ON c.id = i.cartella_id
    UNION ALL
    SELECT e.titolare_id, c.comune_istat, e.data, COALESCE(i.prestazione_codice, ''), 0, 1,
           e.importo_cent, e.quota_utente_cent, e.quota_ssn_cent, e.quota_ente_cent
      FROM erogazione e JOIN intervento i ON i.id = e.intervento_id JOIN cartella c ON c.id = i.cartella_id
) x GROUP BY titolare_id, comune_istat, giorno, codice;

-- Dormancy intervals of the cases already stored (the same SQL as
-- siso::report::statistica::dormienti_sql, for every titolare at once).
WITH ev AS MATERIALIZED (
    SELECT cartella_id, dal AS giorno FROM cartella_stato
    UNION SELECT cartella_id, inizio FROM intervento
    UNION SELECT i.cartella_id, e.data FROM erogazione e JOIN intervento i ON i.id = e.intervento_id
    UNION SELECT cartella_id, data FROM diario
), seq AS (
    SELECT cartella_id, giorno,
           LAG(giorno) OVER (PARTITION BY cartella_id ORDER BY giorno) AS prima,
           LEAD(giorno) OVER (PARTITION BY cartella_id ORDER BY giorno) AS dopo
      FROM ev
), gap AS (
    SELECT cartella_id, date(giorno, '+1 years') AS lo, dopo AS hi FROM seq
    UNION ALL SELECT cartella_id, NULL, giorno FROM seq WHERE prima IS NULL
    UNION ALL SELECT c.id, NULL, NULL FROM cartella c
      LEFT JOIN (SELECT DISTINCT cartella_id FROM ev) x ON x.cartella_id = c.id
     WHERE x.cartella_id IS NULL
), iv AS (
    SELECT c.titolare_id AS titolare, c.comune_istat,
           CASE WHEN g.lo IS NULL OR g.lo < date(c.aperta_il, '+3 years') THEN date(c.aperta_il, '+3 years') ELSE g.lo END AS dal,
           CASE WHEN c.chiusa_il IS NULL THEN g.hi WHEN g.hi IS NULL OR c.chiusa_il < g.hi THEN c.chiusa_il ELSE g.hi END AS al
      FROM gap g JOIN cartella c ON c.id = g.cartella_id
), ok AS (SELECT titolare, comune_istat, dal, al FROM iv WHERE al IS NULL OR dal < al)
INSERT INTO statistica_dormienti (titolare_id, archiviata, comune_istat, giorno, dal, al)
SELECT titolare, 0, comune_istat, giorno, SUM(dal), SUM(al) FROM (
    SELECT titolare, comune_istat, dal AS giorno, 1 AS dal, 0 AS al FROM ok
    UNION ALL SELECT titolare, comune_istat, al, 0, 1 FROM ok WHERE al IS NOT NULL
) x GROUP BY titolare, comune_istat, giorno;
