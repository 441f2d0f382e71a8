//! `GET /console`: the operator console, served from the npm package's
//! own files with the module the gateway runs. (The page itself is driven
//! in Chromium by npm/test/browser/browser.test.js.)

use std::path::Path;

use super::support::*;

#[test]
fn the_console_is_the_packages_files_with_the_module_the_gateway_runs() {
    let server = start("console");
    let addr = server.addr;
    // Relative, so a prefix a proxy adds is kept: both resolve to
    // /console/examples/console/.
    for (path, to) in [
        ("/console", "console/examples/console/"),
        ("/console/", "examples/console/"),
    ] {
        let moved = get(addr, path, false);
        assert_eq!(moved.status, 308, "{path}");
        assert_eq!(moved.header("location"), Some(to), "{path}");
    }
    let npm = Path::new(env!("CARGO_MANIFEST_DIR")).join("../npm");
    for (path, file, kind) in [
        (
            "/console/examples/console/",
            "examples/console/index.html",
            "text/html",
        ),
        (
            "/console/examples/console/console.js",
            "examples/console/console.js",
            "text/javascript",
        ),
        ("/console/browser.js", "browser.js", "text/javascript"),
        (
            "/console/worker-browser.js",
            "worker-browser.js",
            "text/javascript",
        ),
        (
            "/console/dist/captoken_bg.wasm",
            "dist/captoken_bg.wasm",
            "application/wasm",
        ),
    ] {
        let served = get(addr, path, false);
        assert_eq!(served.status, 200, "{path}");
        assert_eq!(
            served.body,
            std::fs::read(npm.join(file)).unwrap(),
            "{path}"
        );
        assert!(
            served.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
        assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
        let csp = served.header("content-security-policy").unwrap();
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
    }
    // The module served is the one the gateway runs.
    let wasm = get(addr, "/console/dist/captoken_bg.wasm", false).body;
    let health = get(addr, "/healthz", false).json();
    assert_eq!(
        captoken_runtime::sha256_hex(&wasm),
        health["module_sha256"].as_str().unwrap()
    );
    // Where the page is: this gateway's issuer and audience.
    let about = get(addr, "/console/examples/console/gateway.json", false).json();
    assert_eq!(about["issuer"], ISSUER);
    assert_eq!(about["audience"], AUDIENCE);
    assert_eq!(about["url"], format!("http://{addr}"));
    for path in [
        "/console/package.json",
        "/console/../Cargo.toml",
        "/console/examples/x",
    ] {
        get(addr, path, false).expect_error(404, "not_found");
    }
}
