-- Every promotion and rollback with its evidence, kept for audits: what moved, from and to what,
-- the platform's commit and configuration, the evaluation report, who approved it, and whether the
-- gate let it through.
create table if not exists deployments (
  id bigserial primary key,
  at timestamptz not null default now(),
  -- prompt_label (more kinds as gates cover them).
  kind text not null,
  -- e.g. grounded-answer:production
  target text not null,
  from_version text,
  to_version text not null,
  -- promoted, refused, rolled_back.
  decision text not null,
  platform_commit text not null,
  config_hash text not null,
  report jsonb,
  approved_by text,
  reason text,
  workflow_id text
);
create index if not exists deployments_by_target on deployments (kind, target, id);
