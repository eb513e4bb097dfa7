-- siso:data-bearing
-- 0002 protocollo down: destroys entes, adhesions, referents and privacy roles.
DROP TABLE recesso;
DROP TABLE ruolo_privacy;
DROP TABLE referente;
DROP TABLE appartenenza_ambito;
DROP TABLE adesione;
DROP TABLE ente;
DROP TABLE edizione_protocollo;
