-- Nothing was done on SQLite (see the up script).
SELECT 1;
