-- The embedded vector index (zero-setup deployments): an in-memory copy persisted here.
create table if not exists vector_indexes (name text primary key, dimensions int not null);
create table if not exists vector_points (
  index_name text not null references vector_indexes (name) on delete cascade,
  id text not null,
  dense bytea not null,
  sparse_indices bytea not null,
  sparse_values bytea not null,
  payload jsonb not null,
  primary key (index_name, id));
create table if not exists vector_aliases (alias text primary key, index_name text not null references vector_indexes (name) on delete cascade);
