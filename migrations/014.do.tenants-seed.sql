insert into tenants (id, name) values ('default', 'Default tenant'), ('platform', 'Platform operators') on conflict (id) do nothing;
