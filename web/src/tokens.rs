//! Bearer tokens: who may write, and (when asked) who may read. A POST needs a write token
//! once any is configured; a GET needs a read or write token once a read token is; `/health`
//! (for load balancers), `/openapi.json` and `/docs` stay open. Tokens are compared as SHA-256
//! digests in constant time, and never appear in a log line, an error or `Debug`.

use std::fmt;
use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ring::digest::{SHA256, digest};
use subtle::ConstantTimeEq;

use crate::errors::ApiError;

/// The tokens the service accepts. Several of each, so one can be rotated: add the new one,
/// move the clients, remove the old.
#[derive(Clone, Default)]
pub struct Tokens {
    write: Vec<[u8; 32]>,
    read: Vec<[u8; 32]>,
}

impl Tokens {
    /// From the tokens given; empty ones are ignored (a trailing comma in a list).
    pub fn new<S: AsRef<str>>(write: &[S], read: &[S]) -> Self {
        let hashed = |tokens: &[S]| {
            let given = tokens.iter().map(AsRef::as_ref).filter(|t| !t.is_empty());
            given.map(hash).collect()
        };
        Self {
            write: hashed(write),
            read: hashed(read),
        }
    }

    /// Whether any write token is configured.
    pub fn guards_writes(&self) -> bool {
        !self.write.is_empty()
    }

    /// Refuses, in one line, to listen beyond loopback while anyone could write.
    pub fn check_listen(
        &self,
        listen: SocketAddr,
        allow_anonymous_writes: bool,
    ) -> Result<(), String> {
        if listen.ip().is_loopback() || self.guards_writes() || allow_anonymous_writes {
            return Ok(());
        }
        Err(format!(
            "refusing to listen on {listen} with no write token: anyone who reaches it could write; \
             give --write-token (or BOTTLES_WRITE_TOKENS), or --allow-anonymous-writes"
        ))
    }

    fn accepts(&self, tokens: &[[u8; 32]], given: &str) -> bool {
        let given = hash(given);
        // Every candidate is compared, so the time does not say which one matched.
        tokens
            .iter()
            .fold(0u8, |found, token| found | token.ct_eq(&given).unwrap_u8())
            == 1
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("write", &self.write.len())
            .field("read", &self.read.len())
            .finish()
    }
}

fn hash(token: &str) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    out
}

/// The middleware: 401 with `WWW-Authenticate` unless the request carries a token it needs.
pub async fn require(State(tokens): State<Tokens>, request: Request, next: Next) -> Response {
    let writes = !matches!(*request.method(), Method::GET | Method::HEAD);
    let needed = if writes {
        tokens.write.clone()
    } else if !tokens.read.is_empty() && !open_to_all(request.uri().path()) {
        [tokens.read.as_slice(), tokens.write.as_slice()].concat()
    } else {
        Vec::new()
    };
    if needed.is_empty() {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(bearer);
    match given {
        Some(token) if tokens.accepts(&needed, token.trim()) => next.run(request).await,
        Some(_) => unauthorized("the bearer token is not valid", Some("invalid_token")),
        None => {
            let what = if writes { "writes" } else { "reads" };
            unauthorized(&format!("{what} need an Authorization: Bearer token"), None)
        }
    }
}

/// The token of `Bearer TOKEN`; the scheme's name is case-insensitive (RFC 9110, 11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

/// What stays open when reads need a token: the health check for load balancers, and the API's
/// description (`/openapi.json`, the docs page), which holds no data.
fn open_to_all(path: &str) -> bool {
    matches!(path, "/health" | "/openapi.json" | "/docs") || path.starts_with("/docs/")
}

fn unauthorized(message: &str, error: Option<&str>) -> Response {
    let challenge = match error {
        Some(error) => format!("Bearer realm=\"bottles-web\", error=\"{error}\""),
        None => "Bearer realm=\"bottles-web\"".to_string(),
    };
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_configured_token_matches_and_nothing_else() {
        let tokens = Tokens::new(&["old-write", "new-write", ""], &["reader"]);
        assert!(tokens.accepts(&tokens.write, "old-write"));
        assert!(tokens.accepts(&tokens.write, "new-write"));
        assert!(!tokens.accepts(&tokens.write, "reader"));
        assert!(!tokens.accepts(&tokens.write, ""));
        assert!(!tokens.accepts(&tokens.write, "new-writ"));
        assert_eq!(tokens.write.len(), 2, "the empty one is ignored");
        assert_eq!(format!("{tokens:?}"), "Tokens { write: 2, read: 1 }");
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_is_not() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER  abc"), Some(" abc"), "trimmed by the caller");
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearerabc"), None);
        let tokens = Tokens::new(&["Abc"], &[] as &[&str]);
        assert!(!tokens.accepts(&tokens.write, "abc"));
    }

    #[test]
    fn only_loopback_may_go_without_a_write_token() {
        let none = Tokens::default();
        let public: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert!(
            none.check_listen("127.0.0.1:0".parse().unwrap(), false)
                .is_ok()
        );
        assert!(
            none.check_listen("[::1]:8080".parse().unwrap(), false)
                .is_ok()
        );
        let refused = none.check_listen(public, false).unwrap_err();
        assert!(refused.starts_with("refusing to listen on 0.0.0.0:8080 with no write token"));
        assert!(none.check_listen(public, true).is_ok());
        assert!(
            Tokens::new(&["t"], &[] as &[&str])
                .check_listen(public, false)
                .is_ok()
        );
    }
}
