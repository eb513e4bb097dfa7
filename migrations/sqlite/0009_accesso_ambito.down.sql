-- 0009 accesso_ambito down: nothing to undo on SQLite (see the up script).
SELECT 1;
