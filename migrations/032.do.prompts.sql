-- Prompts are data: immutable versions (numbered per name, content-hashed) and movable labels.
create table if not exists prompt_versions (
  name text not null,
  version int not null,
  content text not null,
  -- First 12 hex digits of the content's sha256: what answers record.
  content_hash text not null,
  -- The key that created it; 'repo' for versions seeded from prompts/<name>/*.md.
  author text not null,
  note text,
  created_at timestamptz not null default now(),
  primary key (name, version),
  unique (name, content_hash)
);

create table if not exists prompt_labels (
  name text not null,
  label text not null,
  version int not null,
  moved_at timestamptz not null default now(),
  moved_by text not null,
  primary key (name, label),
  foreign key (name, version) references prompt_versions (name, version)
);

-- Every move of a label, oldest first: its history, and what a rollback returns to.
create table if not exists prompt_label_moves (
  id bigserial primary key,
  name text not null,
  label text not null,
  from_version int,
  to_version int not null,
  -- seed, move or rollback.
  kind text not null,
  actor text not null,
  reason text,
  at timestamptz not null default now()
);
create index if not exists prompt_label_moves_by_label on prompt_label_moves (name, label, id);

-- Answers record the label their prompt version was served under.
alter table answers add column if not exists prompt_label text;
