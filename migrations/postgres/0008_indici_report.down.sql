-- Reverts 0008 indici_report.
DROP INDEX diario_data_idx;
DROP INDEX erogazione_intervento_data_idx;
DROP INDEX erogazione_data_idx;
DROP INDEX intervento_cartella_inizio_idx;
DROP INDEX intervento_inizio_idx;
DROP INDEX cartella_comune_aperta_il_idx;
