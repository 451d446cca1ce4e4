-- Server-issued identities: each message keeps its author's public id (`person`), and a client
-- offset is the author's own key in a room, not one key for everybody: it is unique per person
-- and room, so nobody can take (or replay) another person's. SQLite cannot drop a column's
-- UNIQUE, so the table is made again.
CREATE TABLE messages_by_person (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    room          TEXT    NOT NULL,
    author        TEXT    NOT NULL,
    -- The author's public id; empty for messages stored before identities were issued.
    person        TEXT    NOT NULL DEFAULT '',
    body          TEXT    NOT NULL,
    client_offset TEXT,
    -- Milliseconds since the Unix epoch, UTC.
    sent_at       BIGINT  NOT NULL
);

INSERT INTO messages_by_person (id, room, author, body, client_offset, sent_at)
    SELECT id, room, author, body, client_offset, sent_at FROM messages;
DROP TABLE messages;
ALTER TABLE messages_by_person RENAME TO messages;

CREATE INDEX messages_by_room ON messages (room, id);
CREATE UNIQUE INDEX messages_by_client_offset ON messages (person, room, client_offset);

-- Values the server keeps for itself: the secret identities are signed with.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
