-- Every message ever accepted. `id` is the server offset clients resume from: it only grows, and
-- within a room it grows in the order messages are relayed (see `Store::insert_then`).
CREATE TABLE messages (
    id            BIGSERIAL PRIMARY KEY,
    room          TEXT    NOT NULL,
    author        TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    -- Chosen by the client; a resend with the same value is the same message.
    client_offset TEXT    UNIQUE,
    -- Milliseconds since the Unix epoch, UTC.
    sent_at       BIGINT  NOT NULL
);

CREATE INDEX messages_by_room ON messages (room, id);
