create table if not exists documents (
  tenant_id text not null,
  document_id text not null,
  collection text not null,
  latest_version int not null,
  active_version int,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (tenant_id, document_id),
  foreign key (tenant_id, collection) references collections (tenant_id, name));
