//! `/docs` in a real headless Chromium: the page renders every endpoint from `/openapi.json`
//! with nothing fetched from another origin, and a "Try it out" call on `GET /messages` gets
//! the service's real answer. A screenshot of the page is kept under the target directory
//! (`target/tmp/docs-page.png`), for looking at when this fails.

use std::time::Duration;

use crate::browser::Browser;
use crate::helpers::spawn_app;

/// Sets a React-controlled input the way typing does.
const TYPE_INTO: &str = r#"(selector, text) => {
    const input = document.querySelector(selector);
    const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
    set.call(input, text);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
    return true;
}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_renders_every_endpoint_and_tries_one_for_real() {
    let app = spawn_app().await;
    let mut browser = Browser::start().await;
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("docs-page.png");
    browser.open(&app.url("/docs")).await;
    let rendered = browser
        .wait_for(
            "document.querySelectorAll('.opblock').length === 7",
            Duration::from_secs(30),
        )
        .await;
    browser.screenshot(&shot).await;
    assert!(
        rendered,
        "the page did not render 7 operations; see {}",
        shot.display()
    );
    let operations = browser
        .eval(
            "[...document.querySelectorAll('.opblock-summary')].map(s => \
             s.querySelector('.opblock-summary-method').textContent + ' ' + \
             s.querySelector('.opblock-summary-path').getAttribute('data-path')).sort().join(', ')",
        )
        .await;
    assert_eq!(
        operations,
        "GET /health, GET /messages, GET /stats, GET /users, GET /users/{id}, \
         POST /users, POST /users/{id}/messages"
    );

    // Open GET /messages, "Try it out", fill in user_name, "Execute".
    let block = "#operations-notebook-messages";
    browser
        .eval(&format!(
            "document.querySelector('{block} .opblock-summary-control').click(), true"
        ))
        .await;
    let selector = format!("{block} .try-out__btn");
    assert!(
        browser
            .wait_for(
                &format!("!!document.querySelector('{selector}')"),
                Duration::from_secs(10)
            )
            .await
    );
    browser
        .eval(&format!(
            "document.querySelector('{selector}').click(), true"
        ))
        .await;
    let user_name = format!("{block} tr[data-param-name='user_name'] input");
    assert!(
        browser
            .wait_for(
                &format!("!!document.querySelector(\"{user_name}\")"),
                Duration::from_secs(10)
            )
            .await
    );
    browser
        .eval(&format!("({TYPE_INTO})(\"{user_name}\", 'Eli')"))
        .await;
    browser
        .eval(&format!(
            "document.querySelector('{block} .execute').click(), true"
        ))
        .await;
    let answered = browser
        .wait_for(
            &format!(
                "!!document.querySelector('{block} .live-responses-table tbody .response-col_status')"
            ),
            Duration::from_secs(15),
        )
        .await;
    browser.screenshot(&shot).await;
    assert!(answered, "no answer shown; see {}", shot.display());
    let status = browser
        .eval(&format!(
            "document.querySelector('{block} .live-responses-table tbody .response-col_status').textContent.trim()"
        ))
        .await;
    assert_eq!(status, "200", "see {}", shot.display());
    let body = browser
        .eval(&format!(
            "document.querySelector('{block} .live-responses-table .microlight, {block} .live-responses-table pre').textContent"
        ))
        .await;
    let body: serde_json::Value = serde_json::from_str(body.as_str().unwrap()).unwrap();
    let ids = crate::helpers::ids(&body["messages"]);
    let elis: Vec<i64> = (0..33).map(|i| 2 + 3 * i).collect();
    assert_eq!(ids, elis, "Eli's 33 messages, from the database");

    // Everything the page loaded came from the service itself.
    let origins = browser
        .eval("[...new Set(performance.getEntriesByType('resource').map(r => new URL(r.name).origin))]")
        .await;
    assert_eq!(origins, serde_json::json!([app.address]));
}
