-- 0013 statistica_persone: what the usage report needs to count distinct
-- persons in charge (by area utenza, and those without a valid codice
-- fiscale) for any period without reading a million case rows. Counts only:
-- no person, case or operator identifier.
--
-- A person is in charge on the days some of their cartelle is open
-- (aperta_il to chiusa_il, both included). Per (titolare, comune of the
-- cartella, SISO category) the days of a person merge into disjoint
-- stretches S1 < ... < Sn (Sn may have no end). The person is in charge in
-- the period [F, T] unless the period falls before S1, after Sn, or in a
-- pause between two stretches. So the persons in charge in [F, T] are
--   (stretches S1 starting by T) - (stretches Sn ending before F)
--   - (pauses from the day after U to the day before R with U < F and R > T)
-- which these two tables hold. senza_cf = 1 rows count, over every SISO
-- category together (categoria_siso ''), only the persons whose codice
-- fiscale is missing or never valid (siso::codes::cf::parse).
--
-- Maintained by siso::report::statistica (refresh_statistica) with the
-- other daily statistics, in Rust (the codice fiscale check). diretta = 1
-- on a row tells the report to count that comune from the case rows
-- instead: a cartella of the titolare there belongs to a person of another
-- titolare (who may then be counted by two titolari), or the titolare's
-- cases have not been counted yet (the rows this migration writes, until
-- the next refresh). The row stands on the first opening day of the
-- titolare's cases in the comune, so a period that ends before it, where
-- the titolare counts nobody, still reads the aggregates. Unlike the 0012
-- tables these rows follow the case data: a purge deletes them, as the
-- direct count would no longer find the purged cases.
CREATE TABLE statistica_persone (
    titolare_id    BIGINT NOT NULL,
    comune_istat   TEXT NOT NULL,
    categoria_siso TEXT NOT NULL CHECK (categoria_siso IN ('', '1', '2', '3', '4')),
    senza_cf       SMALLINT NOT NULL CHECK (senza_cf IN (0, 1)),
    giorno         DATE NOT NULL,
    inizi          BIGINT NOT NULL DEFAULT 0,
    fini           BIGINT NOT NULL DEFAULT 0,
    diretta        SMALLINT NOT NULL DEFAULT 0 CHECK (diretta IN (0, 1)),
    PRIMARY KEY (titolare_id, comune_istat, categoria_siso, senza_cf, giorno)
);
CREATE INDEX statistica_persone_comune_idx ON statistica_persone (comune_istat, giorno, categoria_siso, senza_cf, inizi, fini, diretta);

-- Pauses: persons in charge up to day ultimo, then again from day ripresa
-- (ripresa > ultimo + 1), with no day in charge in between.
CREATE TABLE statistica_persone_pause (
    titolare_id    BIGINT NOT NULL,
    comune_istat   TEXT NOT NULL,
    categoria_siso TEXT NOT NULL CHECK (categoria_siso IN ('', '1', '2', '3', '4')),
    senza_cf       SMALLINT NOT NULL CHECK (senza_cf IN (0, 1)),
    ultimo         DATE NOT NULL,
    ripresa        DATE NOT NULL,
    persone        BIGINT NOT NULL,
    PRIMARY KEY (titolare_id, comune_istat, categoria_siso, senza_cf, ultimo, ripresa)
);
CREATE INDEX statistica_persone_pause_comune_idx ON statistica_persone_pause (comune_istat, ultimo, ripresa, categoria_siso, senza_cf, persone);

-- The cases already stored: counted from the case rows until the next
-- refresh of their titolare (`siso report refresh` counts them all).
INSERT INTO statistica_persone (titolare_id, comune_istat, categoria_siso, senza_cf, giorno, diretta)
SELECT titolare_id, comune_istat, '', 0, MIN(aperta_il), 1 FROM cartella GROUP BY titolare_id, comune_istat;

-- The policy of 0009 for siso_tecnico, as on the 0012 tables.
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['statistica_persone', 'statistica_persone_pause'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY siso_titolare ON %I TO siso_tecnico '
                       'USING (titolare_id IN (SELECT siso_titolari_visibili())) '
                       'WITH CHECK (titolare_id IN (SELECT siso_titolari_visibili()))', t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO siso_tecnico', t);
    END LOOP;
END
$$;
