create table if not exists reindex_errors (
  run_id text not null references reindex_runs (id) on delete cascade,
  document_id text not null,
  code text not null,
  message text not null,
  primary key (run_id, document_id));
