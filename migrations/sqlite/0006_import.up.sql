-- 0006 import: the crosswalk remembers what the source said (a SHA-256 of the
-- record's fields), so a re-import tells unchanged rows from updated ones
-- without reading them back.
ALTER TABLE crosswalk ADD COLUMN contenuto_sha256 TEXT NULL;
