//! `codegen/` must be exactly what cornucopia generates from `schema.sql` and `queries/` with
//! the settings in `cornucopia.toml` today. (`.ci/run` checks the plain CLI the same way.)

use crate::helpers::TestDb;

#[tokio::test(flavor = "multi_thread")]
async fn codegen_is_what_cornucopia_generates_from_cornucopia_toml() {
    let test = TestDb::empty().await;
    let (client, connection) = tokio_postgres::connect(&test.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let scratch = tempfile::tempdir().unwrap();
    let destination = scratch.path().join("codegen");
    let generated = destination.clone();
    // cornucopia blocks on the client; its connection keeps running on the runtime's workers.
    tokio::task::spawn_blocking(move || xtask::generate(&client, &generated))
        .await
        .unwrap()
        .unwrap_or_else(|err| panic!("cornucopia failed: {err}"));

    let committed = xtask::config().unwrap().destination;
    assert_eq!(committed, xtask::repo_root().join("codegen"));
    let stale = xtask::compare_trees(&destination, &committed);
    assert!(
        stale.is_empty(),
        "codegen/ is stale in {stale:?}; run `cargo xtask codegen`"
    );
    assert!(
        destination.join("src/queries/messages.rs").is_file(),
        "something was generated"
    );
}
