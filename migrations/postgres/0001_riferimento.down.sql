-- 0001 riferimento down: reference tables only (no personal data).
DROP TABLE dataset_riferimento;
DROP TABLE ats;
DROP TABLE area_utenza;
DROP TABLE prestazione;
DROP TABLE stato_estero;
DROP TABLE comune;
