create table if not exists generation_documents (
  tenant_id text not null,
  collection text not null,
  generation int not null,
  document_id text not null,
  version int not null,
  chunk_count int not null,
  primary key (tenant_id, collection, generation, document_id, version),
  foreign key (tenant_id, document_id) references documents (tenant_id, document_id) on delete cascade);
