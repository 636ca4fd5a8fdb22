-- Collections as first-class records: settings a tenant chooses, and a tombstone while one is deleted.
alter table collections add column if not exists relevance_floor real;
-- Metadata keys declared filterable at creation (null: any key a document has carried).
alter table collections add column if not exists filterable_keys jsonb;
-- Every metadata key documents of the collection have carried: what filters may name by default.
alter table collections add column if not exists metadata_keys jsonb not null default '[]';
alter table collections add column if not exists deleted_at timestamptz;
alter table collections add column if not exists deletion_workflow_id text;
update collections c set metadata_keys = coalesce((
  select jsonb_agg(distinct k) from document_versions v join documents d on d.tenant_id = v.tenant_id and d.document_id = v.document_id,
  lateral jsonb_object_keys(v.metadata) k where d.tenant_id = c.tenant_id and d.collection = c.name), '[]');
