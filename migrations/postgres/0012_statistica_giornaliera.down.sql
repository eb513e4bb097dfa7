-- Reverts 0010 statistica_giornaliera.
DROP INDEX cartella_comune_chiusa_il_idx;
DROP TABLE statistica_dormienti;
DROP TABLE statistica_prestazioni;
DROP TABLE statistica_cartelle;
