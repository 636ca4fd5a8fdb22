-- What a collection serves, as one number: it changes with every activation, deletion, move,
-- swap and rollback, and never repeats (one sequence for all, so a collection deleted and created
-- again cannot meet its old number). Cached answers are keyed by it, so a change is a miss.
create sequence if not exists collection_content_versions;
alter table collections add column if not exists content_version bigint not null default nextval('collection_content_versions');

create or replace function bump_content_version(tenant text, name text) returns void language sql as $$
  update collections set content_version = nextval('collection_content_versions') where tenant_id = tenant and collections.name = bump_content_version.name
$$;

create or replace function documents_content_changed() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    perform bump_content_version(old.tenant_id, old.collection);
    return old;
  end if;
  if new.active_version is distinct from old.active_version or new.deleted_at is distinct from old.deleted_at or new.collection is distinct from old.collection then
    perform bump_content_version(new.tenant_id, new.collection);
    if new.collection is distinct from old.collection then perform bump_content_version(old.tenant_id, old.collection); end if;
  end if;
  return new;
end $$;
create or replace trigger documents_content_changed after update or delete on documents for each row execute function documents_content_changed();

create or replace function generation_went_live() returns trigger language plpgsql as $$
begin
  if new.state = 'live' and old.state is distinct from 'live' then perform bump_content_version(new.tenant_id, new.collection); end if;
  return new;
end $$;
create or replace trigger generation_went_live after update on collection_generations for each row execute function generation_went_live();

-- Answers by scope (tenant, collection, content version, settings) and question; the question's
-- vector lets a paraphrase in the same scope find it.
create table if not exists answer_cache (
  scope text not null,
  question_hash text not null,
  question text not null,
  vector bytea,
  answer jsonb not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (scope, question_hash)
);
create index if not exists answer_cache_recent on answer_cache (scope, created_at desc);
create index if not exists answer_cache_age on answer_cache (created_at);

-- Vectors by model and text hash: a chunk whose text did not change is not embedded again.
create table if not exists embedding_cache (
  model text not null,
  text_hash text not null,
  vector bytea not null,
  created_at timestamptz not null default now(),
  primary key (model, text_hash)
);
create index if not exists embedding_cache_age on embedding_cache (created_at);
