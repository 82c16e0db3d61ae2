//! Settings built from strings and a given environment (never the process's own).

use super::*;

fn build(url: &str, vars: &[(&str, &str)]) -> Result<ConnectOptions> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let params = conninfo::parse(url).map_err(|reason| Error::InvalidConfig {
        what: "DATABASE_URL",
        reason,
    })?;
    ConnectOptions::build(params, &env, "DATABASE_URL")
}

#[test]
fn the_target_never_shows_the_password() {
    let url = "postgres://bob:hunter2@db.example:6543/app?sslmode=require";
    let options = build(url, &[]).unwrap();
    assert_eq!(options.target(), "postgres://bob@db.example:6543/app");
    assert!(!format!("{options:?}").contains("hunter2"));
    let other = options.with_dbname("scratch");
    assert_eq!(other.target(), "postgres://bob@db.example:6543/scratch");
    let keywords = build("host=/run/pg user=amy password=x", &[]).unwrap();
    assert_eq!(keywords.target(), "postgres://amy@/run/pg:5432/amy");
}

#[test]
fn a_bad_string_is_named_without_being_repeated() {
    for bad in [
        "postgres://bob:hunter2@h:port/db",
        "not a url hunter2",
        "postgres://h/d?connect_timeout=soon",
    ] {
        let err = build(bad, &[]).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid DATABASE_URL: ") && !err.contains("hunter2"),
            "{err}"
        );
    }
}

#[test]
fn the_environment_fills_what_the_url_leaves_out_and_is_named_when_wrong() {
    let env = [
        ("PGUSER", "amy"),
        ("PGPORT", "6000"),
        ("PGHOST", "env-host"),
        ("PGAPPNAME", "nightly"),
    ];
    let options = build("postgres://db.example/app", &env).unwrap();
    assert_eq!(options.target(), "postgres://amy@db.example:6000/app");
    assert_eq!(options.pg.get_application_name(), Some("nightly"));
    let err = build("postgres://db.example/app", &[("PGPORT", "six")]).unwrap_err();
    assert!(err.to_string().ends_with("(from PGPORT)"), "{err}");
}

#[test]
fn sslmode_verify_modes_need_roots_and_tell_tokio_postgres_require() {
    let dir = tempfile::tempdir().unwrap();
    let missing = build(
        "postgres://h/d?sslmode=verify-full",
        &[("HOME", dir.path().to_str().unwrap())],
    );
    let err = missing.unwrap_err().to_string();
    assert!(
        err.contains("root certificate file")
            && err.contains(".postgresql/root.crt\" does not exist"),
        "{err}"
    );
    let options = build("postgres://h/d?sslmode=verify-ca&sslrootcert=/ca.pem", &[]).unwrap();
    assert_eq!(options.tls.verify, crate::connection::tls::Verify::Chain);
    assert_eq!(
        options.pg.get_ssl_mode(),
        tokio_postgres::config::SslMode::Require
    );
    let weak = build("postgres://h/d?sslmode=require&sslrootcert=system", &[]).unwrap_err();
    assert!(
        weak.to_string()
            .contains("weak sslmode \"require\" may not be used with sslrootcert=system"),
        "{weak}"
    );
    let bad = build("postgres://h/d?sslmode=sometimes", &[]).unwrap_err();
    assert!(
        bad.to_string()
            .contains("invalid sslmode value: \"sometimes\""),
        "{bad}"
    );
}

#[test]
fn the_password_file_answers_only_when_no_password_was_given() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pass");
    std::fs::write(
        &file,
        "db.example:*:app:amy:from-file\nlocalhost:*:*:*:local\n",
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let env = [("PGPASSFILE", file.to_str().unwrap())];
    let options = build("postgres://amy@db.example/app", &env).unwrap();
    assert_eq!(options.file_password("db.example", 5432), Some("from-file"));
    assert_eq!(
        options.file_password(&conninfo::default_socket_dir(), 5432),
        Some("local")
    );
    let given = build("postgres://amy:given@db.example/app", &env).unwrap();
    assert_eq!(given.file_password("db.example", 5432), None);
}
