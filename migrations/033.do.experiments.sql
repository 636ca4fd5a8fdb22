-- A/B/n experiments on a tenant's answer traffic: variants with weights (percent), each a prompt
-- label and/or a preferred model; a subject key assigns a caller to one variant for good.
create table if not exists experiments (
  tenant_id text not null,
  id text not null,
  name text not null,
  -- Null: every collection of the tenant.
  collection text,
  -- [{name, weight, promptLabel?, model?}]
  variants jsonb not null,
  -- draft, running, stopped.
  state text not null,
  created_by text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  stopped_at timestamptz,
  primary key (tenant_id, id)
);
-- At most one running experiment per tenant and collection scope (coalesce: null is "all").
create unique index if not exists experiments_one_running on experiments (tenant_id, coalesce(collection, '')) where state = 'running';

-- What results per variant are summed from.
alter table answers add column if not exists experiment_id text;
alter table answers add column if not exists repairs int not null default 0;
alter table answers add column if not exists input_tokens int not null default 0;
alter table answers add column if not exists output_tokens int not null default 0;
create index if not exists answers_by_experiment on answers (tenant_id, experiment_id) where experiment_id is not null;
