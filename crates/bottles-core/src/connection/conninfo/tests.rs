//! Parsing URLs and keyword strings, and the order in which settings fill each other in.

use super::*;

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

#[test]
fn urls_give_users_hosts_ports_databases_and_parameters() {
    let params = parse("postgres://bob:p%40ss%3Aw@db1:5433,[::1],db3:6000/app%20db?sslmode=require&application_name=x").unwrap();
    assert_eq!(params.get("user"), Some("bob"));
    assert_eq!(params.get("password"), Some("p@ss:w"));
    assert_eq!(params.get("host"), Some("db1,::1,db3"));
    assert_eq!(params.get("port"), Some("5433,,6000"));
    assert_eq!(params.get("dbname"), Some("app db"));
    assert_eq!(params.get("sslmode"), Some("require"));
    let socket = parse("postgresql://%2Fvar%2Frun%2Fpostgresql/app").unwrap();
    assert_eq!(socket.get("host"), Some("/var/run/postgresql"));
    assert_eq!(parse("postgres://").unwrap().to_keywords(), "");
}

#[test]
fn keyword_strings_take_quotes_and_escapes() {
    let params = parse("host=h  port = 5432 password='it\\'s a \\\\ secret' dbname=x\\ y").unwrap();
    assert_eq!(params.get("password"), Some("it's a \\ secret"));
    assert_eq!(params.get("dbname"), Some("x y"));
    assert_eq!(params.get("port"), Some("5432"));
    let again = parse(&params.to_keywords()).unwrap();
    assert_eq!(again.get("password"), Some("it's a \\ secret"));
}

#[test]
fn bad_strings_are_named_without_repeating_them() {
    for (input, says) in [
        ("host=h hunter2", "missing \"=\" after \"hunter2\""),
        (
            "password='hunter2",
            "unterminated quoted value for \"password\"",
        ),
        (
            "postgres://u:%zzhunter2@h/d",
            "a bad %-escape in the password",
        ),
        (
            "postgres://[::1/d",
            "an IPv6 address without its closing \"]\"",
        ),
    ] {
        let err = parse(input).unwrap_err().to_string();
        assert!(err.contains(says), "{input}: {err}");
        if !says.contains("hunter2") {
            assert!(!err.contains("hunter2"), "{err}");
        }
    }
}

#[test]
fn the_string_wins_over_the_service_which_wins_over_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let services = dir.path().join("services.conf");
    std::fs::write(
        &services,
        "[other]\nport=1\n[prod]\n# the replica\nhost=svc-host\nport=7000\ndbname=svcdb\n",
    )
    .unwrap();
    let env = env_of(&[
        ("PGSERVICEFILE", services.to_str().unwrap()),
        ("PGHOST", "env-host"),
        ("PGPORT", "5999"),
        ("PGUSER", "env-user"),
        ("PGSSLMODE", "verify-full"),
    ]);
    let mut params = parse("postgres:///given-db?service=prod").unwrap();
    add_defaults(&mut params, &env).unwrap();
    assert_eq!(params.get("dbname"), Some("given-db"));
    assert_eq!(params.get("host"), Some("svc-host"));
    assert_eq!(params.get("port"), Some("7000"));
    assert_eq!(params.get("user"), Some("env-user"));
    assert_eq!(
        params.origin("sslmode"),
        Some(Origin::Environment("PGSSLMODE"))
    );
    assert_eq!(
        params.get("service"),
        None,
        "bottles' own, not tokio-postgres'"
    );

    let mut missing = Params::default();
    let env = env_of(&[
        ("PGSERVICE", "nope"),
        ("PGSERVICEFILE", services.to_str().unwrap()),
        ("PGSYSCONFDIR", "/nonexistent"),
    ]);
    let err = add_defaults(&mut missing, &env).unwrap_err().to_string();
    assert_eq!(err, "definition of service \"nope\" not found");
}

#[test]
fn without_a_host_libpq_uses_the_socket_directory_and_the_process_user() {
    let mut params = Params::default();
    add_defaults(&mut params, &env_of(&[])).unwrap();
    assert_eq!(params.get("host"), Some(default_socket_dir().as_str()));
    assert_eq!(params.origin("host"), Some(Origin::Default));
    assert!(params.get("user").is_some_and(|user| !user.is_empty()));
    let mut by_address = parse("hostaddr=127.0.0.1").unwrap();
    add_defaults(&mut by_address, &env_of(&[])).unwrap();
    assert_eq!(by_address.get("host"), None);
}
