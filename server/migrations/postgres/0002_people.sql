-- Server-issued identities: each message keeps its author's public id (`person`), and a client
-- offset is the author's own key in a room, not one key for everybody: it is unique per person
-- and room, so nobody can take (or replay) another person's.
ALTER TABLE messages ADD COLUMN person TEXT NOT NULL DEFAULT '';
ALTER TABLE messages DROP CONSTRAINT messages_client_offset_key;
CREATE UNIQUE INDEX messages_by_client_offset ON messages (person, room, client_offset);

-- Values the server keeps for itself: the secret identities are signed with, shared this way by
-- every node of a cluster.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
