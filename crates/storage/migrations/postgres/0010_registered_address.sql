-- A letter with an identity code goes only to the address of registration
-- the Interior Ministry returned: the answer's address is kept (sealed) on
-- its check, and becomes the account's when the submission passes.
ALTER TABLE checks ADD COLUMN registration_address BYTEA;
ALTER TABLE personal_data ADD COLUMN registration_address BYTEA;

-- Letters ordered before went to whatever address the requester typed:
-- their codes stop working (a new letter goes to the registered address).
UPDATE identity_letters SET voided = TRUE, code = NULL WHERE used_at IS NULL AND NOT voided;
