create table if not exists audit_log (
  id bigserial primary key,
  at timestamptz not null default now(),
  tenant_id text not null,
  actor text,
  request_id text,
  category text not null,
  action text not null,
  target text,
  details jsonb not null default '{}');
