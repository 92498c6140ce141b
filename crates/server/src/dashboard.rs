//! The web dashboard: a page shell and its scripts and styles, embedded in
//! the binary at build time (no build step, no CDN: the page works with no
//! network). Everything it shows it reads from the API under `/api/v1`,
//! like any other client.
//!
//! | path | serves |
//! |---|---|
//! | `GET /` | a redirect to `/ui/runs` |
//! | `GET /ui/assets/{file}` | one embedded script, style sheet or icon |
//! | `GET /ui`, `GET /ui/{*page}` | the page shell; the script draws the page the path names (`runs`, `runs/{run}`, `engine`, `log`) |
//!
//! The shell and assets hold no data, so they are served without a token:
//! a browser cannot attach a bearer token to a navigation. With a token
//! configured the page asks for it and sends it on every API request.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::api::ApiError;

/// Where the dashboard lives.
pub(crate) const UI_PREFIX: &str = "/ui";

/// One embedded file: its name under `/ui/assets/`, content type, bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

macro_rules! assets {
    ($($name:literal => $type:expr),+ $(,)?) => {
        &[$(Asset {
            name: $name,
            content_type: $type,
            body: include_str!(concat!("../dashboard/", $name)),
        }),+]
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file the page loads.
static ASSETS: &[Asset] = assets! {
    "app.css" => "text/css; charset=utf-8",
    "app.js" => JS,
    "api.js" => JS,
    "ui.js" => JS,
    "dag.js" => JS,
    "events.js" => JS,
    "bead.js" => JS,
    "runs.js" => JS,
    "run.js" => JS,
    "engine.js" => JS,
    "log.js" => JS,
    "icon.svg" => "image/svg+xml",
};

static SHELL: &str = include_str!("../dashboard/index.html");

/// Scripts only from this origin, no inline script, no framing: the page
/// shows what tasks printed, and none of it may run.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The dashboard's routes (merged into the API's router).
pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/runs") }))
        .route("/ui", get(shell))
        .route("/ui/", get(shell))
        .route("/ui/assets/{file}", get(asset))
        .route("/ui/{*page}", get(shell))
}

/// Whether `path` is one of the dashboard's (served without a token).
pub(crate) fn is_public(path: &str) -> bool {
    path == "/"
        || path == UI_PREFIX
        || path
            .strip_prefix(UI_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

async fn shell() -> Response {
    page(SHELL, "text/html; charset=utf-8")
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(asset) => page(asset.body, asset.content_type),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no dashboard asset {file:?}"),
        )
        .into_response(),
    }
}

fn page(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // A new binary's page is picked up at once: browsers revalidate.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_paths_when_checked_then_only_the_dashboard_is_public() {
        assert!(is_public("/"));
        assert!(is_public("/ui"));
        assert!(is_public("/ui/runs/x"));
        assert!(is_public("/ui/assets/app.js"));
        assert!(!is_public("/uix"));
        assert!(!is_public("/api/v1/runs"));
        assert!(!is_public("/metrics"));
        assert!(!is_public("/healthz"));
    }

    #[test]
    fn given_the_shell_when_read_then_every_script_it_names_is_embedded() {
        for line in SHELL.lines() {
            if let Some(start) = line.find("/ui/assets/") {
                let rest = &line[start + "/ui/assets/".len()..];
                let name = &rest[..rest.find('"').unwrap()];
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{name} is not embedded"
                );
            }
        }
    }

    #[test]
    fn given_the_scripts_when_read_then_every_module_they_import_is_embedded() {
        for asset in ASSETS.iter().filter(|a| a.content_type == JS) {
            for line in asset.body.lines().filter(|l| l.starts_with("import ")) {
                let start = line.find("'./").unwrap() + 3;
                let name = &line[start..line[start..].find('\'').unwrap() + start];
                assert!(
                    ASSETS.iter().any(|a| a.name == name),
                    "{} imports {name}, which is not embedded",
                    asset.name
                );
            }
        }
    }
}
