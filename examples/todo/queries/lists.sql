--! insert_list
INSERT INTO list (name) VALUES (:name) RETURNING id;

-- Its items go with it (ON DELETE CASCADE).
--! delete_list
DELETE FROM list WHERE id = :id;
