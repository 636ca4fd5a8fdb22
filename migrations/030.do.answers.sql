-- Every answer served (fresh or from the cache), so feedback can be tied to what was asked and how
-- it was answered. The question is the one the run saw: after the input guard masked personal data.
create table if not exists answers (
  tenant_id text not null,
  id uuid not null,
  at timestamptz not null default now(),
  key_id text,
  collection text not null,
  question text not null,
  found boolean not null,
  answer text not null,
  -- [{documentId, version, chunkId, page}]: where the answer's quotes come from.
  citations jsonb not null,
  provider text not null,
  model text not null,
  prompt_version text not null,
  -- The experiment variant the answer was served under; null outside experiments.
  variant text,
  -- The collection's live generation when it was asked (null: none yet).
  generation int,
  -- exact, semantic, miss or off.
  cache_hit text not null,
  fallbacks int not null,
  latency_ms double precision not null,
  cost_usd double precision not null,
  trace_id text not null,
  workflow_id text not null,
  primary key (tenant_id, id)
);
create index if not exists answers_tenant_at on answers (tenant_id, at);
create index if not exists answers_at on answers (at);
