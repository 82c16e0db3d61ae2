//! The OpenAPI 3.1 description of the service, generated from the handlers' `#[utoipa::path]`
//! annotations and the types they take and return ([`ApiDoc`]). Served at `/openapi.json`; the
//! docs page at `/docs` renders it ([`crate::docs`]).
//!
//! The answers built by other crates (`bottles::UserWithMessages`, the generated `Message`)
//! are described here by [`UserSchema`] and [`MessageSchema`]; the API tests check every
//! answer against the schema it is documented with, so the two cannot drift apart unseen.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// The document's fixed parts; the paths come from the handlers (see [`crate::router`]).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "bottles-web",
        description = "The SQLAlchemy notebook's users and messages as JSON over HTTP, on the \
                       bottles library. Every failure is `{\"error\": \"…\"}` in one line.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    components(schemas(ErrorBody, MessageSchema, UserSchema)),
    modifiers(&BearerToken),
    tags(
        (name = "notebook", description = "The notebook's cells as endpoints"),
        (name = "writes", description = "New users and messages; retried safely with an Idempotency-Key"),
        (name = "operations", description = "For load balancers"),
    )
)]
pub struct ApiDoc;

/// The security scheme the POSTs (and, with `--read-token`, the GETs) name.
struct BearerToken;

/// The name of the bearer security scheme in the document.
pub const BEARER: &str = "bearer";

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(
            "A write token (--write-token, BOTTLES_WRITE_TOKENS) for POSTs; a read or write \
             token for GETs once --read-token is given. Without configured tokens, nothing is asked."
                .into(),
        );
        components.add_security_scheme(BEARER, SecurityScheme::Http(http));
    }
}

/// Every failure: one line, never SQL, a stack trace or a password.
#[derive(ToSchema)]
#[schema(as = Error, example = json!({"error": "no user with id 99"}))]
#[allow(dead_code)] // a description, never built
pub struct ErrorBody {
    /// What went wrong, in one line.
    error: String,
}

/// A message (the generated `Message`).
#[derive(ToSchema)]
#[schema(as = Message, example = json!({"id": 2, "content": "98 bottles of beer on the wall...", "user_id": 2}))]
#[allow(dead_code)]
pub struct MessageSchema {
    id: i32,
    content: String,
    /// The user who wrote it.
    user_id: i32,
}

/// A user with every message of theirs, by id (`bottles::UserWithMessages`).
#[derive(ToSchema)]
#[schema(as = User)]
#[allow(dead_code)]
pub struct UserSchema {
    id: i32,
    name: String,
    messages: Vec<MessageSchema>,
}
