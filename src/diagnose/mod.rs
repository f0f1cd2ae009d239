//! Diagnosis: every 401 and 403 gets a cause, the evidence, and the fix.
//!
//! FOUNDATION STUB: the diagnosis issue fills this in, one file per cause. Public surface:
//! [`Cause`], [`Evidence`], [`Finding`], [`diagnose`].

use crate::analysis::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// The closed vocabulary of causes. Names are part of the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    CredentialsMissing,
    TokenMalformed,
    TokenExpired,
    TokenNotYetValid,
    TokenRevoked,
    TokenWrongRegion,
    TokenWrongKind,
    ScopeMissing,
    PermissionMissing,
    UserContextRequired,
    ConversationEnded,
    EndpointUnknown,
    Unexplained,
}

/// One fact that supports a finding, pointing at the exchange that shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// Input path.
    pub input: String,
    pub index: usize,
    pub fact: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub input: String,
    pub index: usize,
    pub time: DateTime<Utc>,
    pub method: String,
    /// Masked unless `--show-secrets`.
    pub url: String,
    pub status: u16,
    pub cause: Cause,
    pub causes: Vec<Cause>,
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub fix: String,
    pub credential: Option<String>,
    pub conversation: Option<String>,
}

/// Explain every 401/403 of the capture.
pub fn diagnose(_cx: &Context<'_>) -> Vec<Finding> {
    Vec::new()
}
