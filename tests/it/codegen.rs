//! Every cornucopia crate of the repository (`codegen/`, `examples/todo/codegen/`) must be
//! exactly what cornucopia generates from its `schema.sql` and `queries/` with the settings in
//! its `cornucopia.toml` today. (`.ci/run` checks the plain CLI the same way.)

use std::path::Path;

use crate::helpers::TestDb;

/// Generates `project`'s crate into a scratch directory and returns the files that differ from
/// the committed one.
async fn stale_files(project: &Path) -> Vec<String> {
    let test = TestDb::empty().await;
    let (client, connection) = tokio_postgres::connect(&test.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let scratch = tempfile::tempdir().unwrap();
    let destination = scratch.path().join("codegen");
    let (generated, project_dir) = (destination.clone(), project.to_path_buf());
    // cornucopia blocks on the client; its connection keeps running on the runtime's workers.
    tokio::task::spawn_blocking(move || xtask::generate_project(&client, &project_dir, &generated))
        .await
        .unwrap()
        .unwrap_or_else(|err| panic!("cornucopia failed: {err}"));
    assert!(
        destination.join("src/bottles.rs").is_file(),
        "something was generated, with the crate root that holds the GenericClient impls"
    );
    let committed = xtask::project_config(project).unwrap().destination;
    assert_eq!(committed, project.join("codegen"));
    xtask::compare_trees(&destination, &committed)
}

#[tokio::test(flavor = "multi_thread")]
async fn codegen_is_what_cornucopia_generates_from_cornucopia_toml() {
    let root = xtask::repo_root();
    let stale = stale_files(&root).await;
    assert!(
        stale.is_empty(),
        "codegen/ is stale in {stale:?}; run `cargo xtask codegen`"
    );
    assert!(root.join("codegen/src/queries/messages.rs").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_codegen_is_what_cornucopia_generates() {
    let project = xtask::repo_root().join("examples/todo");
    let stale = stale_files(&project).await;
    assert!(
        stale.is_empty(),
        "examples/todo/codegen/ is stale in {stale:?}; run `cargo xtask codegen`"
    );
}
