-- Who started a re-index or rollback run: the generation swap's deployment evidence names them.
alter table reindex_runs add column if not exists requested_by text;
