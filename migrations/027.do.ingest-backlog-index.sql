-- The ingestion backlog gauge counts unfinished versions on every scrape: only those rows are indexed, so the count stays cheap with millions of ready versions.
create index if not exists document_versions_backlog on document_versions (stage) where stage not in ('ready', 'failed', 'superseded');
