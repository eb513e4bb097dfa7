-- 0006 import down: drops the content hashes (derived data; the rows stay).
ALTER TABLE crosswalk DROP COLUMN contenuto_sha256;
