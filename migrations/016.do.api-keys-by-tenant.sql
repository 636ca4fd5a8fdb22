create index if not exists api_keys_by_tenant on api_keys (tenant_id, created_at);
