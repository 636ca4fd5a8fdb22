create or replace function audit_log_append_only() returns trigger language plpgsql as $$
begin raise exception 'the audit log is append-only' using errcode = '42501'; end $$;
