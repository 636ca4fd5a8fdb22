-- What the asker thought of an answer: one row per answer (sending again replaces it).
create table if not exists answer_feedback (
  tenant_id text not null,
  answer_id uuid not null,
  at timestamptz not null default now(),
  key_id text,
  rating text not null check (rating in ('up', 'down')),
  comment text,
  -- What the answer should have said.
  correction text,
  -- The chunk that should have been cited, and its document (kept: chunk ids change on re-chunking).
  expected_chunk_id text,
  expected_document_id text,
  primary key (tenant_id, answer_id),
  foreign key (tenant_id, answer_id) references answers (tenant_id, id) on delete cascade
);
