//! Conversations: one timeline per business conversation, with its state at every moment.
//!
//! FOUNDATION STUB: the conversations issue fills this in (profiles, key extraction from
//! paths/bodies/websocket topics, state rules). The public surface used by other modules is:
//! [`ConvState`], [`Event`], [`Conversation`], [`Timeline::build`],
//! [`Timeline::conversation_of`], [`Timeline::state_met`].

use crate::model::{Capture, Origin};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConvState {
    Active,
    Disconnected,
    Terminated,
    Unknown,
}

/// One exchange (or websocket message) in a conversation's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub time: DateTime<Utc>,
    /// Input path.
    pub input: String,
    pub index: usize,
    pub method: String,
    pub path: String,
    pub status: Option<u16>,
    /// `kind:fingerprint` of the credential that acted, if any.
    pub credential: Option<String>,
    /// State after this event.
    pub state: ConvState,
}

#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Last known state.
    pub state: ConvState,
    pub events: Vec<Event>,
}

/// The state a request met, and the exchange that proved that state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateMet {
    pub state: ConvState,
    /// The exchange that established the state (None when `Unknown`).
    pub proof: Option<Origin>,
    pub since: Option<DateTime<Utc>>,
}

#[derive(Debug, Default)]
pub struct Timeline {
    pub conversations: Vec<Conversation>,
}

impl Timeline {
    pub fn build(_capture: &Capture) -> Timeline {
        Timeline::default()
    }

    /// The conversation an exchange belongs to.
    pub fn conversation_of(&self, _origin: &Origin) -> Option<&Conversation> {
        None
    }

    /// The state of the exchange's conversation just before the exchange was made.
    pub fn state_met(&self, _origin: &Origin) -> Option<StateMet> {
        None
    }
}
