//! Cross-site requests: a page on another site can make a browser send a
//! form POST to the loopback address this engine listens on. A request that
//! changes anything is refused when the browser says it came from another
//! origin (`Sec-Fetch-Site`, else `Origin` against `Host`). Clients that are
//! not browsers send neither header and are not affected.

use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;

/// Refuse an unsafe-method request from another origin with 403 `cross_origin`.
pub(crate) async fn same_origin(request: Request, next: Next) -> Response {
    if !request.method().is_safe() && cross_site(request.headers()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "a request from another site's page may not change this engine",
        )
        .into_response();
    }
    next.run(request).await
}

/// Whether a browser sent this request on behalf of another origin.
fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !(site == "same-origin" || site == "none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let authority = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, authority)| authority);
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (authority, host) {
        (Some(authority), Some(host)) => !authority.eq_ignore_ascii_case(host),
        // `Origin: null` (a sandboxed or file page), or no Host to compare.
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn given_no_browser_headers_when_checked_then_the_request_passes() {
        assert!(!cross_site(&headers(&[("host", "127.0.0.1:7070")])));
    }

    #[test]
    fn given_fetch_metadata_when_checked_then_only_same_origin_passes() {
        assert!(!cross_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!cross_site(&headers(&[("sec-fetch-site", "none")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "same-site")])));
    }

    #[test]
    fn given_an_origin_when_checked_then_it_must_name_the_host() {
        let same = [
            ("origin", "http://127.0.0.1:7070"),
            ("host", "127.0.0.1:7070"),
        ];
        assert!(!cross_site(&headers(&same)));
        let other = [
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:7070"),
        ];
        assert!(cross_site(&headers(&other)));
        assert!(cross_site(&headers(&[
            ("origin", "null"),
            ("host", "127.0.0.1:7070")
        ])));
    }
}
