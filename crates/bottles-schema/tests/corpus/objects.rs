//! The corpus, part 2: indexes, enum types, sequences, views, comments and refusals.

use bottles_schema::Hazard::{
    BuildsIndexOnline as Online, DeletesData as Deletes, LocksTable as Locks,
    RewritesTable as Rewrites,
};

use super::harness::Case;
use super::harness::Expect::{Destructive, Plans, Refused};
use super::schemas::ROWS;

pub const CASES: &[Case] = &[
    Case {
        name: "index added to an existing table",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE INDEX message_content_idx ON message (content);"
        ),
        rows: ROWS,
        hazards: &[Online],
        expect: Plans,
    },
    Case {
        name: "unique index",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE UNIQUE INDEX user_lower_name_idx ON \"user\" (lower(name));"
        ),
        rows: ROWS,
        hazards: &[Online],
        expect: Plans,
    },
    Case {
        name: "partial index",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE INDEX message_recent_idx ON message (id) WHERE user_id > 1;"
        ),
        rows: ROWS,
        hazards: &[Online],
        expect: Plans,
    },
    Case {
        name: "expression index",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE INDEX message_lower_content_idx ON message (lower(content));"
        ),
        rows: ROWS,
        hazards: &[Online],
        expect: Plans,
    },
    Case {
        name: "multi-column index",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE INDEX message_user_content_idx ON message (user_id, content DESC);"
        ),
        rows: ROWS,
        hazards: &[Online],
        expect: Plans,
    },
    Case {
        name: "index changed",
        old: base!(),
        new: concat!(
            base!(),
            "DROP INDEX message_user_id_idx;\nCREATE INDEX message_user_id_idx ON message (user_id, content);"
        ),
        rows: ROWS,
        hazards: &[Online],
        expect: Plans,
    },
    Case {
        name: "index dropped",
        old: base!(),
        new: concat!(base!(), "DROP INDEX message_user_id_idx;"),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "index dropped next to one built",
        old: base!(),
        new: concat!(
            base!(),
            "DROP INDEX message_user_id_idx;\nCREATE INDEX message_content_idx ON message (content);"
        ),
        rows: ROWS,
        hazards: &[Online],
        expect: Plans,
    },
    Case {
        name: "new enum type",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE TYPE mood AS ENUM ('happy', 'sad');\nALTER TABLE \"user\" ADD COLUMN mood mood;"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "enum value added",
        old: concat!(
            base!(),
            "CREATE TYPE mood AS ENUM ('happy', 'sad');\nALTER TABLE \"user\" ADD COLUMN mood mood;"
        ),
        new: concat!(
            base!(),
            "CREATE TYPE mood AS ENUM ('elated', 'happy', 'meh', 'sad', 'awful');\nALTER TABLE \"user\" ADD COLUMN mood mood;"
        ),
        rows: "UPDATE \"user\" SET mood = 'sad';",
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "enum value added and used",
        old: concat!(
            base!(),
            "CREATE TYPE mood AS ENUM ('happy', 'sad');\nALTER TABLE \"user\" ADD COLUMN mood mood;"
        ),
        new: concat!(
            base!(),
            "CREATE TYPE mood AS ENUM ('happy', 'meh', 'sad');\nALTER TABLE \"user\" ADD COLUMN mood mood DEFAULT 'meh';"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "enum value removed",
        old: concat!(base!(), "CREATE TYPE mood AS ENUM ('happy', 'meh', 'sad');"),
        new: concat!(base!(), "CREATE TYPE mood AS ENUM ('happy', 'sad');"),
        rows: ROWS,
        hazards: &[],
        expect: Refused("cannot plan enum type mood: value 'meh' is removed (or renamed)"),
    },
    Case {
        name: "enum values reordered",
        old: concat!(base!(), "CREATE TYPE mood AS ENUM ('happy', 'sad');"),
        new: concat!(base!(), "CREATE TYPE mood AS ENUM ('sad', 'happy');"),
        rows: ROWS,
        hazards: &[],
        expect: Refused("cannot plan enum type mood: its values change order"),
    },
    Case {
        name: "enum type dropped",
        old: concat!(base!(), "CREATE TYPE mood AS ENUM ('happy', 'sad');"),
        new: base!(),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "sequence added",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE SEQUENCE invoice_number START 1000 INCREMENT 10;\nALTER TABLE message ADD COLUMN invoice bigint DEFAULT nextval('invoice_number');"
        ),
        rows: ROWS,
        hazards: &[Rewrites, Locks],
        expect: Plans,
    },
    Case {
        name: "serial column on a new table",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE TABLE ticket (id serial PRIMARY KEY, title text);"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "sequence changed",
        old: concat!(base!(), "CREATE SEQUENCE invoice_number;"),
        new: concat!(
            base!(),
            "CREATE SEQUENCE invoice_number AS integer INCREMENT 5 CACHE 10;"
        ),
        rows: "SELECT nextval('invoice_number');",
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "sequence dropped",
        old: concat!(base!(), "CREATE SEQUENCE invoice_number;"),
        new: base!(),
        rows: ROWS,
        hazards: &[Deletes],
        expect: Destructive("dropping sequence invoice_number deletes data"),
    },
    Case {
        name: "view added",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE VIEW message_count AS SELECT u.name, count(m.id) AS messages FROM \"user\" u LEFT JOIN message m ON m.user_id = u.id GROUP BY u.name;"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "view changed",
        old: concat!(
            base!(),
            "CREATE VIEW nick AS SELECT id, name FROM \"user\" WHERE name = 'Nick';\nCREATE VIEW nick_ids AS SELECT id FROM nick;"
        ),
        new: concat!(
            base!(),
            "CREATE VIEW nick AS SELECT name, id FROM \"user\" WHERE name = 'Nick';\nCREATE VIEW nick_ids AS SELECT id FROM nick;"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "view gains columns",
        old: concat!(
            base!(),
            "CREATE VIEW nick AS SELECT id FROM \"user\" WHERE name = 'Nick';\nCREATE VIEW nick_ids AS SELECT id FROM nick;"
        ),
        new: concat!(
            base!(),
            "CREATE VIEW nick AS SELECT id, name FROM \"user\" WHERE name = 'Nick';\nCREATE VIEW nick_ids AS SELECT id FROM nick;"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "view over a retyped column",
        old: concat!(
            base!(),
            "CREATE VIEW owners AS SELECT DISTINCT user_id FROM message;"
        ),
        new: concat!(
            base!(),
            "ALTER TABLE message ALTER COLUMN user_id TYPE bigint;\nCREATE VIEW owners AS SELECT DISTINCT user_id FROM message;\nCOMMENT ON VIEW owners IS 'who wrote';"
        ),
        rows: ROWS,
        hazards: &[Rewrites, Locks],
        expect: Plans,
    },
    Case {
        name: "view dropped",
        old: concat!(
            base!(),
            "CREATE VIEW nick AS SELECT id FROM \"user\" WHERE name = 'Nick';"
        ),
        new: base!(),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "comments added",
        old: base!(),
        new: concat!(
            base!(),
            "COMMENT ON TABLE message IS 'what users wrote';\nCOMMENT ON COLUMN message.content IS 'the text, it''s free';\nCOMMENT ON INDEX message_user_id_idx IS 'joined loads';"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "comments changed and removed",
        old: concat!(
            base!(),
            "COMMENT ON TABLE message IS 'what users wrote';\nCOMMENT ON COLUMN message.content IS 'the text';"
        ),
        new: concat!(base!(), "COMMENT ON TABLE message IS 'messages';"),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "trigger in new",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;\nCREATE TRIGGER message_audit BEFORE INSERT ON message FOR EACH ROW EXECUTE FUNCTION audit();"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Refused(
            "cannot plan trigger message_audit on message: triggers are not supported; write this migration by hand",
        ),
    },
    Case {
        name: "materialized view in new",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE MATERIALIZED VIEW counts AS SELECT count(*) FROM message;"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Refused(
            "cannot plan materialized view counts: materialized views are not supported",
        ),
    },
    Case {
        name: "enum column on a new table",
        old: concat!(base!(), "CREATE TYPE mood AS ENUM ('happy');"),
        new: concat!(
            base!(),
            "CREATE TYPE mood AS ENUM ('happy', 'sad');\nCREATE TABLE feeling (id int PRIMARY KEY, mood mood NOT NULL DEFAULT 'sad', CHECK (mood <> 'happy'));"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "baseline from an empty database",
        old: "",
        new: concat!(
            base!(),
            "CREATE TYPE mood AS ENUM ('happy', 'sad');\n",
            "CREATE SEQUENCE ticket START 7;\n",
            "ALTER TABLE \"user\" ADD COLUMN mood mood DEFAULT 'happy', ADD COLUMN ticket bigint DEFAULT nextval('ticket');\n",
            "CREATE VIEW nick AS SELECT id, mood FROM \"user\" WHERE name = 'Nick';\n",
            "CREATE VIEW nick_ids AS SELECT id FROM nick;\n",
            "COMMENT ON VIEW nick IS 'one user';"
        ),
        rows: "",
        hazards: &[],
        expect: Plans,
    },
];
