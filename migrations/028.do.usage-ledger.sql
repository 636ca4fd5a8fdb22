-- Every model and embedding call, one row each: what usage reports and cost ceilings are read from.
create table if not exists usage_events (
  id bigserial primary key,
  at timestamptz not null default now(),
  tenant_id text not null,
  -- The API key that asked; null for work no key asked for directly (ingestion runs, re-indexing).
  key_id text,
  collection text,
  -- What the call served: query (an answer or a retrieval), ingest, reindex.
  purpose text not null,
  operation text not null,
  provider text not null,
  model text not null,
  input_tokens integer not null,
  output_tokens integer not null,
  cost_usd double precision not null,
  latency_ms double precision not null,
  outcome text not null,
  prompt_version text,
  trace_id text,
  workflow_id text,
  request_id text
);
create index if not exists usage_events_tenant_at on usage_events (tenant_id, at);
create index if not exists usage_events_at on usage_events (at);
