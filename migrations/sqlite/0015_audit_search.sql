-- Indexes for the Audit page's search (src/audit/search_db.rs). Each lookup column is paired
-- with seq, so "the newest 50 events with this value" is one seek and a short walk.
-- (In SQLite seq is the rowid, which every index already ends with; naming it keeps the two
-- engines' index lists equal.)
DROP INDEX audit_events_action;
DROP INDEX audit_events_subject;
CREATE INDEX audit_events_action_seq ON audit_events (action, seq);
CREATE INDEX audit_events_subject_seq ON audit_events (subject, seq);
CREATE INDEX audit_events_actor_email_seq ON audit_events (actor_email, seq);
CREATE INDEX audit_events_system_actor_seq ON audit_events (actor_kind, actor_sub, seq);
CREATE INDEX audit_events_occurred_at_seq ON audit_events (occurred_at, seq);
