--: User()

--! count_users
SELECT count(*) AS count FROM "user";

--! user_by_name : User
SELECT id, name FROM "user" WHERE name = :name ORDER BY id;

-- One row per message, or one row with no message for a user who has none (LEFT JOIN);
-- ordered so each user's rows arrive together, messages in insertion order.
--! users_with_messages : (message_id?, content?)
SELECT u.id AS user_id, u.name AS user_name, m.id AS message_id, m.content
FROM "user" AS u
LEFT JOIN message AS m ON m.user_id = u.id
ORDER BY u.id, m.id;

-- Many users in one statement; ids come back in the order of `names`.
--! insert_users
INSERT INTO "user" (name)
SELECT name FROM unnest(:names::text[]) WITH ORDINALITY AS t (name, position)
ORDER BY position
RETURNING id;

--! user_by_id : User
SELECT id, name FROM "user" WHERE id = :id;

-- One new user; the database picks the id.
--! insert_user : User
INSERT INTO "user" (name) VALUES (:name) RETURNING id, name;
