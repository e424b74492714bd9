-- A letter with an identity code goes only to the address of registration
-- the Interior Ministry returned: the answer's address is kept (sealed) on
-- its check, and becomes the account's when the submission passes.
ALTER TABLE checks ADD COLUMN registration_address BLOB;
ALTER TABLE personal_data ADD COLUMN registration_address BLOB;

-- Letters ordered before went to whatever address the requester typed:
-- their codes stop working (a new letter goes to the registered address).
UPDATE identity_letters SET voided = 1, code = NULL WHERE used_at IS NULL AND voided = 0;
