-- 0014 modifica_intervalli: a batch records the rows it inserted as runs of
-- consecutive ids (riga_id .. ultimo_id) instead of one line per row. The
-- line per row was a third of every import's writes; the runs say the same
-- thing, since a batch hands out its ids in order. Lines without ultimo_id
-- (written before 0014, or updates) stand for riga_id alone.
ALTER TABLE import_modifica ADD COLUMN ultimo_id BIGINT NULL CONSTRAINT import_modifica_ultimo_id_chk CHECK (ultimo_id IS NULL OR (azione = 'inserita' AND ultimo_id >= riga_id));
