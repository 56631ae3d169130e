-- Issue 13: the sub-customer search by `account_name` at a cost flat in the number of names.
--
-- `login_name like '%x%'` went through the trigram index of migration 0019. A trigram index
-- reads the posting list of every trigram of the pattern, and for a numbered name such as
-- `00000500` every trigram ("000", "005", "050", "500") is in thousands to a hundred thousand
-- of a million names: 1.3–1.6 ms in the index at 1M customers for one match, against ~0.05 ms
-- at 1k.
--
-- Now every suffix of a login name is a key of a GIN index (the first 32 characters of each
-- suffix, as lexemes of a tsvector: taken verbatim, no parsing, no case folding, compared byte
-- by byte). `x` is a substring of a name exactly when it is a prefix of one of the name's
-- suffixes, and a GIN prefix match (`'x':*`) walks only the keys that start with `x`: the cost
-- is the index's depth plus the matches, whatever the number of names. A pattern longer than
-- 32 characters is looked up by its first 32 and rechecked with LIKE (`db::customers`).
--
-- The index is an expression index on `account`: PostgreSQL keeps it in step with every insert,
-- update of `login_name` and delete (no trigger, no table of suffixes to fill or repair, also
-- when triggers are off during a bulk load). Its price is its size: about 20 keys per 20-character
-- name (~1 GB at 1M such names, docs/benchmarks.md).
--
-- `parallel restricted`: PostgreSQL estimates a prefix match from the most common lexemes only
-- (~1,400 of 1M rows for any long pattern), and at that estimate it ran the search with a
-- parallel worker: 4–9 ms of worker start-up for 0.05 ms of work at 1M customers. Restricted to
-- the leader, the search runs in the backend itself. (GIN indexes are built without parallel
-- workers in PostgreSQL 15 either way.)
create function login_name_suffixes(name text) returns tsvector
    language sql immutable strict parallel restricted
    return array_to_tsvector(array(
        select substr(name, i, 32) from generate_series(1, char_length(name)) i));

-- The index itself is built by migration 0029 (`create index concurrently`, outside a
-- transaction), and the trigram index on login names, which served only this search, is dropped
-- by migration 0030 (`drop index concurrently`): neither blocks writes to `account`.
