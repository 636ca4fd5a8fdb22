-- Index spaces shared by every tenant, one per embedding model: a generation records where its
-- points live. Null: a legacy index of its own, named {tenant}__{collection}__g{n}, read as it is
-- until a re-index moves the collection (npm run migrate:index-layout).
alter table collection_generations add column if not exists index_name text;
-- Queries no longer read through aliases: Postgres says which generation serves.
drop table if exists vector_aliases;
