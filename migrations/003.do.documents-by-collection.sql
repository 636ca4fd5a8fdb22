create index if not exists documents_by_collection on documents (tenant_id, collection, document_id);
