//! The negative codes the SDK's exports return. ABI.md leaves codes to the plugin: the host
//! treats any negative return as a failed call (or, from `rallypoint_init`, a refused
//! plugin) and reports the number; these are the numbers a Rust plugin uses.

/// An input does not follow ABI.md: a truncated record, an offset or count out of bounds,
/// a row number past the table, candidate teams that are not all the concrete teams, a
/// parameter or column count that differs from the setup's, a name that is not UTF-8.
pub const MALFORMED_INPUT: i32 = -1;
/// A call out of order: `rallypoint_load_players` before a successful `rallypoint_init`,
/// `rallypoint_score` or `rallypoint_filter` before a successful `rallypoint_load_players`
/// (or after the table buffer was grown), or a re-entrant call.
pub const OUT_OF_ORDER: i32 = -2;
/// The setup record's `abi_version` is not one this SDK implements (1).
pub const ABI_VERSION: i32 = -3;
/// A `len` larger than the buffer the guest handed out, or an output buffer too small for
/// the batch.
pub const LENGTH: i32 = -4;

/// [`SetupError::MissingAttribute`](crate::SetupError::MissingAttribute).
pub const MISSING_ATTRIBUTE: i32 = -16;
/// [`SetupError::AttributeKind`](crate::SetupError::AttributeKind).
pub const ATTRIBUTE_KIND: i32 = -17;
/// [`SetupError::MissingParameter`](crate::SetupError::MissingParameter).
pub const MISSING_PARAMETER: i32 = -18;
/// [`SetupError::InvalidParameter`](crate::SetupError::InvalidParameter).
pub const INVALID_PARAMETER: i32 = -19;
/// [`SetupError::Unsupported`](crate::SetupError::Unsupported).
pub const UNSUPPORTED: i32 = -20;

/// A short description of a code returned by a plugin built with this SDK (for tools that
/// report a refused plugin or a failed call).
pub fn describe(code: i32) -> Option<&'static str> {
    Some(match code {
        MALFORMED_INPUT => "malformed input",
        OUT_OF_ORDER => "call out of order",
        ABI_VERSION => "unsupported ABI version",
        LENGTH => "length exceeds the buffer",
        MISSING_ATTRIBUTE => "an attribute the rule needs is missing",
        ATTRIBUTE_KIND => "an attribute has the wrong type",
        MISSING_PARAMETER => "a parameter the rule needs is missing",
        INVALID_PARAMETER => "a parameter is out of range",
        UNSUPPORTED => "the rule does not support this setup",
        _ => return None,
    })
}
