//! `cargo xtask codegen [--check] [--cli]`: regenerate every cornucopia crate (`codegen/`,
//! `examples/todo/codegen/`), or only check that each is current.
//! `cargo xtask bench [FILTER]`: run the benchmarks against their peers (see bench.rs).
//! `cargo xtask modules`: fail on a module cycle in any crate (see modules.rs).

use std::path::Path;
use std::process::{Command, ExitCode};

mod bench;
mod modules;

const USAGE: &str =
    "usage: cargo xtask codegen [--check] [--cli] | cargo xtask bench [-- CRITERION ARGS]
       | cargo xtask migrations new NAME [--allow-destructive] | snapshot | --check
       | cargo xtask modules [DIR]

  codegen          regenerate codegen/ from schema.sql and queries/ with the settings in
                   cornucopia.toml (cornucopia as a library, against a throwaway PostgreSQL),
                   and examples/todo/codegen/ the same way from examples/todo/
  codegen --check  generate into a temporary directory and fail if a crate differs
  codegen --cli    the same with the plain `cornucopia` CLI (cargo install cornucopia
                   --version 1.0.1 --locked), run as its docs say: `cornucopia fresh schema.sql`
  bench            run every benchmark (bench/) and print each ratio against its target;
                   uses DATABASE_URL if set, else a throwaway local PostgreSQL
  migrations new NAME
                   plan the DDL from what migrations/ produce to what schema.sql produces
                   (both applied to scratch databases on a throwaway PostgreSQL) and write it
                   as the next migrations/NNNN_NAME.sql; destructive steps need
                   --allow-destructive
  migrations snapshot
                   rewrite migrations/schema.json and versions.json once migrations/ produce
                   schema.sql's schema (after a migration written by hand)
  migrations --check
                   fail unless migrations/ replayed give exactly schema.sql's schema and the
                   snapshots are current (cargo xtask migrations --help for more)
  modules          fail if a crate of the workspace (at DIR, default this one) has a module
                   cycle: modules that refer to each other by crate::, super::, self:: paths";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bench") {
        return finish(bench::run(&args[1..]));
    }
    if args.first().map(String::as_str) == Some("migrations") {
        return match xtask::migrations::run(&args[1..]) {
            Err(xtask::migrations::Failure::Usage(usage)) => {
                eprintln!("{usage}");
                ExitCode::from(2)
            }
            Err(xtask::migrations::Failure::Failed(message)) => finish(Err(message)),
            Ok(message) => finish(Ok(message)),
        };
    }
    if args.first().map(String::as_str) == Some("modules") && args.len() <= 2 {
        return modules::run(&args[1..]);
    }
    let flags: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let known = flags
        .iter()
        .all(|flag| matches!(*flag, "--check" | "--cli"));
    match args.first().map(String::as_str) {
        Some("codegen") if known => finish(codegen(
            flags.contains(&"--check"),
            flags.contains(&"--cli"),
        )),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn finish(outcome: Result<String, String>) -> ExitCode {
    match outcome {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn codegen(check: bool, cli: bool) -> Result<String, String> {
    let server = throwaway_pg::LocalServer::start().map_err(|e| e.to_string())?;
    let mut done = Vec::new();
    for (index, project) in xtask::projects().iter().enumerate() {
        // Each project's schema goes into an empty database of its own.
        let database = format!("codegen_{index}");
        server
            .sql(&format!("CREATE DATABASE {database}"))
            .map_err(|e| e.to_string())?;
        done.push(codegen_project(&server, &database, project, check, cli)?);
    }
    Ok(done.join("\n"))
}

fn codegen_project(
    server: &throwaway_pg::LocalServer,
    database: &str,
    project: &Path,
    check: bool,
    cli: bool,
) -> Result<String, String> {
    let committed = xtask::project_config(project)?.destination;
    let shown = committed
        .strip_prefix(xtask::repo_root())
        .unwrap_or(&committed)
        .display()
        .to_string();
    let scratch = tempfile_dir()?;
    let destination = if check {
        scratch.clone()
    } else {
        committed.clone()
    };
    let generated = if cli {
        // `cornucopia fresh` makes a temporary database of its own on the server it is given.
        let server_url = format!(
            "postgres://{}@127.0.0.1:{}",
            throwaway_pg::SUPERUSER,
            server.port()
        );
        with_cli(&server_url, project, &destination)
    } else {
        with_library(&server.url_for(database), project, &destination)
    };
    let differences = generated.map(|()| xtask::compare_trees(&scratch, &committed));
    let _ = std::fs::remove_dir_all(&scratch);
    let how = if cli {
        "the cornucopia CLI"
    } else {
        "cornucopia"
    };
    match differences? {
        _ if !check => Ok(format!("regenerated {shown}/ with {how}")),
        diffs if diffs.is_empty() => Ok(format!("{shown}/ is what {how} generates")),
        diffs => Err(format!(
            "{shown}/ differs from what {how} generates ({}); run `cargo xtask codegen`",
            diffs.join(", ")
        )),
    }
}

/// A directory path to generate into for `--check`; not created (the CLI asks before
/// replacing an existing directory that holds no Cargo.toml).
fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("bottles-codegen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(dir)
}

fn with_library(url: &str, project: &Path, destination: &Path) -> Result<(), String> {
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let client = runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        Ok::<_, tokio_postgres::Error>(client)
    });
    let client = client.map_err(|e| format!("connecting to the throwaway server: {e}"))?;
    xtask::generate_project(&client, project, destination)
}

/// `cornucopia fresh schema.sql --url <server> -d <destination>`, from the project's directory
/// so the CLI finds cornucopia.toml and queries/ as a user's run would.
fn with_cli(url: &str, project: &Path, destination: &Path) -> Result<(), String> {
    let output = Command::new("cornucopia")
        .current_dir(project)
        .args(["fresh", "schema.sql", "--url", url, "--destination"])
        .arg(destination)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|err| {
            format!("could not run `cornucopia` ({err}); install it with `cargo install cornucopia --version 1.0.1 --locked`")
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "cornucopia failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}
