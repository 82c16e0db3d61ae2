//! `/openapi.json` and the interactive docs page at `/docs`: Swagger UI, vendored from npm's
//! `swagger-ui-dist` (`web/static/swagger-ui/`, with its licence) and embedded in the binary,
//! so the page fetches nothing from the network. Its assets are under `/docs/`, named
//! relatively, so the page also works behind a proxy that adds a path prefix.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use bottles::Database;

/// The page: Swagger UI on `openapi.json`, with nothing sent elsewhere (no validator badge).
const PAGE: &str = r##"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>bottles-web API</title>
  <link rel="stylesheet" href="docs/swagger-ui.css">
  <link rel="icon" type="image/png" href="docs/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: "openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
    });
  </script>
</body>
</html>
"##;

const CSS: &[u8] = include_bytes!("../static/swagger-ui/swagger-ui.css");
const BUNDLE: &[u8] = include_bytes!("../static/swagger-ui/swagger-ui-bundle.js");
const ICON: &[u8] = include_bytes!("../static/swagger-ui/favicon-32x32.png");

/// Assets change only with the binary.
const CACHE: &str = "public, max-age=3600";

/// `/openapi.json` (serialized once) and `/docs` with its assets.
pub fn router(spec: utoipa::openapi::OpenApi) -> Router<Arc<Database>> {
    let json = spec
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    let json: &'static str = Box::leak(json.into_boxed_str());
    let asset = |kind: &'static str, bytes: &'static [u8]| {
        get(move || async move {
            (
                [(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, CACHE)],
                bytes,
            )
        })
    };
    Router::new()
        .route(
            "/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], json) }),
        )
        .route(
            "/docs",
            get(|| async {
                ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
            }),
        )
        .route("/docs/swagger-ui.css", asset("text/css", CSS))
        .route(
            "/docs/swagger-ui-bundle.js",
            asset("text/javascript", BUNDLE),
        )
        .route("/docs/favicon-32x32.png", asset("image/png", ICON))
}
