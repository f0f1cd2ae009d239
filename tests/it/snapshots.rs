//! What a person reads: snapshots (insta) of the table output of each command on the samples,
//! so a change to it is a reviewed diff (`cargo insta review`, or `INSTA_UPDATE=always cargo
//! test` then `git diff`), never a surprise; and the table on a real 80-column terminal.

use crate::common::*;
use std::process::Command;

/// A command's table output (stdout), run from the repository root on relative sample paths
/// so the snapshot names them the same on every machine.
fn table(args: &[&str]) -> String {
    let o = harken(args);
    assert!(matches!(o.status.code(), Some(0 | 1)), "harken {args:?}: {}", stderr(&o));
    stdout(&o)
}

const FOLLOWUP: &str = "samples/forum_followup_after_disconnect.har";
const EXPIRED: &str = "samples/cause_token_expired.har";

#[test]
fn analyze_table() {
    insta::assert_snapshot!(table(&["analyze", FOLLOWUP]));
}

#[test]
fn analyze_table_token_expired() {
    insta::assert_snapshot!(table(&["analyze", EXPIRED]));
}

#[test]
fn exchanges_table() {
    insta::assert_snapshot!(table(&["exchanges", FOLLOWUP]));
}

#[test]
fn tokens_table() {
    insta::assert_snapshot!(table(&["tokens", EXPIRED]));
}

#[test]
fn timeline_table() {
    insta::assert_snapshot!(table(&["timeline", FOLLOWUP]));
}

#[test]
fn stats_table() {
    insta::assert_snapshot!(table(&["stats", "--by", "endpoint,status", FOLLOWUP, EXPIRED]));
}

/// `script` (util-linux) runs harken on a pseudo-terminal of 80 columns, or None (skipped)
/// when it is absent; under CI (HARKEN_CORPUS set) a missing `script` fails.
fn on_terminal(cols: u16, env: &str, args: &str) -> Option<String> {
    let have = Command::new("script").arg("--version").output().map(|o| o.status.success()).unwrap_or(false);
    if !have {
        if std::env::var_os("HARKEN_CORPUS").is_some() {
            panic!("HARKEN_CORPUS is set but `script` (util-linux) is missing");
        }
        eprintln!("note: terminal tests skipped: no `script` (util-linux)");
        return None;
    }
    let bin = env!("CARGO_BIN_EXE_harken");
    let cmd = format!("stty cols {cols} rows 50; {env} {bin} {args}");
    let o = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(root())
        .env_remove("NO_COLOR")
        .output()
        .expect("run script");
    assert!(o.status.success() || o.status.code() == Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    Some(String::from_utf8_lossy(&o.stdout).replace("\r\n", "\n"))
}

/// Every RFC 3339 timestamp-looking run in `text` (`2024-05-01T10:00:00…`), as written.
fn stamps(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?").unwrap();
    re.find_iter(text).map(|m| m.as_str().to_string()).collect()
}

#[test]
fn on_an_80_column_terminal_timestamps_do_not_wrap() {
    for cmd in ["timeline", "exchanges", "tokens"] {
        let args = format!("{cmd} --color never {FOLLOWUP} {EXPIRED}");
        let Some(tty) = on_terminal(80, "", &args) else { return };
        let piped = stdout(&harken(&[cmd, "--color", "never", FOLLOWUP, EXPIRED]));
        let want = stamps(&piped);
        assert!(!want.is_empty(), "{cmd}: no timestamps in\n{piped}");
        // The same timestamps, each whole on one line: none cut by wrapping.
        assert_eq!(stamps(&tty), want, "{cmd} on 80 columns:\n{tty}");
    }
}

#[test]
fn progress_shows_on_a_terminal_and_never_in_a_pipe() {
    let Some(tty) = on_terminal(80, "HARKEN_PROGRESS_DELAY_MS=0", &format!("exchanges --color never {FOLLOWUP}"))
    else {
        return;
    };
    assert!(tty.contains("reading 1 input"), "no progress line on a terminal:\n{tty}");
    // The streaming path (one input, NDJSON, stdout not a terminal) counts too.
    let Some(tty) =
        on_terminal(80, "HARKEN_PROGRESS_DELAY_MS=0", &format!("exchanges --format ndjson {FOLLOWUP} > /dev/null"))
    else {
        return;
    };
    assert!(tty.contains("reading 1 input"), "no progress line while streaming:\n{tty}");
    let o = harken(&["exchanges", FOLLOWUP]);
    assert!(stderr(&o).is_empty(), "progress in a pipe: {}", stderr(&o));
}
