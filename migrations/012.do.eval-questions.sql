create table if not exists eval_questions (
  tenant_id text not null,
  collection text not null,
  position int not null,
  question text not null,
  relevant_document_ids jsonb not null,
  primary key (tenant_id, collection, position),
  foreign key (tenant_id, collection) references collections (tenant_id, name));
