-- A deleted collection whose deletion has finished: its name can be created again (generations continue after the old ones).
alter table collections add column if not exists purged_at timestamptz;
-- Floors are compared with scores in double precision: a real would answer 0.99 as 0.9900000095.
alter table collections alter column relevance_floor type double precision;
