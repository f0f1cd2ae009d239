//! `conversation_ended`: the request acted on a conversation that had already ended.
//!
//! - **What:** a write (send a message, update a participant) on a conversation whose state,
//!   just before the request, was disconnected or terminated, as proven by an earlier
//!   exchange of the capture (the PATCH that disconnected it, a GET showing `endTime` or
//!   participants `disconnected`); or the server said so (`postino.error.forbidden` "User is
//!   not an active participant on the conversation",
//!   `conversation.error.forbidden.not.active.participant`).
//! - **Why:** a disconnected message conversation takes no new messages; the ids stored in a
//!   CRM stay valid for reading only.
//! - **Example:** an agent closes the conversation; 20 minutes later a backend posts a
//!   follow-up with the stored conversation and communication ids and gets 403.
//! - **From an access log** (no request bodies): an accepted PATCH/PUT/DELETE on the same
//!   conversation before the refused write makes it a *probable* cause (not proven): the body
//!   that would say `disconnected` is not recorded, and the finding says so.
//! - **Fix:** start a new conversation (`POST /api/v2/conversations/messages/agentless` or
//!   `POST /api/v2/conversations/messages`) to reach the customer again.

use super::{minutes, Cause, Confidence, Facts, Verdict};
use crate::timeline::ConvState;

pub fn check(f: &Facts<'_>) -> Option<Verdict> {
    let server_says = matches!(
        f.error_code(),
        Some("postino.error.forbidden") | Some("conversation.error.forbidden.not.active.participant")
    );
    let ended = f.state.filter(|s| matches!(s.state, ConvState::Disconnected | ConvState::Terminated));
    let write = !matches!(f.method.to_ascii_uppercase().as_str(), "GET" | "HEAD" | "OPTIONS");
    if !(server_says || (write && ended.is_some())) {
        return probable_from_log(f, write).or_else(|| state_unknown(f, write));
    }
    let conv = f.conversation.as_deref().unwrap_or("the conversation");
    let mut evidence = Vec::new();
    if let Some(s) = ended {
        let when = s.since.map(|t| format!(" {} earlier", minutes(t, f.time))).unwrap_or_default();
        evidence.push(f.here(format!("{} acted on conversation {conv}, which had ended{when}", f.call())));
        if let Some(p) = s.proof {
            let state = if s.state == ConvState::Terminated { "terminated" } else { "disconnected" };
            evidence.push((p, format!("conversation {conv} became {state} here")));
        }
    }
    if server_says {
        evidence.push(f.here(format!(
            "the server answered {}: the caller is not an active participant on the conversation",
            f.error_code().unwrap_or("")
        )));
    }
    Some(Verdict {
        cause: Cause::ConversationEnded,
        summary: match ended.and_then(|s| s.since) {
            Some(t) => format!("conversation {conv} had been disconnected {} before this request", minutes(t, f.time)),
            None => format!("conversation {conv} was no longer active"),
        },
        evidence,
        fix: "A disconnected conversation takes no new messages: start a new one with POST /api/v2/conversations/messages/agentless (client credentials) or POST /api/v2/conversations/messages.".into(),
        confidence: Confidence::Proven,
    })
}

/// Inferred: the same credential succeeded on this operation of this conversation earlier,
/// and the capture does not show the conversation's state since; it may have ended.
fn state_unknown(f: &Facts<'_>, write: bool) -> Option<Verdict> {
    let conv = f.conversation.as_deref()?;
    let (ok, n) = f.history.same_operation.as_ref()?;
    // A state seen after that success (the conversation was still active later) rules it out.
    let newer = f.state.is_some_and(|s| s.state != ConvState::Unknown && s.since.is_some_and(|t| t > ok.time));
    if !write || newer {
        return None;
    }
    Some(Verdict {
        cause: Cause::ConversationEnded,
        summary: format!(
            "the same call on conversation {conv} worked {} earlier; its state since is not in the capture, so it may have ended",
            minutes(ok.time, f.time)
        ),
        evidence: vec![
            f.here(format!("{} acted on conversation {conv}; no reply in the capture shows its state", f.call())),
            (ok.origin, format!("the same operation on {conv} succeeded here with the same credential")),
        ],
        fix: "Check the conversation's state (GET /api/v2/conversations/messages/{conversationId}); a disconnected conversation takes no new messages: start a new one.".into(),
        confidence: Confidence::Inferred { calls: *n },
    })
}

/// An access log cannot prove the disconnect; an accepted write on the conversation before the
/// refused one makes it probable.
fn probable_from_log(f: &Facts<'_>, write: bool) -> Option<Verdict> {
    let (proof, call, at) = f.earlier_write.as_ref()?;
    if !write || f.state.is_some_and(|s| s.state == ConvState::Active && s.proof.is_some()) {
        return None;
    }
    let conv = f.conversation.as_deref().unwrap_or("the conversation");
    Some(Verdict {
        cause: Cause::ConversationEnded,
        summary: format!(
            "conversation {conv} was probably ended: {call} was accepted {} before this request (the log does not record its body)",
            minutes(*at, f.time)
        ),
        evidence: vec![
            f.here(format!("{} acted on conversation {conv} after an accepted {call} on it", f.call())),
            (*proof, format!("{call} on conversation {conv} was accepted here; its body (e.g. {{\"state\":\"disconnected\"}}) is not recorded by this input")),
        ],
        fix: "If that request disconnected the conversation, it takes no new messages: start a new one with POST /api/v2/conversations/messages/agentless (client credentials) or POST /api/v2/conversations/messages. A HAR or proxy capture of the same calls would prove it.".into(),
        confidence: Confidence::Inferred { calls: 1 },
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::timeline::StateMet;
    use crate::token::{Grant, Validity};

    #[test]
    fn fires_on_a_write_after_disconnect() {
        let tok = token(Grant::ClientCredentials, None);
        let mut f = facts(
            "POST",
            "/api/v2/conversations/messages/c/communications/m/messages",
            403,
            Some(&tok),
            Validity::Valid,
        );
        f.state = Some(StateMet { state: ConvState::Disconnected, proof: Some(o(3)), since: Some(t(-20)) });
        f.conversation = Some("c".into());
        let v = check(&f).unwrap();
        assert!(v.summary.contains("20 min"), "{}", v.summary);
        assert_eq!(v.evidence.iter().map(|e| e.0.index).collect::<Vec<_>>(), vec![5, 3]);
        f.method = "GET".into();
        assert!(check(&f).is_none());
        f.state = Some(StateMet { state: ConvState::Active, proof: None, since: None });
        f.method = "POST".into();
        assert!(check(&f).is_none());
    }
}
