create table if not exists collections (
  tenant_id text not null,
  name text not null,
  embedding_model text not null,
  dimensions int not null,
  chunk_size_tokens int not null,
  chunk_overlap_tokens int not null,
  generation int not null default 1,
  created_at timestamptz not null default now(),
  primary key (tenant_id, name));
