//! What the catalog does not model (triggers, functions, policies, other schemas, …): named,
//! compared by definition, refused by the planner, reported as drift.

use bottles_schema::{Catalog, PlanError, PlanOptions, catalog, differences, plan};

use crate::BASE;
use crate::harness::database;

#[tokio::test]
async fn unsupported_objects_are_named_and_refused() {
    let (_db, client) = database(&format!(
        "{BASE}
        CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE TRIGGER message_audit AFTER INSERT ON message FOR EACH ROW EXECUTE FUNCTION audit();
        CREATE PROCEDURE tidy() LANGUAGE sql AS 'SELECT 1';
        CREATE MATERIALIZED VIEW counts AS SELECT count(*) FROM message;
        CREATE DOMAIN positive AS integer CHECK (VALUE > 0);
        CREATE TYPE pair AS (a int, b int);
        CREATE TABLE measurement (at date NOT NULL) PARTITION BY RANGE (at);
        CREATE TABLE measurement_2024 PARTITION OF measurement FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
        CREATE UNLOGGED TABLE scratch (x int);
        ALTER TABLE message ENABLE ROW LEVEL SECURITY;
        CREATE POLICY mine ON message USING (user_id = 1);
        CREATE RULE no_delete AS ON DELETE TO \"user\" DO INSTEAD NOTHING;
        CREATE TABLE bottles_migrations (version integer PRIMARY KEY);"
    ))
    .await;
    let catalog = catalog::read(&client).await.unwrap();
    let names: Vec<&str> = catalog
        .unsupported
        .iter()
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "composite type pair",
            "domain positive",
            "function audit()",
            "materialized view counts",
            "partition measurement_2024",
            "partitioned table measurement",
            "policy mine on message",
            "procedure tidy()",
            "row level security on message",
            "rule no_delete on \"user\"",
            "trigger message_audit on message",
            "unlogged table scratch",
        ]
    );
    let names: Vec<&str> = catalog.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["message", "user"],
        "the history table is the tool's own"
    );
    let refusal = plan(&Catalog::default(), &catalog, &PlanOptions::default()).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "cannot plan composite type pair: composite types are not supported; write this migration by hand"
    );
    assert!(matches!(refusal, PlanError::Unsupported(_)));
}

const AUDITED: &str = "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RETURN NEW;
END $$;
CREATE TRIGGER message_audit AFTER INSERT ON message FOR EACH ROW EXECUTE FUNCTION audit();
ALTER TABLE message ENABLE ROW LEVEL SECURITY;
CREATE POLICY mine ON message USING (user_id = 1);";

fn lines(expected: &Catalog, actual: &Catalog) -> Vec<String> {
    differences(expected, actual)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[tokio::test]
async fn a_changed_function_body_trigger_or_policy_is_a_difference_and_refused() {
    let changed = AUDITED
        .replace("RETURN NEW;", "RETURN NULL;")
        .replace("AFTER INSERT ON", "AFTER INSERT OR UPDATE ON")
        .replace("user_id = 1", "user_id = 2");
    let (before, after) = (format!("{BASE}\n{AUDITED}"), format!("{BASE}\n{changed}"));
    let ((_a, a), (_b, b)) = tokio::join!(database(&before), database(&after));
    let (old, new) = (
        catalog::read(&a).await.unwrap(),
        catalog::read(&b).await.unwrap(),
    );
    assert_eq!(
        lines(&old, &new),
        [
            "function audit(): definition differs at line 6: expected 'RETURN NEW;', found 'RETURN NULL;'",
            "policy mine on message: definition differs at line 1: expected '…C USING ((user_id = 1))', \
             found '…C USING ((user_id = 2))'",
            "trigger message_audit on message: definition differs at line 1: expected '…audit AFTER \
             INSERT ON public.message FOR EACH ROW EXECUTE FU…', found '…audit AFTER INSERT OR \
             UPDATE ON public.message FOR EACH ROW …'",
        ]
    );
    let refusal = plan(&old, &new, &PlanOptions::default()).unwrap_err();
    assert_eq!(
        refusal,
        PlanError::UnsupportedChange("policy mine on message".into())
    );
    assert_eq!(
        refusal.to_string(),
        "cannot plan policy mine on message: its definition changes, and row level security \
         policies are not supported; write this migration by hand"
    );
    let trigger = old.unsupported("trigger message_audit on message").unwrap();
    assert_eq!(trigger.table.as_deref(), Some("message"));
    // Unchanged, they are no difference and plan nothing.
    assert!(
        plan(&old, &old, &PlanOptions::default())
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn objects_outside_public_are_named_refused_and_seen_to_change() {
    let audit = "CREATE SCHEMA audit;
        CREATE TABLE audit.event (id integer PRIMARY KEY, at timestamptz NOT NULL DEFAULT now());
        CREATE FUNCTION audit.note() RETURNS int LANGUAGE sql AS 'SELECT 1';";
    let audited = format!("{BASE}\n{audit}");
    let ((_a, a), (_b, b)) = tokio::join!(database(BASE), database(&audited));
    let (plain, with_audit) = (
        catalog::read(&a).await.unwrap(),
        catalog::read(&b).await.unwrap(),
    );
    let schema = with_audit.unsupported("schema audit").expect("named");
    for part in [
        "TABLE event",
        "at timestamp with time zone NOT NULL DEFAULT now()",
        "CONSTRAINT event_pkey PRIMARY KEY (id)",
        "FUNCTION audit.note()",
    ] {
        assert!(
            schema.definition.contains(part),
            "{part} in {}",
            schema.definition
        );
    }
    assert_eq!(
        lines(&plain, &with_audit),
        ["schema audit: not expected (added by hand?)"]
    );
    assert_eq!(lines(&with_audit, &plain), ["schema audit: missing"]);
    let refusal = plan(&plain, &with_audit, &PlanOptions::default()).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "cannot plan schema audit: objects outside the public schema are not supported; write \
         this migration by hand"
    );
    b.batch_execute("ALTER TABLE audit.event ADD COLUMN note text")
        .await
        .unwrap();
    let grown = catalog::read(&b).await.unwrap();
    let found = lines(&with_audit, &grown);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("schema audit: definition differs at line "),
        "{found:?}"
    );
    assert!(found[0].contains("'note text'"), "{found:?}");
}
