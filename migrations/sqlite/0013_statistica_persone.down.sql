-- Reverts 0013 statistica_persone.
DROP TABLE statistica_persone_pause;
DROP TABLE statistica_persone;
