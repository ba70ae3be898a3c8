//! The web console's files. Normally they are compiled into the `custos` binary (so a copied
//! or installed binary serves its console); for development a directory (`--web DIR`) takes
//! their place. Any path that is not a file is answered with `index.html` (the console routes
//! in the browser), like the directory case.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

/// Where the console comes from.
#[derive(Clone)]
pub enum Console {
    /// A built console on disk (`web/dist`), read on every request.
    Dir(PathBuf),
    /// Files held in memory (compiled into the binary).
    Embedded(Arc<dyn ConsoleFiles>),
}

/// One file of an embedded console.
pub struct ConsoleFile {
    pub bytes: Cow<'static, [u8]>,
    pub content_type: String,
    /// A strong validator of the content (e.g. its SHA-256 in hex), sent as the ETag.
    pub etag: String,
}

/// Lookup of an embedded console's files by relative path (`index.html`, `assets/x.js`).
pub trait ConsoleFiles: Send + Sync {
    fn get(&self, path: &str) -> Option<ConsoleFile>;
}

/// Answers a GET/HEAD for `uri` from `files`: the file, else `index.html`. Hashed build
/// outputs under `assets/` are cached for a year; everything else is revalidated (ETag).
pub fn serve_embedded(
    files: &dyn ConsoleFiles,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let path = uri.path().trim_start_matches('/');
    let (name, file) = match (!path.is_empty()).then(|| files.get(path)).flatten() {
        Some(f) => (path, f),
        None => match files.get("index.html") {
            Some(f) => ("index.html", f),
            None => return StatusCode::NOT_FOUND.into_response(),
        },
    };
    let etag = format!("\"{}\"", file.etag);
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut r = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let len = file.bytes.len();
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(file.bytes)
        };
        let mut r = Response::new(body);
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        if let Ok(v) = HeaderValue::from_str(&file.content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        r
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Two;
    impl ConsoleFiles for Two {
        fn get(&self, path: &str) -> Option<ConsoleFile> {
            let (bytes, ct): (&'static [u8], _) = match path {
                "index.html" => (b"<!doctype html><title>c</title>", "text/html"),
                "assets/a.js" => (b"console.log(1)", "text/javascript"),
                _ => return None,
            };
            Some(ConsoleFile {
                bytes: Cow::Borrowed(bytes),
                content_type: ct.into(),
                etag: format!("e-{}", bytes.len()),
            })
        }
    }

    fn get(path: &str, inm: Option<&str>) -> Response {
        let mut h = HeaderMap::new();
        if let Some(v) = inm {
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
        }
        serve_embedded(&Two, &Method::GET, &path.parse().unwrap(), &h)
    }

    /// Files by path, unknown paths get index.html, an unchanged file is a 304, hashed assets
    /// are cached long and index.html is revalidated.
    #[test]
    fn embedded_console_serves_files_and_falls_back_to_index() {
        let r = get("/assets/a.js", None);
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/javascript");
        assert!(
            r.headers()[header::CACHE_CONTROL]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let r = get("/live/cam1", None);
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/html");
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        let etag = r.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert_eq!(get("/", Some(&etag)).status(), 304);
        let post = serve_embedded(
            &Two,
            &Method::POST,
            &"/".parse().unwrap(),
            &HeaderMap::new(),
        );
        assert_eq!(post.status(), 405);
    }
}
