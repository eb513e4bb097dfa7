-- Reverts 0014 modifica_intervalli: every run becomes one line per row
-- again, so `import undo` still takes back exactly what a batch inserted.
WITH RECURSIVE riga (titolare_id, batch_id, tabella, riga_id, ultimo_id) AS (
    SELECT titolare_id, batch_id, tabella, riga_id + 1, ultimo_id
      FROM import_modifica WHERE ultimo_id > riga_id
    UNION ALL
    SELECT titolare_id, batch_id, tabella, riga_id + 1, ultimo_id
      FROM riga WHERE riga_id < ultimo_id
)
INSERT INTO import_modifica (titolare_id, batch_id, tabella, riga_id, azione)
SELECT titolare_id, batch_id, tabella, riga_id, 'inserita' FROM riga;
ALTER TABLE import_modifica DROP COLUMN ultimo_id;
