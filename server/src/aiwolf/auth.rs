//! AIWolf's optional JWT auth on `GET /ws`, as `util/auth_util.go` of
//! `aiwolfdial/aiwolf-nlp-server` checks a player: the token is `?token=` when that is
//! non-empty, else the `Authorization` header with `Bearer ` removed; any HMAC algorithm
//! (HS256/384/512) signed with the secret (`AIWOLF_SECRET_KEY`, AIWolf's `SECRET_KEY`) is
//! accepted; `exp` and `nbf` are checked when present (no leeway, none required); the claims
//! must say `role: "PLAYER"` and `team: <the agent's team>`.
//!
//! Where the hub differs (for a clearer answer to the agent): a token that is missing,
//! malformed, badly signed, expired, not yet valid or not a `PLAYER` token is refused with
//! HTTP 401 before the upgrade; the team, known only from the agent's `NAME`, is checked after
//! it and a mismatch closes the socket with 1008. AIWolf's server upgrades first and drops the
//! TCP connection without a word in every case.

use axum::http::HeaderMap;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

/// Why a token was refused. The texts say nothing about any team but the agent's own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Neither `?token=` nor `Authorization: Bearer` carried one.
    #[error("a token is required (?token= or Authorization: Bearer)")]
    Missing,
    /// Not a JWT, not signed with the secret by an HMAC algorithm, or bad claims.
    #[error("invalid token")]
    Invalid,
    /// Its `exp` has passed.
    #[error("token expired")]
    Expired,
    /// Its `nbf` has not come yet.
    #[error("token not yet valid")]
    NotYetValid,
    /// Its `role` is not `PLAYER`.
    #[error("not a PLAYER token")]
    NotPlayer,
    /// Its `team` is not the agent's (the name without trailing digits).
    #[error("token is not for this agent's team")]
    WrongTeam,
}

/// A verified `PLAYER` token's claims; the team is checked once the agent's name is known.
#[derive(Debug, Clone)]
pub struct PlayerToken {
    /// The token's claims as signed.
    claims: Map<String, Value>,
}

impl PlayerToken {
    /// Whether the token is for `team` (`claims["team"] == team`, a string).
    pub fn check_team(&self, team: &str) -> Result<(), AuthError> {
        match self.claims.get("team") {
            Some(Value::String(t)) if t == team => Ok(()),
            _ => Err(AuthError::WrongTeam),
        }
    }
}

/// The token of a request as AIWolf's server picks it: the first `token` query parameter when
/// it is non-empty, else `Authorization` with every `Bearer ` removed.
pub fn token_of(query: Option<&str>, headers: &HeaderMap) -> String {
    let from_query = param(query, "token").unwrap_or_default();
    if !from_query.is_empty() {
        return from_query;
    }
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.replace("Bearer ", ""))
        .unwrap_or_default()
}

/// The first `key` parameter of a query string, decoded (possibly empty), if there is one.
pub fn param(query: Option<&str>, key: &str) -> Option<String> {
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| {
            let (k, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k) == key).then(|| decode(value))
        })
}

/// One `application/x-www-form-urlencoded` component (`+` is a space).
fn decode(component: &str) -> String {
    percent_encoding::percent_decode_str(&component.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Checks `token`'s signature with `secret`, its time claims and its `PLAYER` role.
pub fn verify(secret: &str, token: &str) -> Result<PlayerToken, AuthError> {
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
    // golang-jwt v5's defaults: no claim required, exp/nbf checked when present, no leeway,
    // no audience check.
    validation.required_spec_claims.clear();
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.leeway = 0;
    let key = DecodingKey::from_secret(secret.as_bytes());
    let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).map_err(
        |e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
            jsonwebtoken::errors::ErrorKind::ImmatureSignature => AuthError::NotYetValid,
            _ => AuthError::Invalid,
        },
    )?;
    if data.claims.get("role") != Some(&Value::String("PLAYER".to_owned())) {
        return Err(AuthError::NotPlayer);
    }
    Ok(PlayerToken {
        claims: data.claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const SECRET: &str = "contest-secret";

    fn now() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64
    }

    fn token(alg: Algorithm, secret: &str, claims: Value) -> String {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .expect("encodes")
    }

    fn player(team: &str) -> Value {
        json!({"role": "PLAYER", "team": team})
    }

    #[test]
    fn a_good_token_of_the_team_passes() {
        let t = token(Algorithm::HS256, SECRET, player("kanolab"));
        let ok = verify(SECRET, &t).expect("valid");
        assert_eq!(ok.check_team("kanolab"), Ok(()));
        // With an exp in the future and an nbf in the past too.
        let claims =
            json!({"role": "PLAYER", "team": "kanolab", "exp": now() + 60, "nbf": now() - 60});
        let t = token(Algorithm::HS256, SECRET, claims);
        assert!(verify(SECRET, &t).is_ok());
    }

    #[test]
    fn another_teams_token_is_refused_without_naming_it() {
        let t = token(Algorithm::HS256, SECRET, player("otherteam"));
        let ok = verify(SECRET, &t).expect("signature and role are fine");
        let err = ok.check_team("kanolab").expect_err("wrong team");
        assert_eq!(err, AuthError::WrongTeam);
        assert!(!err.to_string().contains("otherteam"), "{err}");
        // A team claim that is not a string never matches.
        let t = token(
            Algorithm::HS256,
            SECRET,
            json!({"role": "PLAYER", "team": 1}),
        );
        assert_eq!(
            verify(SECRET, &t).expect("signed").check_team("1"),
            Err(AuthError::WrongTeam)
        );
    }

    #[test]
    fn only_player_tokens_pass() {
        for claims in [
            json!({"role": "RECEIVER", "team": "kanolab"}),
            json!({"role": "player", "team": "kanolab"}),
            json!({"team": "kanolab"}),
        ] {
            let t = token(Algorithm::HS256, SECRET, claims.clone());
            assert_eq!(
                verify(SECRET, &t).err(),
                Some(AuthError::NotPlayer),
                "{claims}"
            );
        }
    }

    #[test]
    fn a_bad_signature_or_no_jwt_is_invalid() {
        let t = token(Algorithm::HS256, "another-secret", player("kanolab"));
        assert_eq!(verify(SECRET, &t).err(), Some(AuthError::Invalid));
        for junk in [
            "x",
            "a.b.c",
            "Bearer",
            "eyJhbGciOiJub25lIn0.eyJyb2xlIjoiUExBWUVSIn0.",
        ] {
            assert_eq!(
                verify(SECRET, junk).err(),
                Some(AuthError::Invalid),
                "{junk}"
            );
        }
        assert_eq!(verify(SECRET, "").err(), Some(AuthError::Missing));
    }

    #[test]
    fn expired_and_immature_tokens_are_refused() {
        let t = token(
            Algorithm::HS256,
            SECRET,
            json!({"role": "PLAYER", "team": "kanolab", "exp": now() - 5}),
        );
        assert_eq!(verify(SECRET, &t).err(), Some(AuthError::Expired));
        let t = token(
            Algorithm::HS256,
            SECRET,
            json!({"role": "PLAYER", "team": "kanolab", "nbf": now() + 600}),
        );
        assert_eq!(verify(SECRET, &t).err(), Some(AuthError::NotYetValid));
    }

    #[test]
    fn every_hmac_algorithm_is_accepted() {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let t = token(alg, SECRET, player("kanolab"));
            assert!(verify(SECRET, &t).is_ok(), "{alg:?}");
        }
    }

    #[test]
    fn the_query_token_wins_over_the_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            axum::http::header::AUTHORIZATION,
            "Bearer from-header".parse().expect("header"),
        );
        assert_eq!(token_of(Some("token=from-query"), &headers), "from-query");
        assert_eq!(token_of(Some("a=1&token=a%2Bb+c"), &headers), "a+b c");
        // An empty query token falls back to the header, as AIWolf's `c.Query` does.
        assert_eq!(token_of(Some("token="), &headers), "from-header");
        assert_eq!(token_of(None, &headers), "from-header");
        assert_eq!(token_of(None, &HeaderMap::new()), "");
        // A query token signed right passes even with a wrong header token.
        let good = token(Algorithm::HS512, SECRET, player("kanolab"));
        let picked = token_of(Some(&format!("token={good}")), &headers);
        assert!(verify(SECRET, &picked).is_ok());
    }
}
