//! Connecting the way psql does, against a server of this module's own: SCRAM passwords, and
//! TLS with a certificate a test CA issued for `localhost` only. The PG* variables, PGPASSWORD,
//! the password file, `verify-ca`/`verify-full` against the test CA (and a second CA), and a
//! role that signs in with a client certificate.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

use bottles::Database;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use throwaway_pg::{LocalServer, Options};

use crate::helpers::{assert_one_line_error, bottles_command, stderr, stdout};

/// alice's password: the `:` and `\` exercise the password file's escapes.
const PASSWORD: &str = r"s3cr:et\pw";

struct Fixture {
    server: LocalServer,
    /// ca.pem, other-ca.pem, client.crt, client.key
    files: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ca = issuer("bottles test CA");
        let other_ca = issuer("some other CA");
        let server_key = KeyPair::generate().unwrap();
        let server_cert = CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&server_key, &ca)
            .unwrap();
        let client_key = KeyPair::generate().unwrap();
        let mut client_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        client_params
            .distinguished_name
            .push(DnType::CommonName, "certuser");
        let client_cert = client_params.signed_by(&client_key, &ca).unwrap();

        let options = Options::default()
            .file("server.crt", server_cert.pem())
            .file("server.key", server_key.serialize_pem())
            .file("ca.pem", ca.pem())
            .setting("ssl", "on")
            .setting("ssl_cert_file", "server.crt")
            .setting("ssl_key_file", "server.key")
            .setting("ssl_ca_file", "ca.pem")
            .hba_rule("hostssl all certuser 127.0.0.1/32 cert")
            .hba_rule("host all alice 127.0.0.1/32 scram-sha-256");
        let server = LocalServer::start_with(&options).expect("a TLS server");
        let roles = format!(
            "CREATE ROLE alice LOGIN CREATEDB PASSWORD '{PASSWORD}'; CREATE ROLE certuser LOGIN"
        );
        server.sql(&roles).expect("create the roles");
        // Apart: CREATE DATABASE cannot run in the same transaction as other statements.
        server
            .sql("CREATE DATABASE certdb OWNER certuser")
            .expect("create certdb");

        let files = tempfile::tempdir().unwrap();
        for (name, contents) in [
            ("ca.pem", ca.pem()),
            ("other-ca.pem", other_ca.pem()),
            ("client.crt", client_cert.pem()),
            ("client.key", client_key.serialize_pem()),
        ] {
            let path = files.path().join(name);
            std::fs::write(&path, contents).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        Fixture { server, files }
    })
}

fn issuer(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn file(name: &str) -> PathBuf {
    fixture().files.path().join(name)
}

fn port() -> u16 {
    fixture().server.port()
}

/// A database of this test's own, owned by alice.
fn alices_database() -> String {
    let name = format!("alice_{:016x}", rand::random::<u64>());
    let create = format!("CREATE DATABASE {name} OWNER alice");
    fixture()
        .server
        .sql(&create)
        .expect("create alice's database");
    name
}

/// `bottles ARGS` with `DATABASE_URL` (or none) and these variables set.
fn bottles_with(url: Option<&str>, vars: &[(&str, &str)], args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut command = bottles_command(url, args, home.path());
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().expect("run bottles")
}

fn assert_succeeds(output: &Output, what: &str) {
    assert!(output.status.success(), "{what}: {}", stderr(output));
    assert!(
        !stderr(output).contains("throwaway"),
        "{what}: {}",
        stderr(output)
    );
}

fn assert_fails_saying(output: &Output, says: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    let err = stderr(output);
    let last = err.lines().last().unwrap_or_default();
    assert_one_line_error(last, "the error line");
    assert!(last.contains(says), "expected {says:?} in:\n{err}");
    assert!(
        !err.contains(PASSWORD) && !stdout(output).contains(PASSWORD),
        "{err}"
    );
}

#[test]
fn the_pg_variables_alone_reach_the_server_and_no_throwaway_one_starts() {
    let db = alices_database();
    let port = port().to_string();
    let vars = [
        ("PGHOST", "127.0.0.1"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "alice"),
        ("PGPASSWORD", PASSWORD),
        ("PGDATABASE", db.as_str()),
    ];
    let output = bottles_with(None, &vars, &[]);
    assert_succeeds(&output, "PG* variables");
    assert!(stdout(&output).contains("messages from user 'Eli' (Message.afrom_user): 33"));

    // PGHOSTADDR instead of PGHOST: the address alone.
    let vars = [
        ("PGHOSTADDR", "127.0.0.1"),
        ("PGPORT", port.as_str()),
        ("PGUSER", "alice"),
        ("PGPASSWORD", PASSWORD),
        ("PGDATABASE", db.as_str()),
    ];
    assert_succeeds(&bottles_with(None, &vars, &["query"]), "PGHOSTADDR");

    // PGHOST as a socket directory: the server's own, where postgres signs in by trust.
    let socket_dir = fixture().server.root().to_str().unwrap().to_string();
    let vars = [
        ("PGHOST", socket_dir.as_str()),
        ("PGPORT", port.as_str()),
        ("PGUSER", "postgres"),
        ("PGDATABASE", db.as_str()),
    ];
    let output = bottles_with(None, &vars, &["query", "--user", "Paul"]);
    assert_succeeds(&output, "a socket directory in PGHOST");
    assert!(stdout(&output).contains("messages from user 'Paul' (Message.afrom_user): 33"));
}

#[test]
fn pgpassword_completes_a_url_without_a_password_and_a_wrong_one_is_refused_unshown() {
    let url = format!(
        "postgres://alice@127.0.0.1:{}/{}",
        port(),
        alices_database()
    );
    assert_succeeds(
        &bottles_with(Some(&url), &[("PGPASSWORD", PASSWORD)], &["reset"]),
        "PGPASSWORD",
    );
    let wrong = bottles_with(Some(&url), &[("PGPASSWORD", "not-it-0x")], &["reset"]);
    assert_fails_saying(&wrong, "password authentication failed for user \"alice\"");
    assert!(!stderr(&wrong).contains("not-it-0x"));
    let none = bottles_with(Some(&url), &[], &["reset"]);
    assert_fails_saying(&none, "the server asks for a password and none was given");
}

#[test]
fn the_password_file_matches_with_wildcards_and_escapes_unless_others_may_read_it() {
    let db = alices_database();
    let url = format!("postgres://alice@127.0.0.1:{}/{db}", port());
    let home = tempfile::tempdir().unwrap();
    let passfile = home.path().join("pgpass");
    let escaped = PASSWORD.replace('\\', "\\\\").replace(':', "\\:");
    std::fs::write(
        &passfile,
        format!(
            "# earlier lines win, so the first must not match\n\
             127.0.0.1:{port}:other_db:alice:wrong\n\
             *:{port}:{db}:*:{escaped}\n\
             *:*:*:*:also-wrong\n",
            port = port()
        ),
    )
    .unwrap();
    let vars = [("PGPASSFILE", passfile.to_str().unwrap())];
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_succeeds(&bottles_with(Some(&url), &vars, &["reset"]), "a .pgpass");

    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o644)).unwrap();
    let ignored = bottles_with(Some(&url), &vars, &["reset"]);
    assert_fails_saying(
        &ignored,
        "the server asks for a password and none was given",
    );
    assert!(
        stderr(&ignored)
            .contains("has group or world access; permissions should be u=rw (0600) or less"),
        "{}",
        stderr(&ignored)
    );
}

fn tls_url(host: &str, mode: &str, root: &str) -> String {
    let root = file(root);
    format!(
        "postgres://alice@{host}:{}/{}?sslmode={mode}&sslrootcert={}",
        port(),
        alices_database(),
        root.display()
    )
}

#[tokio::test]
async fn verify_full_accepts_the_certificate_for_localhost_and_encrypts() {
    let url = tls_url("localhost", "verify-full", "ca.pem");
    let output = bottles_with(Some(&url), &[("PGPASSWORD", PASSWORD)], &["--echo"]);
    assert_succeeds(&output, "verify-full for localhost");
    assert!(!stderr(&output).contains(PASSWORD));

    let db = Database::open(Some(&format!("{url}&password={}", urlencode(PASSWORD))))
        .await
        .unwrap();
    let client = db.client().await.unwrap();
    let ssl = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .unwrap();
    assert!(ssl.get::<_, bool>(0));
    assert!(!format!("{db:?}").contains(PASSWORD));
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[test]
fn verify_full_refuses_another_name_and_another_ca_in_one_line() {
    let password = [("PGPASSWORD", PASSWORD)];
    let by_address = bottles_with(
        Some(&tls_url("127.0.0.1", "verify-full", "ca.pem")),
        &password,
        &["reset"],
    );
    assert_fails_saying(
        &by_address,
        "the server's certificate is not for \"127.0.0.1\" (sslmode=verify-full checks the host name)",
    );
    let other_ca = bottles_with(
        Some(&tls_url("localhost", "verify-full", "other-ca.pem")),
        &password,
        &["reset"],
    );
    assert_fails_saying(
        &other_ca,
        "the server's certificate is not signed by a CA in sslrootcert",
    );
}

#[test]
fn verify_ca_checks_the_chain_but_not_the_name() {
    let password = [("PGPASSWORD", PASSWORD)];
    let output = bottles_with(
        Some(&tls_url("127.0.0.1", "verify-ca", "ca.pem")),
        &password,
        &["reset"],
    );
    assert_succeeds(&output, "verify-ca by address");
    let other_ca = bottles_with(
        Some(&tls_url("127.0.0.1", "verify-ca", "other-ca.pem")),
        &password,
        &["reset"],
    );
    assert_fails_saying(&other_ca, "not signed by a CA in sslrootcert");
    // As in libpq, require with a root certificate checks the chain too.
    let required = bottles_with(
        Some(&tls_url("127.0.0.1", "require", "other-ca.pem")),
        &password,
        &["reset"],
    );
    assert_fails_saying(&required, "not signed by a CA in sslrootcert");
}

#[test]
fn a_role_that_signs_in_with_a_certificate_needs_one() {
    let base = format!(
        "postgres://certuser@127.0.0.1:{}/certdb?sslmode=verify-ca&sslrootcert={}",
        port(),
        file("ca.pem").display()
    );
    let with_cert = format!(
        "{base}&sslcert={}&sslkey={}",
        file("client.crt").display(),
        file("client.key").display()
    );
    assert_succeeds(
        &bottles_with(Some(&with_cert), &[], &["reset"]),
        "a client certificate",
    );
    let without = bottles_with(Some(&base), &[], &["reset"]);
    assert_fails_saying(&without, "connection requires a valid client certificate");

    let open_key = tempfile::tempdir().unwrap();
    let key = open_key.path().join("client.key");
    std::fs::copy(file("client.key"), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let exposed = format!(
        "{base}&sslcert={}&sslkey={}",
        file("client.crt").display(),
        key.display()
    );
    assert_fails_saying(
        &bottles_with(Some(&exposed), &[], &["reset"]),
        "has group or world access; permissions should be u=rw (0600) or less",
    );
}

#[test]
fn a_password_on_the_command_line_is_warned_about_and_never_printed() {
    let url = format!(
        "postgres://alice:{}@127.0.0.1:{}/{}",
        urlencode(PASSWORD),
        port(),
        alices_database()
    );
    let output = bottles_with(None, &[], &["--database-url", &url, "--echo", "reset"]);
    assert_succeeds(&output, "--database-url with a password");
    let err = stderr(&output);
    assert!(
        err.lines().next().unwrap_or_default().starts_with(
            "warning: a password in --database-url is visible to other users of this machine"
        ),
        "{err}"
    );
    assert!(
        !err.contains(PASSWORD) && !err.contains(&urlencode(PASSWORD)),
        "{err}"
    );
    let from_env = bottles_with(Some(&url), &[], &["reset"]);
    assert_eq!(stderr(&from_env), "", "no warning for DATABASE_URL");
    let replica = bottles_with(Some(&url), &[], &["--replica-url", &url, "query"]);
    assert_succeeds(&replica, "--replica-url with a password");
    let err = stderr(&replica);
    assert!(
        err.starts_with("warning: a password in --replica-url is visible"),
        "{err}"
    );
    assert!(!err.contains(PASSWORD), "{err}");
}

#[test]
fn missing_or_unreadable_certificate_files_are_named() {
    let missing = bottles_with(
        Some(&tls_url("localhost", "verify-full", "nope.pem")),
        &[],
        &["reset"],
    );
    assert_fails_saying(&missing, "could not read root certificate file");
    let home = tempfile::tempdir().unwrap();
    let url = format!(
        "postgres://alice@localhost:{}/x?sslmode=verify-full",
        port()
    );
    let no_default = bottles_with(
        Some(&url),
        &[("HOME", home.path().to_str().unwrap())],
        &["reset"],
    );
    assert_fails_saying(&no_default, ".postgresql/root.crt\" does not exist");
    assert!(Path::new(&file("ca.pem")).is_file());
}
