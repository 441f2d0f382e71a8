//! `GET /console`: the operator console, served by the gateway. The files
//! are the npm package's own (its page, its browser entry, the module),
//! compiled into the gateway and laid out under `/console/` as in the
//! package, so the page's relative imports resolve unchanged and it runs
//! the module the gateway runs (the browser entry checks its SHA-256).
//! `gateway.json` beside the page tells it where it is: it then reads the
//! key set and the signed lists from this gateway, unless pointed at
//! another. Public, like the key set: the page holds no secret.

use super::*;

const INDEX_HTML: &str = include_str!("../../../../npm/examples/console/index.html");
const CONSOLE_JS: &str = include_str!("../../../../npm/examples/console/console.js");
const BROWSER_JS: &str = include_str!("../../../../npm/browser.js");
const WORKER_JS: &str = include_str!("../../../../npm/worker-browser.js");

/// The page may load its own files and run its module, connect to any
/// gateway the operator names (the public routes answer any origin), and
/// nothing else: no inline or foreign script, no framing.
const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    worker-src 'self'; connect-src *; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /console`: to the page, by a relative path, so a gateway served
/// under a prefix (behind a proxy) keeps its prefix.
pub(super) async fn console_root() -> Response {
    to_page("console/examples/console/")
}

/// `GET /console/`: the same, one level down.
pub(super) async fn console_dir() -> Response {
    to_page("examples/console/")
}

fn to_page(relative: &'static str) -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, HeaderValue::from_static(relative))],
    )
        .into_response()
}

/// `GET /console/{*file}`: the page, its script, the browser entry, the
/// module, and `gateway.json`.
pub(super) async fn console_file(
    State(gateway): State<Gateway>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    let gw = &*gateway.inner;
    let (kind, body): (&'static str, Body) = match file.as_str() {
        "examples/console/" | "examples/console/index.html" => {
            ("text/html; charset=utf-8", Body::from(INDEX_HTML))
        }
        "examples/console/console.js" => ("text/javascript; charset=utf-8", Body::from(CONSOLE_JS)),
        "examples/console/gateway.json" => {
            let about = json!({
                "url": gw.public_url(),
                "issuer": gw.config.issuer,
                "audience": gw.config.audience,
                "module_sha256": crate::Runtime::embedded_module_sha256(),
            });
            ("application/json", Body::from(about.to_string()))
        }
        "browser.js" => ("text/javascript; charset=utf-8", Body::from(BROWSER_JS)),
        "worker-browser.js" => ("text/javascript; charset=utf-8", Body::from(WORKER_JS)),
        "dist/captoken_bg.wasm" => (
            "application/wasm",
            Body::from(crate::Runtime::embedded_module()),
        ),
        _ => {
            return ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no console file `/console/{file}`"),
            )
            .into_response();
        }
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The files change with the gateway's build: revalidate, never stale.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
