//! The output layer: the one escape boundary in every command and format, and quiet exits on a
//! closed pipe.

use crate::common::{fixture, harken, stderr, stdout};
use harken::report::escape::needs_escape;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const COMMANDS: [&str; 4] = ["exchanges", "analyze", "tokens", "timeline"];
const FORMATS: [&str; 4] = ["table", "json", "ndjson", "csv"];

/// The first character that must never be printed raw (a raw line feed is allowed: it ends
/// lines and separates JSON tokens; one inside a value is caught by the per-format checks).
fn raw(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|(_, c)| needs_escape(*c) && *c != '\n')
}

/// The hostile capture copied under a hostile file name (ESC, CR, BEL, U+202E, U+2028).
fn hostile_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let name = OsStr::from_bytes("cap\x1b[31m\r\x07\u{202e}\u{2028}\u{61c}.har".as_bytes());
    let path = dir.path().join(name);
    std::fs::copy(fixture("hostile/hostile.har"), &path).unwrap();
    (dir, path)
}

fn run(args: &[&OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_harken")).args(args).output().expect("run harken")
}

#[test]
fn hostile_characters_never_arrive_raw() {
    let (_dir, path) = hostile_copy();
    let profile = fixture("hostile/hostile.toml");
    for cmd in COMMANDS {
        for format in FORMATS {
            let args: Vec<&OsStr> = vec![
                OsStr::new(cmd),
                OsStr::new("--format"),
                OsStr::new(format),
                OsStr::new("--profile"),
                profile.as_os_str(),
                path.as_os_str(),
            ];
            let o = run(&args);
            let (out, err) = (stdout(&o), stderr(&o));
            assert_eq!(o.status.code(), Some(0), "{cmd} {format}: {err}");
            if let Some((at, c)) = raw(&out).or(raw(&err)) {
                panic!("{cmd} --format {format}: U+{:04X} raw at {at}:\n{out}\n{err}", c as u32);
            }
            check_shape(cmd, format, &out);
            // Not vacuous: the hostile text is there, escaped.
            let visible = if format.contains("json") { "\\u202e" } else { "\\u{202e}" };
            assert!(out.contains(visible), "{cmd} --format {format}: no escaped U+202E in\n{out}");
        }
    }
}

/// Every record is one line: ndjson lines parse, csv records are one line each, json parses.
fn check_shape(cmd: &str, format: &str, out: &str) {
    match format {
        "ndjson" => {
            for l in out.lines() {
                serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{cmd}: bad line {l:?}: {e}"));
            }
        }
        "json" => {
            serde_json::from_str::<serde_json::Value>(out).unwrap_or_else(|e| panic!("{cmd}: not JSON: {e}"));
        }
        "csv" => {
            let records = csv::Reader::from_reader(out.as_bytes()).records().count();
            assert_eq!(out.lines().count(), records + 1, "{cmd}: a CSV record spans lines:\n{out}");
        }
        _ => {}
    }
}

#[test]
fn json_values_round_trip_the_hostile_text() {
    let o = harken(&["exchanges", "--format", "ndjson", fixture("hostile/hostile.har").to_str().unwrap()]);
    let rows: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let method = rows[0]["method"].as_str().unwrap();
    assert!(method.starts_with("P\x1b[31m") && method.contains('\u{202e}'), "{method:?}");
}

#[test]
fn an_error_naming_a_hostile_file_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join(OsStr::from_bytes("gone\x1b[2J\u{202e}.har".as_bytes()));
    let o = run(&[OsStr::new("exchanges"), missing.as_os_str()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(raw(&err).is_none() && err.contains("\\x1b[2J"), "{err:?}");
}

/// A HAR of `n` refused requests, each with its own token and conversation.
fn big_har(dir: &Path, n: usize) -> PathBuf {
    let mut s = String::from(r#"{"log":{"version":"1.2","creator":{"name":"t","version":"1"},"entries":["#);
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        let conv = format!("{:08x}-0000-4000-8000-{:012x}", i, i);
        s.push_str(&format!(
            r#"{{"startedDateTime":"2025-05-01T09:{:02}:{:02}.000Z","time":5,"request":{{"method":"GET","url":"https://api.mypurecloud.com/api/v2/conversations/{conv}","httpVersion":"HTTP/1.1","headers":[{{"name":"Authorization","value":"Bearer tok{i:0>40}"}}],"queryString":[],"cookies":[],"headersSize":-1,"bodySize":0}},"response":{{"status":401,"statusText":"","httpVersion":"HTTP/1.1","headers":[],"cookies":[],"content":{{"size":2,"mimeType":"application/json","text":"{{}}"}},"redirectURL":"","headersSize":-1,"bodySize":-1}},"cache":{{}},"timings":{{"send":1,"wait":3,"receive":1}}}}"#,
            (i / 60) % 60,
            i % 60
        ));
    }
    s.push_str("]}}");
    let p = dir.join("big.har");
    std::fs::write(&p, s).unwrap();
    p
}

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let big = big_har(dir.path(), 1500);
    for cmd in COMMANDS {
        for format in FORMATS {
            let mut child = Command::new(env!("CARGO_BIN_EXE_harken"))
                .args([cmd, "--format", format])
                .arg(&big)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            // Read one line, like `| head -1`, then close the pipe.
            let mut first = String::new();
            BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
            let o = child.wait_with_output().unwrap();
            assert!(!first.is_empty(), "{cmd} {format}: no output");
            assert_eq!(o.status.code(), Some(0), "{cmd} --format {format} | head -1: {}", stderr(&o));
            assert_eq!(stderr(&o), "", "{cmd} --format {format} | head -1");
        }
    }
}

#[test]
fn every_analysing_command_takes_the_shared_flags() {
    let cat = fixture("orders-openapi3.yaml");
    let s = crate::common::sample("generic_orders.har");
    for cmd in COMMANDS {
        let o = harken(&[
            cmd,
            "--catalog",
            cat.to_str().unwrap(),
            "--profile",
            "generic",
            "--since",
            "2000-01-01",
            "--until",
            "2100-01-01",
            "--color",
            "never",
            s.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{cmd}: {}", stderr(&o));
        // A wrong flag fails before any work, with exit 2.
        let o = harken(&[cmd, "--since", "yesterday", s.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert!(stderr(&o).contains("--since"), "{cmd}: {}", stderr(&o));
        let o = harken(&[cmd, "--jwks", "/nonexistent.json", s.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
    }
    let _ = std::io::stdout().flush();
}

#[test]
fn color_is_asked_for_or_absent() {
    let s = crate::common::sample("cause_token_expired.har");
    let s = s.to_str().unwrap();
    for cmd in COMMANDS {
        let always = harken(&[cmd, "--color", "always", s]);
        assert_eq!(always.status.code(), Some(0), "{cmd}");
        let never = harken(&[cmd, "--color", "never", s]);
        let no_color = Command::new(env!("CARGO_BIN_EXE_harken")).args([cmd, s]).env("NO_COLOR", "1").output().unwrap();
        assert!(!never.stdout.contains(&0x1b), "{cmd} --color never: {}", stdout(&never));
        assert!(!no_color.stdout.contains(&0x1b), "{cmd} with NO_COLOR=1: {}", stdout(&no_color));
        // Colour never touches machine formats.
        let json = harken(&[cmd, "--color", "always", "--format", "json", s]);
        assert!(!json.stdout.contains(&0x1b), "{cmd} json");
        if cmd != "timeline" {
            assert!(always.stdout.contains(&0x1b), "{cmd} --color always: {}", stdout(&always));
        }
    }
}

#[test]
fn bash_sources_the_completions_and_man_renders_the_page() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let o = harken(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        assert!(stdout(&o).contains("harken"), "{shell}");
    }
    let script = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(script.path(), harken(&["completions", "bash"]).stdout).unwrap();
    let o = Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p harken", script.path().display()))
        .output()
        .expect("bash");
    assert!(o.status.success() && stdout(&o).contains("_harken"), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");

    let page = harken(&["man"]).stdout;
    assert!(
        page.starts_with(b".ie") || page.starts_with(b".TH"),
        "{}",
        String::from_utf8_lossy(&page[..40.min(page.len())])
    );
    let have_man = Command::new("man").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have_man {
        eprintln!("note: `man` is not installed; the roff page was checked, not rendered");
        return;
    }
    let mut child = Command::new("man")
        .args(["-l", "-"])
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "80")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&page).unwrap();
    let o = child.wait_with_output().unwrap();
    let text = stdout(&o);
    assert!(o.status.success() && text.contains("NAME") && text.contains("analyze"), "{text}\n{}", stderr(&o));
}
