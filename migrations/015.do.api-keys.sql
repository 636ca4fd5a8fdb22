create table if not exists api_keys (
  id text primary key,
  tenant_id text not null references tenants (id),
  name text not null,
  key_hash text not null unique,
  prefix text not null,
  scopes jsonb not null,
  rate_limit_per_minute int,
  created_by text,
  created_at timestamptz not null default now(),
  revoked_at timestamptz);
