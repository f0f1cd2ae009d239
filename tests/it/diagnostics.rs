//! docs/diagnostics.md and docs/output.md against the registry of causes (src/diagnose/mod.rs)
//! and each rule's doc comment: adding, removing, renaming or re-ranking a cause without the
//! docs fails here.

use crate::common::root;
use harken::diagnose::{Cause, CAUSES};

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The text of a `## Title` section of a markdown file.
fn section<'a>(md: &'a str, title: &str) -> &'a str {
    let start = md.find(&format!("\n## {title}\n")).unwrap_or_else(|| panic!("no section {title}"));
    let rest = &md[start + title.len() + 5..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

/// Backticked words of a text that are cause names, in order of first appearance.
fn causes_named(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 && CAUSES.iter().any(|c| c.name() == part) && !out.iter().any(|o| o == part) {
            out.push(part.to_string());
        }
    }
    out
}

fn names() -> Vec<String> {
    CAUSES.iter().map(|c: &Cause| c.name().to_string()).collect()
}

const PARTS: [&str; 4] = ["**What:**", "**Why:**", "**Example:**", "**Fix:**"];

#[test]
fn every_cause_has_a_rule_file_with_what_why_example_fix() {
    for c in CAUSES {
        let name = c.name();
        assert_eq!(serde_json::to_value(c).unwrap(), name, "the JSON name of {c:?}");
        let src = read(&format!("src/diagnose/{name}.rs"));
        let doc: String = src.lines().filter_map(|l| l.strip_prefix("//!")).collect::<Vec<_>>().join("\n");
        assert!(
            doc.trim_start().starts_with(&format!("`{name}`:")),
            "src/diagnose/{name}.rs must start `//! `{name}`: …`"
        );
        for p in PARTS {
            assert!(doc.contains(p), "src/diagnose/{name}.rs: no {p} in its doc comment");
        }
    }
}

#[test]
fn docs_diagnostics_has_one_section_per_cause_with_what_why_example_fix() {
    let md = read("docs/diagnostics.md");
    let causes = section(&md, "Causes");
    let headings: Vec<&str> = causes.lines().filter_map(|l| l.strip_prefix("### ")).map(str::trim).collect();
    let mut sorted_docs: Vec<String> = headings.iter().map(|s| s.to_string()).collect();
    sorted_docs.sort();
    let mut sorted_registry = names();
    sorted_registry.sort();
    assert_eq!(sorted_docs, sorted_registry, "docs/diagnostics.md `### cause` sections vs the registry");
    for name in names() {
        let start = causes.find(&format!("### {name}\n")).unwrap();
        let body = &causes[start..];
        let body = &body[4..body[4..].find("\n### ").map(|i| i + 4).unwrap_or(body.len())];
        for p in PARTS {
            assert!(body.contains(&format!("- {p}")), "docs/diagnostics.md ### {name}: no `- {p}` bullet");
        }
    }
}

#[test]
fn docs_rank_causes_in_registry_order() {
    let md = read("docs/diagnostics.md");
    assert_eq!(causes_named(section(&md, "Ranking")), names(), "docs/diagnostics.md ## Ranking vs the registry order");
    let out = read("docs/output.md");
    let line = &out[out.find("\nCauses: ").expect("docs/output.md lists the causes")..];
    let line = &line[..line.find(".\n").unwrap_or(line.len())];
    let mut listed = causes_named(line);
    listed.sort();
    let mut all = names();
    all.sort();
    assert_eq!(listed, all, "docs/output.md `Causes:` vs the registry");
}
