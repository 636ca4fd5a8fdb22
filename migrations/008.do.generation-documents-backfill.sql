insert into generation_documents (tenant_id, collection, generation, document_id, version, chunk_count)
  select d.tenant_id, d.collection, c.generation, d.document_id, d.active_version, coalesce(v.chunk_count, 0)
  from documents d join collections c on c.tenant_id = d.tenant_id and c.name = d.collection
  join document_versions v on v.tenant_id = d.tenant_id and v.document_id = d.document_id and v.version = d.active_version
  on conflict do nothing;
