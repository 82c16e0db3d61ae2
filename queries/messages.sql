--: Message()

--! count_messages
SELECT count(*) AS count FROM message;

-- The select-in half of a selectinload: all messages of the users already loaded.
--! messages_for_users : Message
SELECT id, content, user_id FROM message WHERE user_id = ANY(:user_ids) ORDER BY user_id, id;

-- The notebook's Message.afrom_user(session, name).
--! messages_from_user : Message
SELECT m.id, m.content, m.user_id
FROM message AS m
JOIN "user" AS u ON u.id = m.user_id
WHERE u.name = :name
ORDER BY m.id;

-- Many messages in one statement: contents[i] belongs to user_ids[i], inserted in array order.
-- seed uses copy/messages.sql instead; `cargo bench` keeps measuring this typed alternative.
--! insert_messages
INSERT INTO message (content, user_id)
SELECT content, user_id FROM unnest(:contents::text[], :user_ids::integer[]) AS t (content, user_id);

-- A page of Message.afrom_user: the user's messages after the last id seen (keyset pagination,
-- so each page is an index range scan however deep it goes).
--! messages_from_user_after : Message
SELECT m.id, m.content, m.user_id
FROM message AS m
JOIN "user" AS u ON u.id = m.user_id
WHERE u.name = :name AND m.id > :after_id
ORDER BY m.id
LIMIT :count;

-- One new message; fails with a foreign key violation (23503) when the user does not exist.
--! insert_message : Message
INSERT INTO message (content, user_id) VALUES (:content, :user_id) RETURNING id, content, user_id;
