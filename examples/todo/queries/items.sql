--: Item()

-- Many items in one statement: titles[i] has priorities[i]; ids come back in that order.
--! add_items
INSERT INTO item (list_id, title, priority)
SELECT :list_id, title, priority
FROM unnest(:titles::text[], :priorities::priority[]) WITH ORDINALITY AS t (title, priority, position)
ORDER BY position
RETURNING id;

-- The items still to do, most urgent first, oldest first within a priority.
--! open_items : Item
SELECT id, title, priority, done
FROM item
WHERE list_id = :list_id AND NOT done
ORDER BY priority DESC, id;

-- Affects no row when the item is already done (or does not exist).
--! mark_done
UPDATE item SET done = true WHERE id = :id AND NOT done;

--! count_items
SELECT count(*) FILTER (WHERE NOT done) AS open, count(*) FILTER (WHERE done) AS done
FROM item
WHERE list_id = :list_id;
