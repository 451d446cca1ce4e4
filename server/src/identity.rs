//! Who is who. The server issues every client an identity: a private **token** that the client
//! keeps and sends back in later handshakes, and a public **person** id derived from it, the only
//! one anybody else ever sees (on messages, in presence, on typing notices). Nobody can take
//! another person's id without their token, and the token cannot be worked out from the id.
//!
//! A token is 16 random bytes and a MAC of them under the server's secret: the server knows a
//! token it issued without keeping a list of them, and a made-up or altered one fails the MAC.
//! The person id is another MAC of the same bytes (under a different label), cut to 9 bytes.
//! Every node of a cluster must share the secret: it comes from a setting, or from the
//! database the nodes share ([`crate::store::Store::identity_secret`]).
//!
//! HMAC-SHA256 from RustCrypto (`hmac`, `sha2`), random bytes from the operating system
//! (`getrandom`), base64url without padding on the wire.

use std::sync::Arc;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, KeyInit, Mac};
use protocol::Credentials;
use sha2::Sha256;

const NONCE_BYTES: usize = 16;
/// The part of a token's MAC it carries: 128 bits, beyond any guessing.
const TAG_BYTES: usize = 16;
/// A person id's length: 72 bits, so that two people's ids differ, short enough to show a part.
const PERSON_BYTES: usize = 9;

/// Issues identities and recognises the tokens it issued.
#[derive(Clone)]
pub struct Issuer {
    secret: Arc<[u8]>,
}

impl std::fmt::Debug for Issuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Issuer { secret: <hidden> }")
    }
}

impl Issuer {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: secret.into(),
        }
    }

    /// A new identity, never issued before.
    pub fn issue(&self) -> Credentials {
        let mut nonce = [0; NONCE_BYTES];
        getrandom::fill(&mut nonce).expect("the operating system provides random bytes");
        self.credentials(&nonce)
    }

    /// The identity of `token`, if this server (or a node sharing its secret) issued it.
    pub fn recognise(&self, token: &str) -> Option<Credentials> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        let (nonce, tag) = bytes.split_at_checked(NONCE_BYTES)?;
        if tag.len() != TAG_BYTES {
            return None;
        }
        self.mac(b"token", nonce).verify_truncated_left(tag).ok()?;
        Some(self.credentials(nonce))
    }

    /// The identity `token` stands for if it is one of ours, else a fresh one.
    pub fn recognise_or_issue(&self, token: Option<&str>) -> Credentials {
        token
            .and_then(|token| self.recognise(token))
            .unwrap_or_else(|| self.issue())
    }

    fn credentials(&self, nonce: &[u8]) -> Credentials {
        let tag = self.mac(b"token", nonce).finalize().into_bytes();
        let token = [nonce, &tag[..TAG_BYTES]].concat();
        let person = self.mac(b"person", nonce).finalize().into_bytes();
        Credentials {
            person: URL_SAFE_NO_PAD.encode(&person[..PERSON_BYTES]),
            token: URL_SAFE_NO_PAD.encode(token),
        }
    }

    /// The MAC of `nonce` under `label`: one key, a different value for each use.
    fn mac(&self, label: &[u8], nonce: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes a key of any length");
        mac.update(label);
        mac.update(&[0]);
        mac.update(nonce);
        mac
    }
}

/// A new random secret, for a server that was given none and has none stored yet.
pub fn new_secret() -> String {
    let mut bytes = [0; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_comes_back_as_the_same_person() {
        let issuer = Issuer::new(b"secret");
        let issued = issuer.issue();
        assert_eq!(issuer.recognise(&issued.token), Some(issued.clone()));
        assert_ne!(issuer.issue().person, issued.person, "each issue is new");
        assert_eq!(issued.person.len(), 12);
        assert!(!issued.token.contains(&issued.person));
    }

    #[test]
    fn forged_altered_or_foreign_tokens_are_not_recognised() {
        let issuer = Issuer::new(b"secret");
        let issued = issuer.issue();
        let mut altered = issued.token.clone().into_bytes();
        altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        for forged in [
            "",
            "abc",
            "not base64 at all!",
            &altered,
            &issued.token[..issued.token.len() - 2],
            &format!("{}AA", issued.token),
            &issued.person,
        ] {
            assert_eq!(issuer.recognise(forged), None, "{forged:?}");
        }
        assert_eq!(Issuer::new(b"another").recognise(&issued.token), None);
    }

    #[test]
    fn an_unknown_token_gets_a_fresh_identity() {
        let issuer = Issuer::new(b"secret");
        let issued = issuer.issue();
        assert_eq!(issuer.recognise_or_issue(Some(&issued.token)), issued);
        assert_ne!(
            issuer.recognise_or_issue(Some("forged")).person,
            issued.person
        );
        assert_ne!(issuer.recognise_or_issue(None).person, issued.person);
    }

    #[test]
    fn nodes_sharing_the_secret_recognise_each_others_tokens() {
        let issued = Issuer::new(b"shared").issue();
        assert_eq!(
            Issuer::new(b"shared").recognise(&issued.token),
            Some(issued)
        );
    }
}
