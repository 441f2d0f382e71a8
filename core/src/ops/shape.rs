//! The vocabulary the operations' requests and answers are described in
//! (`contract.rs`, `responses.rs`): members, their JSON shapes, whether
//! they may be left out.

/// A list of member groups: an operation's own members and the groups it
/// shares with others (e.g. [`super::contract::TRUST`]), in the order its reader asks.
pub type Members = &'static [&'static [Member]];

/// One member of a request object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// The member's name in the JSON request.
    pub name: &'static str,
    /// What its value looks like.
    pub shape: Shape,
    /// Whether it must be there.
    pub presence: Presence,
    /// One line for the generated declarations.
    pub doc: &'static str,
    /// What the module takes when the member is left out, where that is a
    /// number (the same constant the reader uses).
    pub default: Option<u64>,
}

impl Member {
    /// `self`, defaulting to `value` when left out.
    pub(super) const fn defaults_to(self, value: u64) -> Self {
        Member {
            default: Some(value),
            ..self
        }
    }
}

/// The JSON shape of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A string.
    String,
    /// An integer (within ±2^53).
    Integer,
    /// A non-negative integer.
    Uint,
    /// `true` or `false`.
    Boolean,
    /// Bytes in unpadded base64url.
    Bytes,
    /// The current time in seconds since the epoch: hosts fill it from
    /// their clock when the caller leaves it out.
    Now,
    /// Random bytes in base64url: hosts always fill it, callers never do.
    Entropy,
    /// A list of strings.
    Strings,
    /// A string, or a non-empty list of strings: any of them will do.
    Names,
    /// One of these strings, exactly.
    OneOf(&'static [&'static str]),
    /// `true`, the only value: an outcome whose other side is an error.
    True,
    /// A document of a kind named by the TypeScript declarations
    /// (`Jwk`, `TokenRequest`, `Capability[]`, …).
    Named(&'static str),
    /// An object of these members.
    Object(Members),
    /// A list of values of this shape.
    List(&'static Shape),
    /// This shape, or `null`.
    Nullable(&'static Shape),
}

/// Whether a member may be left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// It must be there.
    Required,
    /// It may be left out.
    Optional,
    /// It is read only when the named member is there (and refused as not
    /// applying otherwise).
    With(&'static str),
    /// Exactly one of it and the named member must be there.
    Either(&'static str),
}

/// One operation's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contract {
    /// The operation's name, as in [`super::OPERATIONS`].
    pub op: &'static str,
    /// Its request members.
    pub request: Members,
}

pub(super) const fn member(
    name: &'static str,
    shape: Shape,
    presence: Presence,
    doc: &'static str,
) -> Member {
    Member {
        name,
        shape,
        presence,
        doc,
        default: None,
    }
}
