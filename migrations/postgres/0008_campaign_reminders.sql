-- Reminders before a campaign's due date and the escalation after it. `reminder_days` lists
-- how many days before the due date reviewers with undecided items are reminded (JSON array,
-- e.g. [7,1]). `campaign_reminders` remembers every (campaign, occasion, recipient) already
-- queued, so restarts and several instances never send one twice; the key makes the check
-- and the write one statement.
ALTER TABLE campaigns ADD COLUMN reminder_days TEXT NOT NULL DEFAULT '[]';

CREATE TABLE campaign_reminders (
    campaign_id  BIGINT  NOT NULL REFERENCES campaigns (id),
    occasion     TEXT    NOT NULL,  -- reminder:7, reminder:1, escalation
    recipient    TEXT    NOT NULL,
    queued_at    TEXT    NOT NULL,
    PRIMARY KEY (campaign_id, occasion, recipient)
);
