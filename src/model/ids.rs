//! Public ids: what a reader's feed reader remembers a story (or a feed)
//! by. Derived from the identity key alone, so they never change once
//! assigned; store writes them and selection names feeds with them.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// The public entry id of a story: a `urn:uuid:` URI derived from its key,
/// so it is a valid URI everywhere and never changes for that story.
pub fn story_uid(story_key: &str) -> String {
    // Version 8 ("custom") over the first 16 bytes of SHA-256: `new_v8`
    // sets the version nibble and the RFC 9562 variant bits, nothing else.
    Uuid::new_v8(first16(&Sha256::digest(story_key.as_bytes())))
        .urn()
        .to_string()
}

fn first16(digest: &[u8]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b
}
