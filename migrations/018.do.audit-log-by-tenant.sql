create index if not exists audit_log_by_tenant on audit_log (tenant_id, id);
