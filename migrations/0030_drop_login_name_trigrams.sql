-- no-transaction
-- Issue 13: the trigram index on login names (migration 0019) served only the `account_name`
-- search, which now goes through `account_login_name_suffixes` (migrations 0027 and 0029). Dropped
-- `concurrently`: a plain `drop index` takes an exclusive lock on `account`, waiting behind every
-- running transaction on it while every new one waits behind the drop.
drop index concurrently if exists account_login_name_trgm;
