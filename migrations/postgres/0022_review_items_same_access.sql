-- The review queue shows, beside each item, the last closed campaign's decision about the same
-- access: the same person (none for a server item), server (none for an account role) and
-- kind. The lookup joins on exactly these expressions, so both engines use this index.

CREATE INDEX review_items_same_access
    ON review_items (COALESCE(user_email, ''), COALESCE(server_id, -1), kind);

-- Beside each server the queue shows how many people hold a permission on it; the primary key
-- starts with the email, so counting by server needs its own index.
CREATE INDEX user_permissions_server ON user_permissions (postmark_server_id);
