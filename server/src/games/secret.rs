//! Unguessable tokens and short ids, and comparing tokens without leaking timing.

use rand::Rng;

/// A 128-bit random token as 32 hex chars (from the OS-seeded CSPRNG).
pub fn token() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex(&bytes)
}

/// A short random id (8 hex chars) for games.
pub fn short_id() -> String {
    let bytes: [u8; 4] = rand::rng().random();
    hex(&bytes)
}

/// A random 64-bit game seed, when the creator gives none.
pub fn seed() -> u64 {
    rand::rng().random()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares a presented token with the expected one in time independent of where they differ
/// (`subtle`; only the length can show).
pub fn tokens_match(presented: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq;
    presented.as_bytes().ct_eq(expected.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_distinct_and_compare_exactly() {
        let (a, b) = (token(), token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(tokens_match(&a, &a.clone()));
        assert!(!tokens_match(&a, &b));
        assert!(!tokens_match(&a[..31], &a));
    }
}
