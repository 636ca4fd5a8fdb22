-- Deleted documents stay as tombstones: versions never repeat, and a deletion in progress knows
-- which versions it removes (those up to deleted_through) while new uploads get newer ones.
alter table documents add column if not exists deleted_at timestamptz;
alter table documents add column if not exists deleted_through int;
alter table documents add column if not exists deletion_workflow_id text;
-- The same bytes may come back as a newer version (A, then B, then A again).
alter table document_versions drop constraint if exists document_versions_tenant_id_document_id_sha256_key;
create index if not exists document_versions_by_sha256 on document_versions (tenant_id, document_id, sha256);
create index if not exists document_versions_by_blob on document_versions (sha256);
