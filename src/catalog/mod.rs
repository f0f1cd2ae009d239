//! What each API operation requires: scopes, permissions, user context, kind of token.
//!
//! FOUNDATION STUB: the diagnosis issue fills this in (built-in Genesys Cloud profile,
//! `--catalog` Swagger/OpenAPI loader, inference from the capture). Public surface:
//! [`Catalog`], [`Operation`], [`Lookup`], [`Catalog::genesys`], [`Catalog::load`],
//! [`Catalog::lookup`].

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PermissionMode {
    All,
    Any,
}

#[derive(Debug, Clone, Serialize)]
pub struct Operation {
    pub method: String,
    /// Path template, e.g. `/api/v2/conversations/messages/{conversationId}`.
    pub path: String,
    pub operation_id: Option<String>,
    /// Any one of these scopes suffices; `None` when unknown.
    pub scopes: Option<Vec<String>>,
    pub permission_mode: Option<PermissionMode>,
    pub permissions: Vec<String>,
}

/// The answer to "what is this call?".
#[derive(Debug, Clone)]
pub enum Lookup<'a> {
    /// A real operation.
    Known(&'a Operation),
    /// The path lies in a family the catalog knows completely, and no operation matches:
    /// the endpoint does not exist. `suggestion` is the real operation probably meant.
    Unknown { suggestion: Option<&'a Operation> },
    /// The catalog does not cover this path.
    NotCovered,
}

#[derive(Debug, Default, Clone)]
pub struct Catalog {
    pub operations: Vec<Operation>,
}

impl Catalog {
    /// The built-in Genesys Cloud profile.
    pub fn genesys() -> Catalog {
        Catalog::default()
    }

    /// Load a Swagger 2.0 / OpenAPI 3.x document (JSON or YAML).
    pub fn load(path: &std::path::Path) -> anyhow::Result<Catalog> {
        anyhow::bail!("{}: catalogs are not supported yet", path.display())
    }

    pub fn lookup(&self, _method: &str, _path: &str) -> Lookup<'_> {
        Lookup::NotCovered
    }
}
