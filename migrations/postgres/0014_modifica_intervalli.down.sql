-- Reverts 0014 modifica_intervalli: every run becomes one line per row
-- again, so `import undo` still takes back exactly what a batch inserted.
INSERT INTO import_modifica (titolare_id, batch_id, tabella, riga_id, azione)
SELECT m.titolare_id, m.batch_id, m.tabella, g.riga_id, 'inserita'
  FROM import_modifica m, generate_series(m.riga_id + 1, m.ultimo_id) AS g (riga_id)
 WHERE m.ultimo_id > m.riga_id;
ALTER TABLE import_modifica DROP COLUMN ultimo_id;
