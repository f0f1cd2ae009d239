//! Conversations: keys, states with their proofs, and `unknown` where nothing proves a state.
//! Samples are made by samples/gen/timeline.py (see samples/README.md).

use crate::common::{harken, json, sample, stdout};
use harken::ingest::{self, IngestOptions};
use harken::model::Origin;
use harken::timeline::{ConvState, Profile, Timeline};
use serde_json::Value;
use std::path::PathBuf;

fn s(name: &str) -> String {
    sample(name).to_string_lossy().into_owned()
}

fn timeline_json(args: &[&str]) -> Vec<Value> {
    let mut a = vec!["timeline", "--format", "json"];
    a.extend_from_slice(args);
    let doc = json(&a);
    doc["conversations"].as_array().cloned().unwrap_or_else(|| panic!("no conversations array: {doc}"))
}

/// (input file name, index, state_before, state, proof "file#index" of `state`).
fn rows(conv: &Value) -> Vec<(String, u64, String, String, Option<String>)> {
    let name = |v: &Value| v.as_str().unwrap_or("").rsplit('/').next().unwrap_or("").to_string();
    conv["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                name(&e["input"]),
                e["index"].as_u64().unwrap(),
                e["state_before"].as_str().unwrap().to_string(),
                e["state"].as_str().unwrap().to_string(),
                e["proof"].as_object().map(|p| format!("{}#{}", name(&p["input"]), p["index"])),
            )
        })
        .collect()
}

fn r(f: &str, i: u64, before: &str, after: &str, proof: Option<&str>) -> (String, u64, String, String, Option<String>) {
    (f.into(), i, before.into(), after.into(), proof.map(str::to_string))
}

#[test]
fn followup_after_disconnect_meets_disconnected_proved_by_the_patch() {
    let f = "conv_followup_after_disconnect.har";
    let convs = timeline_json(&[&s(f)]);
    assert_eq!(convs.len(), 1, "one conversation; GET /users/me belongs to none");
    let c = &convs[0];
    assert_eq!(c["state"], "disconnected");
    assert_eq!(
        rows(c),
        vec![
            r(f, 1, "unknown", "unknown", None), // wrap-up codes prove nothing
            r(f, 2, "unknown", "active", Some(&format!("{f}#2"))),
            r(f, 3, "active", "active", Some(&format!("{f}#2"))), // a confirmation keeps the proof
            r(f, 4, "active", "disconnected", Some(&format!("{f}#4"))),
            r(f, 5, "disconnected", "disconnected", Some(&format!("{f}#4"))),
        ]
    );
    let last = &c["events"][4];
    assert_eq!(last["method"], "POST");
    assert_eq!(last["status"], 403);
    assert_eq!(last["after_end"], true);
    assert_eq!(last["proof_before"]["rule"], "PATCH {\"state\":\"disconnected\"} accepted");
    let cred = last["credential"].as_str().unwrap();
    assert!(cred.starts_with("opaque:") && cred.len() < 30, "kind:fingerprint, never the token: {cred}");
    assert!(c["events"].as_array().unwrap()[..4].iter().all(|e| e["after_end"] == false));
    // 20 minutes between the PATCH and the follow-up
    assert_eq!(c["first_seen"], c["events"][0]["time"]);
    assert_eq!(c["last_seen"], last["time"]);
}

#[test]
fn library_state_met_points_at_the_proof() {
    let cap = ingest::load(&[sample("conv_followup_after_disconnect.har")], IngestOptions::default());
    let tl = Timeline::build(&cap);
    let met = tl.state_met(&Origin::entry(0, 5)).expect("the 403 is in a conversation");
    assert_eq!(met.state, ConvState::Disconnected);
    assert_eq!(met.proof, Some(Origin::entry(0, 4)));
    assert_eq!(met.since, Some(cap.find(0, 4).unwrap().started));
    let unknown = tl.state_met(&Origin::entry(0, 1)).unwrap();
    assert_eq!((unknown.state, unknown.proof, unknown.since), (ConvState::Unknown, None, None));
    assert!(tl.state_met(&Origin::entry(0, 0)).is_none(), "GET /users/me is in no conversation");
    assert!(tl.conversation_of(&Origin::entry(0, 0)).is_none());
    assert_eq!(tl.conversation_of(&Origin::entry(0, 5)).unwrap().id, tl.conversations[0].id);
}

#[test]
fn one_conversation_across_two_inputs() {
    let (a, b) = ("conv_split_a.har", "conv_split_b.har");
    let convs = timeline_json(&[&s(a), &s(b)]);
    assert_eq!(convs.len(), 1);
    assert_eq!(
        rows(&convs[0]),
        vec![
            r(a, 0, "unknown", "active", Some(&format!("{a}#0"))),
            r(a, 1, "active", "active", Some(&format!("{a}#0"))),
            r(b, 0, "active", "disconnected", Some(&format!("{b}#0"))), // POST …/disconnect 202
            r(a, 2, "disconnected", "disconnected", Some(&format!("{b}#0"))), // the agent's 403
            r(b, 1, "disconnected", "disconnected", Some(&format!("{b}#0"))), // GET: endTime set
        ]
    );
    // Different actors: the agent's and the supervisor's tokens.
    let ev = convs[0]["events"].as_array().unwrap();
    assert_ne!(ev[0]["credential"], ev[2]["credential"]);
    assert_eq!(ev[3]["after_end"], true);
    // Each file alone: the agent's 403 meets `active`, because the disconnect is not in it.
    let alone = timeline_json(&[&s(a)]);
    assert_eq!(rows(&alone[0]).last().unwrap(), &r(a, 2, "active", "active", Some(&format!("{a}#0"))));
    let alone = timeline_json(&[&s(b)]);
    assert_eq!(rows(&alone[0]).first().unwrap(), &r(b, 0, "unknown", "disconnected", Some(&format!("{b}#0"))));
}

#[test]
fn invented_paths_land_in_their_conversation() {
    let f = "conv_invented_path.har";
    let convs = timeline_json(&[&s(f)]);
    assert_eq!(convs.len(), 1, "the integration UUID in /messaging/integrations/open/{{id}} is no conversation");
    let c = &convs[0];
    let ev = c["events"].as_array().unwrap();
    let paths: Vec<(&str, &str, Option<u64>)> =
        ev.iter().map(|e| (e["method"].as_str().unwrap(), e["path"].as_str().unwrap(), e["status"].as_u64())).collect();
    let cid = c["id"].as_str().unwrap();
    assert_eq!(
        paths,
        vec![
            ("WS", format!("v2.conversations.{cid}").as_str(), None),
            ("POST", format!("/api/v2/conversations/messaging/{cid}/messages").as_str(), Some(404)),
            ("POST", ev[2]["path"].as_str().unwrap(), Some(200)),
            ("DELETE", format!("/api/v2/conversations/webmessaging/{cid}").as_str(), Some(404)),
            ("POST", ev[4]["path"].as_str().unwrap(), Some(404)),
            ("WS", format!("v2.conversations.{cid}").as_str(), None),
            ("POST", format!("/api/v2/conversations/webchat/{cid}/messages").as_str(), Some(403)),
        ]
    );
    assert!(ev[4]["path"].as_str().unwrap().starts_with(&format!("/api/v2/communications/conversations/{cid}/")));
    assert_eq!(
        rows(c),
        vec![
            r(f, 1, "unknown", "active", Some(&format!("{f}#1"))), // notification: connected
            r(f, 3, "active", "active", Some(&format!("{f}#1"))),
            r(f, 4, "active", "active", Some(&format!("{f}#1"))),
            r(f, 5, "active", "active", Some(&format!("{f}#1"))),
            r(f, 6, "active", "active", Some(&format!("{f}#1"))),
            r(f, 1, "active", "disconnected", Some(&format!("{f}#1"))), // notification: endTime
            r(f, 7, "disconnected", "disconnected", Some(&format!("{f}#1"))),
        ]
    );
    assert_eq!(ev[0]["websocket"]["message"], 1);
    assert_eq!(ev[5]["websocket"]["message"], 3);
    assert_eq!(ev[6]["proof_before"]["message"], 3, "the proof names the websocket message");
    assert_eq!(ev[6]["after_end"], true);
    assert_eq!(ev[1]["after_end"], false);
}

#[test]
fn generic_api_with_a_user_profile() {
    let profile = s("profiles/orders.toml");
    let f = "generic_orders.har";
    let convs = timeline_json(&["--profile", &profile, &s(f)]);
    assert_eq!(convs.len(), 2);
    let order = &convs[0];
    assert_eq!(order["id"], "ord_955A3624EE51A2FF");
    assert_eq!(
        rows(order),
        vec![
            r(f, 0, "unknown", "active", Some(&format!("{f}#0"))), // POST /v1/orders 201, id from the reply
            r(f, 2, "active", "active", Some(&format!("{f}#0"))),
            r(f, 1, "active", "active", Some(&format!("{f}#0"))), // event: paid
            r(f, 4, "active", "active", Some(&format!("{f}#0"))), // GET: paid
            r(f, 1, "active", "disconnected", Some(&format!("{f}#1"))), // event: cancelled
            r(f, 5, "disconnected", "disconnected", Some(&format!("{f}#1"))), // payment 409, id from the request body
            r(f, 6, "disconnected", "disconnected", Some(&format!("{f}#1"))),
        ]
    );
    let ev = order["events"].as_array().unwrap();
    assert_eq!(ev[0]["key"], "response /order/id");
    assert_eq!(ev[5]["key"], "request /order_id");
    assert_eq!(ev[5]["after_end"], true);
    // The other order is never shown with a state: unknown throughout, no proof.
    let other = &convs[1];
    assert_eq!(other["state"], "unknown");
    assert_eq!(rows(other), vec![r(f, 3, "unknown", "unknown", None)]);
    // Without the profile, the Genesys profile finds nothing in this API.
    assert!(timeline_json(&[&s(f)]).is_empty());
}

#[test]
fn conversation_filter_table_and_analyze_json() {
    let f = s("conv_followup_after_disconnect.har");
    let convs = timeline_json(&[&f]);
    let id = convs[0]["id"].as_str().unwrap().to_uppercase();
    assert_eq!(timeline_json(&["--conversation", &id, &f]).len(), 1, "ids match case-insensitively");
    assert!(timeline_json(&["--conversation", "00000000-0000-0000-0000-000000000000", &f]).is_empty());

    let o = harken(&["timeline", &f]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("active → disconnected"), "{out}");
    assert!(out.contains("after end (disconnected since conv_followup_after_disconnect.har#4)"), "{out}");
    assert!(!out.contains(&token_of(&f)), "the table never prints the bearer token");

    let doc = json(&["analyze", "--format", "json", &f]);
    let convs = doc["conversations"].as_array().unwrap();
    assert_eq!(convs.len(), 1);
    for k in ["id", "first_seen", "last_seen", "state", "events"] {
        assert!(convs[0].get(k).is_some(), "conversations[0].{k}");
    }
    for k in ["time", "input", "index", "method", "path", "status", "credential", "state"] {
        assert!(convs[0]["events"][0].get(k).is_some(), "events[0].{k}");
    }
    assert!(!serde_json::to_string(&doc).unwrap().contains(&token_of(&f)));
    let doc = json(&["analyze", "--format", "json", "--profile", &s("profiles/orders.toml"), &s("generic_orders.har")]);
    assert_eq!(doc["conversations"].as_array().unwrap().len(), 2);
}

#[test]
fn bad_profiles_are_errors_that_explain() {
    let (_d, p) = crate::common::temp_file("bad.toml", b"[[key]]\npath = \"/v1/orders/{id}\"\n");
    let o = harken(&["timeline", "--profile", p.to_str().unwrap(), &s("generic_orders.har")]);
    assert_eq!(o.status.code(), Some(2));
    let err = crate::common::stderr(&o);
    assert!(err.contains("bad.toml") && err.contains("{conversation}"), "{err}");
    // Built-in names work as --profile values.
    assert!(harken(&["timeline", "--profile", "generic", &s("conv_split_a.har")]).status.success());
    assert!(Profile::load(&PathBuf::from("genesys")).is_ok());
}

/// The bearer token sent in a sample (to prove it never appears in output).
fn token_of(path: &str) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let i = text.find("\"bearer ").unwrap() + 8;
    text[i..].split('"').next().unwrap().to_string()
}

// ---- adversarial captures (tests/fixtures/timeline/gen.py writes them) ----

fn fx(name: &str) -> String {
    crate::common::fixture(&format!("timeline/{name}")).to_string_lossy().into_owned()
}

/// (index or "index.message", state_before, state, evidence present) of every event.
fn walk(conv: &Value) -> Vec<(String, String, String, bool)> {
    conv["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let at = match e["websocket"]["message"].as_u64() {
                Some(m) => format!("{}.{m}", e["index"]),
                None => e["index"].to_string(),
            };
            (
                at,
                e["state_before"].as_str().unwrap().to_string(),
                e["state"].as_str().unwrap().to_string(),
                e.get("evidence").is_some(),
            )
        })
        .collect()
}

fn w(at: &str, before: &str, after: &str, evidence: bool) -> (String, String, String, bool) {
    (at.into(), before.into(), after.into(), evidence)
}

#[test]
fn refused_failed_or_unanswered_disconnects_change_nothing() {
    let convs = timeline_json(&[&fx("failed_disconnects.har")]);
    assert_eq!(convs.len(), 1);
    let ev = convs[0]["events"].as_array().unwrap();
    let statuses: Vec<Option<u64>> = ev.iter().map(|e| e["status"].as_u64()).collect();
    assert_eq!(statuses, vec![Some(200), Some(403), Some(404), Some(500), None, Some(403), Some(503), Some(200)]);
    for (i, e) in ev.iter().enumerate() {
        assert_eq!(e["state"], "active", "event {i}");
        assert_eq!(e["proof"]["index"], 0, "event {i}: the GET stays the proof");
        assert_eq!(e["after_end"], false, "event {i}");
        if (1..7).contains(&i) {
            assert!(e.get("evidence").is_none(), "event {i} is no evidence: {e}");
        }
    }
    assert_eq!(ev[7]["evidence"], "message sent");
}

#[test]
fn participants_one_at_a_time_and_inconclusive_replies() {
    let convs = timeline_json(&[&fx("participants.har")]);
    assert_eq!(convs.len(), 2);
    assert_eq!(
        walk(&convs[0]),
        vec![
            w("0", "unknown", "active", true),          // connected + alerting
            w("1", "active", "active", true),           // one disconnected, the other still connected
            w("2", "active", "active", false),          // disconnected + parked: no conclusion
            w("3", "active", "active", false),          // dialing alone: no conclusion
            w("4", "active", "active", false),          // a number, null, "": no conclusion
            w("5", "active", "disconnected", true),     // endTime set
            w("6", "disconnected", "terminated", true), // all terminated, endTime
        ]
    );
    assert_eq!(convs[0]["events"][5]["proof"]["index"], 5);
    // C: a parked communication, then no participants at all: unknown, no proof.
    assert_eq!(walk(&convs[1]), vec![w("7", "unknown", "unknown", false), w("8", "unknown", "unknown", false)]);
    assert!(convs[1]["events"].as_array().unwrap().iter().all(|e| e["proof"].is_null()));
}

#[test]
fn delete_and_disconnect_accepted_end_the_conversation_refused_ones_do_not() {
    let convs = timeline_json(&[&fx("teardown.har")]);
    let by_id = |suffix: &str| convs.iter().find(|c| c["id"].as_str().unwrap().ends_with(suffix)).unwrap();
    let d = by_id("00d");
    assert_eq!(walk(d), vec![w("0", "unknown", "disconnected", true), w("1", "disconnected", "disconnected", false)]);
    assert_eq!(d["events"][0]["evidence"], "DELETE conversation accepted");
    assert_eq!(d["events"][1]["after_end"], true);
    let e = by_id("00e");
    assert_eq!(walk(e), vec![w("2", "unknown", "disconnected", true)]);
    assert_eq!(e["events"][0]["evidence"], "POST …/disconnect accepted");
    let f = by_id("00f");
    assert_eq!(walk(f), vec![w("3", "unknown", "unknown", false), w("4", "unknown", "unknown", false)]);
    assert_eq!(f["state"], "unknown");
}

#[test]
fn notifications_out_of_order_two_conversations_one_socket_upper_case_ids_and_ties() {
    let f = fx("notifications.har");
    let convs = timeline_json(&[&f]);
    assert_eq!(convs.len(), 2, "the heartbeat, the garbled and the binary frames belong to none");
    let (h, j) = (&convs[0], &convs[1]);
    assert_eq!(h["id"], "0a1b2c3d-0000-4000-8000-0000000000a1", "ids are keyed in lower case");
    // Entries 1 and 2 are not in time order in the file; the walk is.
    assert_eq!(
        walk(h),
        vec![
            w("0.1", "unknown", "active", true),
            w("2", "active", "active", true), // upper-case id in the path: same conversation
            w("0.3", "active", "disconnected", true),
            w("1", "disconnected", "disconnected", false),
        ]
    );
    assert_eq!(h["events"][3]["after_end"], true);
    assert_eq!(h["events"][3]["proof_before"]["message"], 3);
    // Entries 3 and 4 start at the same instant: entry order decides.
    assert_eq!(
        walk(j),
        vec![
            w("0.2", "unknown", "active", true),
            w("0.4", "active", "active", true), // one participant disconnected, one connected
            w("0.7", "active", "active", false), // eventBody is a string
            w("3", "active", "active", true),
            w("4", "active", "disconnected", true),
        ]
    );
    assert_eq!(j["events"][0]["time"], j["first_seen"]);
    // --conversation takes the id in any case.
    let one = timeline_json(&["--conversation", "0A1B2C3D-0000-4000-8000-0000000000A2", &f]);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["id"], j["id"]);
    // The library answers the same for each exchange.
    let cap = ingest::load(&[PathBuf::from(&f)], IngestOptions::default());
    let tl = Timeline::build(&cap);
    let met = tl.state_met(&Origin::entry(0, 1)).unwrap();
    assert_eq!((met.state, met.proof), (ConvState::Disconnected, Some(Origin::entry(0, 0))));
    assert!(tl.state_met(&Origin::entry(0, 0)).is_none(), "the socket itself is in no conversation");
}

#[test]
fn uuids_of_users_integrations_and_settings_are_not_conversations() {
    let f = fx("not_conversations.har");
    assert!(timeline_json(&[&f]).is_empty());
    let doc = json(&["analyze", "--format", "json", &f]);
    assert_eq!(doc["conversations"].as_array().unwrap().len(), 0);
}

#[test]
fn bodies_that_are_not_json_prove_nothing() {
    let convs = timeline_json(&[&fx("bad_bodies.har")]);
    assert_eq!(convs.len(), 1, "an agentless reply whose conversationId is an object names nothing");
    let ev = convs[0]["events"].as_array().unwrap();
    assert_eq!(ev.len(), 9);
    assert!(ev.iter().all(|e| e["state"] == "unknown" && e["proof"].is_null() && e.get("evidence").is_none()));
    // Every format runs on it.
    for fmt in ["table", "ndjson", "csv"] {
        let o = harken(&["timeline", "--format", fmt, &fx("bad_bodies.har")]);
        assert!(o.status.success(), "{fmt}: {}", crate::common::stderr(&o));
    }
}

#[test]
fn other_api_areas_that_address_a_conversation_join_its_timeline() {
    let cap = {
        let mut c = ingest::load(&[PathBuf::from(fx("teardown.har"))], IngestOptions::default());
        let id = "0a1b2c3d-0000-4000-8000-00000000000d";
        let mut extra = c.exchanges[1].clone();
        extra.origin.index = 99;
        extra.request.url = format!("https://api.mypurecloud.com/api/v2/quality/conversations/{id}/evaluations");
        c.exchanges.push(extra);
        c
    };
    let tl = Timeline::build(&cap);
    let conv = tl.conversation_of(&Origin::entry(0, 99)).expect("quality/conversations/{id} is keyed");
    assert!(conv.id.ends_with("00d"));
    assert_eq!(tl.state_met(&Origin::entry(0, 99)).unwrap().state, ConvState::Disconnected);
}

#[test]
fn profiles_with_errors_name_the_file_and_the_rule_and_empty_ones_are_refused() {
    let cases: &[(&str, &str, &[&str])] = &[
        ("empty.toml", "", &["empty.toml", "no [[key]] rule"]),
        ("states_only.toml", "[[state]]\npath = \"/x/{conversation}\"\nset = \"active\"\n", &["no [[key]] rule"]),
        ("ignore.toml", "[[key]]\npath = \"/o/{conversation}\"\n[[ignore]]\npath = \"/a/{x}y\"\n", &["[[ignore]] #1", "{x}y"]),
        ("ws.toml", "[websocket]\ntopic = \"channel\"\n[[key]]\ntopic = \"o.{conversation}\"\n", &["[websocket] topic"]),
        ("state.toml", "[[key]]\npath = \"/o/{conversation}\"\n[[state]]\npath = \"/o/{conversation}\"\nset = \"active\"\n[[state]]\npath = \"/o/{conversation}\"\nstatus = \"2xy\"\nset = \"active\"\n", &["[[state]] #2", "2xy"]),
        ("field.toml", "[[key]]\npaths = \"/o/{conversation}\"\n", &["field.toml", "line 2", "paths"]),
        ("syntax.toml", "[[key]\n", &["syntax.toml", "line 1"]),
        ("regex.toml", "id_pattern = \"(\"\n[[key]]\npath = \"/o/{conversation}\"\n", &["id_pattern"]),
    ];
    for (name, text, wants) in cases {
        let (_d, p) = crate::common::temp_file(name, text.as_bytes());
        for cmd in ["timeline", "analyze"] {
            let o = harken(&[cmd, "--profile", p.to_str().unwrap(), &s("generic_orders.har")]);
            assert_eq!(o.status.code(), Some(2), "{cmd} {name}");
            let err = crate::common::stderr(&o);
            assert!(!err.contains("panicked"), "{err}");
            for want in *wants {
                assert!(err.contains(want), "{cmd} {name}: {want:?} not in {err}");
            }
        }
    }
    let o = harken(&["timeline", "--profile", "genesis", &s("generic_orders.har")]);
    assert!(crate::common::stderr(&o).contains("built-in profiles: genesys, generic"));
}
