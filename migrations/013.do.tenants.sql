create table if not exists tenants (
  id text primary key,
  name text not null,
  settings jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now());
