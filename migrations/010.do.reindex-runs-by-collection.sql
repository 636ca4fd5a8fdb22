create index if not exists reindex_runs_by_collection on reindex_runs (tenant_id, collection, started_at);
