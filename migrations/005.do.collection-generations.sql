create table if not exists collection_generations (
  tenant_id text not null,
  collection text not null,
  generation int not null,
  embedding_model text not null,
  dimensions int not null,
  chunk_size_tokens int not null,
  chunk_overlap_tokens int not null,
  state text not null,
  created_at timestamptz not null default now(),
  retired_at timestamptz,
  primary key (tenant_id, collection, generation),
  foreign key (tenant_id, collection) references collections (tenant_id, name));
