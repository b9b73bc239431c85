-- Who handed an undecided item on, when they did it themselves (a reviewer's own hand-on or
-- delegation): while the campaign is open and the item undecided, they may take it back. An
-- admin's hand-on leaves it empty (the admin decided where it goes), as does taking it back.
ALTER TABLE review_items ADD COLUMN handed_on_by TEXT;

-- "Handed on by you" on My reviews.
CREATE INDEX review_items_handed_on_by ON review_items (handed_on_by)
    WHERE handed_on_by IS NOT NULL;
