-- Per-account token version: IAM-compatible tokens carry the version they were issued under and
-- are refused once it moved on. Any change of the password hash, and any change of the status
-- away from 'active' (disable), moves it on, whichever code path makes the change.
alter table account add column token_version bigint not null default 0;

create function account_token_version_bump() returns trigger language plpgsql as $$
begin
    if new.password_hash is distinct from old.password_hash
       or (new.status is distinct from old.status and new.status <> 'active') then
        new.token_version := old.token_version + 1;
    end if;
    return new;
end
$$;

create trigger account_token_version_bump
    before update of password_hash, status on account
    for each row execute function account_token_version_bump();
