create trigger audit_log_no_change before update or delete on audit_log for each row execute function audit_log_append_only();
