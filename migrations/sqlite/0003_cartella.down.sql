-- siso:data-bearing
-- 0003 cartella down: destroys ALL case data (persons, cartelle, interventions,
-- deliveries, diaries, documents).
DROP TABLE documento;
DROP TABLE nucleo_componente;
DROP TABLE diario;
DROP TABLE valutazione_sina;
DROP TABLE erogazione;
DROP TABLE intervento;
DROP TABLE cartella_stato;
DROP TABLE cartella;
DROP TABLE persona_cittadinanza;
DROP TABLE persona;
DROP TABLE operatore;
