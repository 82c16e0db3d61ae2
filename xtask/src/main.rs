//! `cargo xtask codegen [--check]`: regenerate `codegen/`, or only check that it is current.
//! `cargo xtask bench [FILTER]`: run the benchmarks against their peers (see bench.rs).

use std::process::ExitCode;

mod bench;

const USAGE: &str = "usage: cargo xtask codegen [--check] | cargo xtask bench [-- CRITERION ARGS]

  codegen          regenerate codegen/ from schema.sql and queries/ (cornucopia, against a
                   throwaway local PostgreSQL)
  codegen --check  generate into a temporary directory and fail if codegen/ differs
  bench            run every benchmark (bench/) and print each ratio against its target;
                   uses DATABASE_URL if set, else a throwaway local PostgreSQL";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("bench") {
        return finish(bench::run(&args[1..]));
    }
    let check = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["codegen"] => false,
        ["codegen", "--check"] => true,
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    finish(run(check))
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

fn run(check: bool) -> Result<String, String> {
    let server = throwaway_pg::LocalServer::start().map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let client = runtime.block_on(async {
        let (client, connection) =
            tokio_postgres::connect(&server.url(), tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        Ok::<_, tokio_postgres::Error>(client)
    });
    let client = client.map_err(|e| format!("connecting to the throwaway server: {e}"))?;
    let committed = xtask::repo_root().join("codegen");
    if !check {
        xtask::generate(&client, &committed)
            .map_err(|e| format!("{:?}", miette::Report::new(e)))?;
        return Ok(format!("regenerated {}", committed.display()));
    }
    let scratch =
        std::env::temp_dir().join(format!("bottles-codegen-check-{}", std::process::id()));
    let result =
        xtask::generate(&client, &scratch).map_err(|e| format!("{:?}", miette::Report::new(e)));
    let differences = result.map(|()| xtask::compare_trees(&scratch, &committed));
    let _ = std::fs::remove_dir_all(&scratch);
    match differences? {
        diffs if diffs.is_empty() => Ok("codegen/ is up to date".into()),
        diffs => Err(format!(
            "codegen/ is stale ({}); run `cargo xtask codegen`",
            diffs.join(", ")
        )),
    }
}
