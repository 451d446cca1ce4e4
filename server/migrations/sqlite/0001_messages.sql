-- Every message ever accepted. `id` is the server offset clients resume from: it only grows.
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    room          TEXT    NOT NULL,
    author        TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    -- Chosen by the client; a resend with the same value is the same message.
    client_offset TEXT    UNIQUE,
    -- Milliseconds since the Unix epoch, UTC.
    sent_at       BIGINT  NOT NULL
);

CREATE INDEX messages_by_room ON messages (room, id);
