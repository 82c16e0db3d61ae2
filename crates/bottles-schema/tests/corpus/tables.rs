//! The corpus, part 1: tables, columns and constraints.

use bottles_schema::Hazard::{
    BuildsIndexOnline as Online, DeletesData as Deletes, FailsWithRows, LocksTable as Locks,
    RewritesTable as Rewrites, ValidatesOnline as Validates,
};

use super::harness::Case;
use super::harness::Expect::{Destructive, Plans};
use super::schemas::ROWS;

pub const CASES: &[Case] = &[
    Case {
        name: "new table",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE TABLE tag (id integer PRIMARY KEY, label text NOT NULL UNIQUE, CHECK (label <> ''));"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "new tables referencing each other",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE TABLE b_side (id int PRIMARY KEY, a_id int);\nCREATE TABLE a_side (id int PRIMARY KEY, b_id int REFERENCES b_side);\nALTER TABLE b_side ADD FOREIGN KEY (a_id) REFERENCES a_side;\nCREATE INDEX a_side_b_id_idx ON a_side (b_id);"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "dropped table",
        old: concat!(
            base!(),
            "CREATE TABLE tag (id integer PRIMARY KEY, message_id int REFERENCES message);"
        ),
        new: base!(),
        rows: "INSERT INTO tag VALUES (1, NULL);",
        hazards: &[Deletes],
        expect: Destructive("dropping table tag deletes data: rerun with --allow-destructive"),
    },
    Case {
        name: "add nullable column",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE message ADD COLUMN edited_at timestamptz;"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "add NOT NULL column with a default",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE \"user\" ADD COLUMN active boolean NOT NULL DEFAULT true;"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        // Planned, since the table may be empty, but flagged in the header: on rows it fails.
        name: "add NOT NULL column without a default, to a table with no rows",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE message ADD COLUMN mood text NOT NULL;"
        ),
        rows: "INSERT INTO \"user\" (name) VALUES ('Nick');",
        hazards: &[FailsWithRows],
        expect: Plans,
    },
    Case {
        name: "add column with a volatile default",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE \"user\" ADD COLUMN joined timestamptz NOT NULL DEFAULT clock_timestamp();"
        ),
        rows: ROWS,
        hazards: &[Rewrites, Locks],
        expect: Plans,
    },
    Case {
        name: "set NOT NULL on an existing column",
        old: bare!(),
        new: concat!(
            user!(),
            "CREATE TABLE message (id integer NOT NULL, content text NOT NULL, user_id integer);"
        ),
        rows: ROWS,
        hazards: &[Validates],
        expect: Plans,
    },
    Case {
        name: "drop NOT NULL",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE message ALTER COLUMN content DROP NOT NULL;"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "column type change",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE message ALTER COLUMN user_id TYPE bigint;"
        ),
        rows: ROWS,
        hazards: &[Rewrites, Locks],
        expect: Plans,
    },
    Case {
        name: "collation change",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE \"user\" ALTER COLUMN name TYPE text COLLATE \"C\";"
        ),
        rows: ROWS,
        hazards: &[Rewrites, Locks],
        expect: Plans,
    },
    Case {
        name: "type change of a column with a default",
        old: concat!(
            base!(),
            "ALTER TABLE message ADD COLUMN likes smallint NOT NULL DEFAULT 0;"
        ),
        new: concat!(
            base!(),
            "ALTER TABLE message ADD COLUMN likes bigint NOT NULL DEFAULT 0;"
        ),
        rows: ROWS,
        hazards: &[Rewrites, Locks],
        expect: Plans,
    },
    Case {
        name: "default added",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE \"user\" ALTER COLUMN name SET DEFAULT 'anonymous';"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "default changed",
        old: concat!(
            base!(),
            "ALTER TABLE \"user\" ALTER COLUMN name SET DEFAULT 'anonymous';"
        ),
        new: concat!(
            base!(),
            "ALTER TABLE \"user\" ALTER COLUMN name SET DEFAULT 'nobody';"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "default dropped",
        old: concat!(
            base!(),
            "ALTER TABLE \"user\" ALTER COLUMN name SET DEFAULT 'anonymous';"
        ),
        new: base!(),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "identity column added",
        old: concat!(base!(), "CREATE TABLE event (note text);"),
        new: concat!(
            base!(),
            "CREATE TABLE event (note text, id bigint GENERATED ALWAYS AS IDENTITY);"
        ),
        rows: "INSERT INTO event VALUES ('a'), ('b');",
        hazards: &[Rewrites, Locks],
        expect: Plans,
    },
    Case {
        name: "existing column becomes identity",
        old: concat!(
            base!(),
            "CREATE TABLE counter (n integer NOT NULL DEFAULT 0);"
        ),
        new: concat!(
            base!(),
            "CREATE TABLE counter (n integer GENERATED BY DEFAULT AS IDENTITY);"
        ),
        rows: "INSERT INTO counter VALUES (1), (2), (3);",
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "generated column",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE message ADD COLUMN length integer GENERATED ALWAYS AS (length(content)) STORED;"
        ),
        rows: ROWS,
        hazards: &[Rewrites, Locks],
        expect: Plans,
    },
    Case {
        name: "generation expression changed",
        old: concat!(
            base!(),
            "ALTER TABLE message ADD COLUMN length integer GENERATED ALWAYS AS (length(content)) STORED;"
        ),
        new: concat!(
            base!(),
            "ALTER TABLE message ADD COLUMN length integer GENERATED ALWAYS AS (octet_length(content)) STORED;"
        ),
        rows: ROWS,
        hazards: &[Rewrites, Locks],
        expect: Plans,
    },
    Case {
        name: "primary key on a new table",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE TABLE follow (follower int NOT NULL, followed int NOT NULL, PRIMARY KEY (follower, followed));"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "primary key added to an existing table",
        old: bare!(),
        new: concat!(
            user!(),
            "CREATE TABLE message (id integer PRIMARY KEY, content text, user_id integer);"
        ),
        rows: ROWS,
        hazards: &[Online],
        expect: Plans,
    },
    Case {
        name: "unique constraint added",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE \"user\" ADD CONSTRAINT user_name_key UNIQUE (name);"
        ),
        rows: ROWS,
        hazards: &[Online],
        expect: Plans,
    },
    Case {
        name: "check constraint added",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE message ADD CONSTRAINT message_content_check CHECK (length(content) > 0);"
        ),
        rows: ROWS,
        hazards: &[Validates],
        expect: Plans,
    },
    Case {
        name: "foreign key added",
        old: bare!(),
        new: concat!(
            bare!(),
            "ALTER TABLE message ADD CONSTRAINT message_author_fkey FOREIGN KEY (user_id) REFERENCES \"user\" (id) ON DELETE CASCADE;"
        ),
        rows: ROWS,
        hazards: &[Validates],
        expect: Plans,
    },
    Case {
        name: "foreign key action changed",
        old: base!(),
        new: concat!(
            base!(),
            "ALTER TABLE message DROP CONSTRAINT message_user_id_fkey, ADD CONSTRAINT message_user_id_fkey FOREIGN KEY (user_id) REFERENCES \"user\" (id) ON DELETE RESTRICT ON UPDATE CASCADE;"
        ),
        rows: ROWS,
        hazards: &[Validates],
        expect: Plans,
    },
    Case {
        name: "NOT VALID foreign key validated",
        old: concat!(
            bare!(),
            "ALTER TABLE message ADD CONSTRAINT message_user_id_fkey FOREIGN KEY (user_id) REFERENCES \"user\" (id) NOT VALID;"
        ),
        new: concat!(
            bare!(),
            "ALTER TABLE message ADD CONSTRAINT message_user_id_fkey FOREIGN KEY (user_id) REFERENCES \"user\" (id);"
        ),
        rows: ROWS,
        hazards: &[Validates],
        expect: Plans,
    },
    Case {
        name: "constraint dropped",
        old: concat!(
            base!(),
            "ALTER TABLE message ADD CONSTRAINT message_content_check CHECK (length(content) > 0);"
        ),
        new: base!(),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "dropped column",
        old: concat!(base!(), "ALTER TABLE \"user\" ADD COLUMN email text;"),
        new: base!(),
        rows: ROWS,
        hazards: &[Deletes],
        expect: Destructive("dropping column \"user\".email deletes data"),
    },
    Case {
        name: "renamed column",
        old: base!(),
        new: concat!(
            user!(),
            "CREATE TABLE message (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, body text, user_id integer NOT NULL REFERENCES \"user\" (id) ON DELETE CASCADE);\nCREATE INDEX message_user_id_idx ON message (user_id, id);"
        ),
        rows: ROWS,
        hazards: &[Deletes],
        expect: Destructive(
            "dropping column message.content deletes data: rerun with --allow-destructive if \
             that is meant; if it is a rename (column message.body is added), write it by hand \
             instead: a rename reads as a drop and an add (README: Renames)",
        ),
    },
    Case {
        name: "renamed table",
        old: concat!(base!(), "CREATE TABLE tag (id int);"),
        new: concat!(base!(), "CREATE TABLE label (id int);"),
        rows: ROWS,
        hazards: &[Deletes],
        expect: Destructive(
            "dropping table tag deletes data: rerun with --allow-destructive if that is meant; if it is a rename (table label is added)",
        ),
    },
    Case {
        name: "quoted names",
        old: base!(),
        new: concat!(
            base!(),
            "CREATE TABLE \"Order\" (\"select\" int PRIMARY KEY, \"Total Price\" numeric(10,2) DEFAULT 0);\nCREATE INDEX \"Order Price\" ON \"Order\" (\"Total Price\");\nALTER TABLE \"user\" ADD COLUMN \"group\" text;\nCOMMENT ON COLUMN \"Order\".\"select\" IS 'a keyword';"
        ),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
    Case {
        name: "nothing changes",
        old: base!(),
        new: base!(),
        rows: ROWS,
        hazards: &[],
        expect: Plans,
    },
];
