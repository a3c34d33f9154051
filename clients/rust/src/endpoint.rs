//! [`HubUrl`]: one URL form for a hub, and every REST and WebSocket URL built from it with
//! the `url` crate (path segments and query pairs percent-encoded, never pasted together).

use super::ClientError;
use std::fmt;
use url::Url;

/// A hub's base URL. Accepts `http://host:port`, `https://host:port`, `ws://…` and `wss://…`,
/// with an optional path prefix (a hub behind a reverse proxy at `/werewolf`) and an optional
/// trailing slash. Kept in its `http(s)://` form; the `ws(s)://` form is derived from it.
///
/// ```
/// # use werewolf_client::HubUrl;
/// let url = HubUrl::parse("wss://example.org/werewolf/").unwrap();
/// assert_eq!(url.to_string(), "https://example.org/werewolf");
/// assert_eq!(url.ws().as_str(), "wss://example.org/werewolf");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubUrl {
    /// `http(s)://host[:port][/prefix]`, no trailing slash (except the root path `/`), no
    /// query, no fragment.
    http: Url,
}

impl HubUrl {
    /// Parses a hub URL; anything else is [`ClientError::BadUrl`] saying why.
    pub fn parse(input: &str) -> Result<HubUrl, ClientError> {
        let bad = |reason: String| ClientError::BadUrl {
            url: input.to_owned(),
            reason,
        };
        let mut url = Url::parse(input.trim()).map_err(|e| {
            bad(match e {
                url::ParseError::RelativeUrlWithoutBase => {
                    "no scheme: start it with http://, https://, ws:// or wss://".to_owned()
                }
                e => e.to_string(),
            })
        })?;
        let http_scheme = match url.scheme() {
            "http" | "ws" => "http",
            "https" | "wss" => "https",
            other => {
                return Err(bad(format!(
                    "scheme `{other}` is not http, https, ws or wss"
                )));
            }
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad("no host".to_owned()));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(bad(
                "a hub URL takes no query string or fragment (ids and tokens are added by the \
                 client)"
                    .to_owned(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad(
                "credentials in the URL are not supported (use the admin or seat token)".to_owned(),
            ));
        }
        // Between special schemes, set_scheme cannot fail; the port stays as written (a
        // default port of the old scheme is the default of the new one too).
        url.set_scheme(http_scheme)
            .map_err(|()| bad("cannot use it as an http(s) URL".to_owned()))?;
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
        }
        Ok(HubUrl { http: url })
    }

    /// The `http(s)://` form.
    pub fn http(&self) -> &Url {
        &self.http
    }

    /// The `ws(s)://` form.
    pub fn ws(&self) -> Url {
        let mut url = self.http.clone();
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        // http → ws and https → wss are changes between special schemes: always allowed.
        let _ = url.set_scheme(scheme);
        url
    }

    /// `{base}/{segments…}` over HTTP, each segment percent-encoded (a `/` in one stays
    /// inside it).
    pub fn rest<'a>(&self, segments: impl IntoIterator<Item = &'a str>) -> Url {
        with_segments(self.http.clone(), segments)
    }

    /// `ws(s)://{base}/ws/{client_id}?{query}`, the id one percent-encoded path segment and
    /// every query pair percent-encoded.
    pub fn socket<'a>(
        &self,
        client_id: &str,
        query: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Url {
        let mut url = with_segments(self.ws(), ["ws", client_id]);
        url.query_pairs_mut().extend_pairs(query);
        url
    }
}

/// Appends `segments` to `url`'s path (after the prefix, without doubling a slash).
fn with_segments<'a>(mut url: Url, segments: impl IntoIterator<Item = &'a str>) -> Url {
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

impl fmt::Display for HubUrl {
    /// The `http(s)://` form without a trailing slash.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.http.as_str().trim_end_matches('/'))
    }
}

impl std::str::FromStr for HubUrl {
    type Err = ClientError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HubUrl::parse(s)
    }
}

/// Adds `key=value` to a URL's query (percent-encoded).
pub(crate) fn with_query(mut url: Url, key: &str, value: &str) -> Url {
    url.query_pairs_mut().append_pair(key, value);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> HubUrl {
        HubUrl::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn every_scheme_maps_to_http_and_ws() {
        for (input, http, ws) in [
            ("http://a:1", "http://a:1", "ws://a:1/"),
            ("http://a:1/", "http://a:1", "ws://a:1/"),
            ("ws://a:1", "http://a:1", "ws://a:1/"),
            ("wss://b", "https://b", "wss://b/"),
            ("https://b:8443/", "https://b:8443", "wss://b:8443/"),
            ("https://b/pre/fix/", "https://b/pre/fix", "wss://b/pre/fix"),
            (
                "ws://[::1]:9000/hub",
                "http://[::1]:9000/hub",
                "ws://[::1]:9000/hub",
            ),
            (
                "  http://127.0.0.1:8000  ",
                "http://127.0.0.1:8000",
                "ws://127.0.0.1:8000/",
            ),
        ] {
            let url = parse(input);
            assert_eq!(url.to_string(), http, "{input}");
            assert_eq!(url.ws().as_str(), ws, "{input}");
        }
    }

    #[test]
    fn paths_keep_the_prefix_and_never_double_a_slash() {
        assert_eq!(
            parse("http://a:1/").rest(["games"]).as_str(),
            "http://a:1/games"
        );
        assert_eq!(
            parse("https://a/pre/")
                .rest(["games", "g1", "join"])
                .as_str(),
            "https://a/pre/games/g1/join"
        );
        assert_eq!(
            parse("wss://a/pre")
                .socket("p1", [("client_type", "agent")])
                .as_str(),
            "wss://a/pre/ws/p1?client_type=agent"
        );
    }

    #[test]
    fn ids_and_tokens_are_percent_encoded_and_arrive_intact() {
        let nasty = "a&b#c d/e?f=g%h+i";
        let url = parse("http://a:1").socket(
            nasty,
            [
                ("client_type", "agent"),
                ("game_id", nasty),
                ("token", nasty),
            ],
        );
        let url = with_query(url, "last_seq", "7");
        assert_eq!(url.scheme(), "ws");
        // one path segment, decoded back to the id
        let segments: Vec<_> = url.path_segments().expect("a path").collect();
        assert_eq!(segments.len(), 2, "{url}");
        assert_eq!(
            percent_decode(segments[1]),
            nasty,
            "the id is one segment: {url}"
        );
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert_eq!(
            pairs,
            [
                ("client_type".into(), "agent".into()),
                ("game_id".into(), nasty.into()),
                ("token".into(), nasty.into()),
                ("last_seq".into(), "7".into()),
            ]
        );
        assert!(url.fragment().is_none(), "{url}");
        let rest = parse("http://a:1").rest(["games", nasty, "join"]);
        assert_eq!(rest.path_segments().expect("a path").count(), 3, "{rest}");
        assert!(
            rest.query().is_none() && rest.fragment().is_none(),
            "{rest}"
        );
    }

    /// Decodes `%XX` escapes (what the hub's router does to a path segment).
    fn percent_decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' && i + 2 < bytes.len() {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("ascii");
                out.push(u8::from_str_radix(hex, 16).expect("hex escape"));
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn bad_urls_say_why() {
        for (input, why) in [
            ("127.0.0.1:8000", "scheme"),
            ("localhost", "no scheme"),
            ("ftp://a", "scheme `ftp`"),
            ("http://", "empty host"),
            ("http://a:1/?token=x", "query"),
            ("http://a:1/#x", "fragment"),
            ("http://a:99999", "port"),
            ("http://u:p@a", "credentials"),
        ] {
            let error = HubUrl::parse(input).expect_err(input).to_string();
            assert!(error.contains(why), "{input}: {error}");
            assert!(error.contains("bad hub URL"), "{input}: {error}");
            assert!(!error.contains('\n'), "{input}: {error}");
        }
    }
}
