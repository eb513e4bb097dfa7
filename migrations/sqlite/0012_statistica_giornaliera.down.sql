-- siso:data-bearing
-- Destroys the archived usage statistics of entes whose case data was purged
-- (archiviata = 1): with the case rows gone, `siso report refresh` cannot
-- rebuild them, so past reports of those entes would lose their figures.
-- Reverts 0010 statistica_giornaliera.
DROP INDEX cartella_comune_chiusa_il_idx;
DROP TABLE statistica_dormienti;
DROP TABLE statistica_prestazioni;
DROP TABLE statistica_cartelle;
