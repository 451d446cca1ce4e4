-- Edits and deletions (`Store::change_then`). A change is a row of its own, `target` naming the
-- message it changes, so that it takes its offset from the messages' sequence within its room's
-- turn: a client's resume offset covers the changes it has seen as well as the messages. The
-- changed message keeps its current state: its text, `edited_at` or `deleted_at` (its text,
-- and its earlier edits', then emptied), and `revision`, the offset of its latest change.
ALTER TABLE messages ADD COLUMN target BIGINT;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
ALTER TABLE messages ADD COLUMN revision BIGINT;
CREATE INDEX messages_by_revision ON messages (room, revision) WHERE revision IS NOT NULL;
