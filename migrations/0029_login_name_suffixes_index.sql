-- no-transaction
-- Issue 13: the index of login-name suffixes of migration 0027 (see there), built without
-- blocking writes to `account`: a plain `create index` holds a share lock on the table for the
-- whole build (one to two minutes at 1M 20-character names, docs/benchmarks.md), during which no
-- customer can be created, renamed or removed. `concurrently` takes a lock that lets inserts,
-- updates and deletes go on; it scans the table twice and waits for the transactions running on
-- `account` to end, so the server's start (which applies migrations) waits for it, not the
-- writers. Replicas starting together take turns without deadlocking it (`startup::migrate`).
--
-- sqlx runs a migration that starts with `-- no-transaction` outside a transaction, and this one
-- holds one statement only (several statements sent at once form an implicit transaction, which
-- `concurrently` refuses). If the build is interrupted, PostgreSQL leaves an invalid index of
-- this name and the migration is not recorded: `drop index concurrently
-- account_login_name_suffixes;` then start the server again (README, "Run").
create index concurrently account_login_name_suffixes
    on account using gin (login_name_suffixes(login_name));
