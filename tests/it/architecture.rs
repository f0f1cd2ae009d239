//! The shape of the source: the import graph of src/ has no cycles.
//!
//! Every file under src/ is a module (`a/mod.rs` is `a`). A module depends on another when it
//! names it: `crate::x::y` and `super::…` paths (in `use` lines or inline), and `child::…`
//! paths to the modules it declares. A path is resolved to the longest module prefix that is a
//! file. Test code (`tests.rs` files and everything from the first `#[cfg(test)]` of a file)
//! is left out: tests may look anywhere.
//!
//! A folder is one unit with its `mod.rs`: a parent may use its children and children the
//! items their parent holds (the usual Rust layout). So two graphs are checked: every module
//! with the parent/child edges left out (siblings and cousins must not form a circle), and the
//! top-level units (`analysis`, `diagnose`, `ingest`, `report`, …) with each folder collapsed.

use crate::common::root;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

fn modules(dir: &Path, prefix: &Module, out: &mut BTreeMap<Module, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            let mut m = prefix.clone();
            m.push(name);
            modules(&p, &m, out);
        } else if p.extension().is_some_and(|e| e == "rs") && name != "tests" {
            let mut m = prefix.clone();
            if name != "mod" && name != "lib" && name != "main" {
                m.push(name.clone());
            }
            if name == "main" {
                continue; // the binary, not part of the library's graph
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let text = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            out.insert(m, strip_comments(&text));
        }
    }
}

/// Remove `//` comments (doc comments mention paths that are not dependencies).
fn strip_comments(s: &str) -> String {
    s.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Expand `a::{b, c::{d, e}}` into `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else { return vec![tree.to_string()] };
    let base = tree[..open].trim_end_matches("::").trim();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| if base.is_empty() { p } else { format!("{base}::{p}") })
        .collect()
}

/// Paths a module names: every `use` tree, and inline `crate::…`/`super::…`/`child::…` paths.
fn paths(text: &str, children: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        let Some(tree) =
            ["use ", "pub use ", "pub(crate) use ", "pub(super) use "].iter().find_map(|p| t.strip_prefix(p))
        else {
            continue;
        };
        let mut stmt = tree.to_string();
        while !stmt.contains(';') {
            match lines.next() {
                Some(l) => stmt.push_str(l),
                None => break,
            }
        }
        let stmt = stmt.split(';').next().unwrap_or("").replace(char::is_whitespace, "");
        out.extend(expand(&stmt));
    }
    let bytes: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let start_ok = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_' || bytes[i - 1] == ':');
        if start_ok && (bytes[i].is_alphabetic() || bytes[i] == '_') {
            let mut j = i;
            let mut path = String::new();
            loop {
                let s = j;
                while j < bytes.len() && (bytes[j].is_alphanumeric() || bytes[j] == '_') {
                    j += 1;
                }
                path.extend(&bytes[s..j]);
                if j + 2 < bytes.len()
                    && bytes[j] == ':'
                    && bytes[j + 1] == ':'
                    && (bytes[j + 2].is_alphabetic() || bytes[j + 2] == '_')
                {
                    path.push_str("::");
                    j += 2;
                } else {
                    break;
                }
            }
            let first = path.split("::").next().unwrap_or("");
            if path.contains("::") && (first == "crate" || first == "super" || children.contains(first)) {
                out.push(path);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

/// The module a path names, from module `at`.
fn resolve(path: &str, at: &Module, known: &BTreeMap<Module, String>) -> Option<Module> {
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Module = match segs.first() {
        Some(&"crate") => {
            segs.remove(0);
            Vec::new()
        }
        Some(&"super") => {
            let mut b = at.clone();
            while segs.first() == Some(&"super") {
                segs.remove(0);
                b.pop();
            }
            b
        }
        Some(&"self") => {
            segs.remove(0);
            at.clone()
        }
        _ => at.clone(),
    };
    let mut best = known.contains_key(&base).then(|| base.clone());
    for s in segs {
        base.push(s.to_string());
        if known.contains_key(&base) {
            best = Some(base.clone());
        } else {
            break;
        }
    }
    best
}

fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let mut known = BTreeMap::new();
    modules(&root().join("src"), &Vec::new(), &mut known);
    let mut g = BTreeMap::new();
    for (m, text) in &known {
        let children: BTreeSet<String> =
            known.keys().filter(|k| k.len() == m.len() + 1 && k.starts_with(m)).map(|k| k[m.len()].clone()).collect();
        let mut deps = BTreeSet::new();
        for p in paths(text, &children) {
            if let Some(t) = resolve(&p, m, &known) {
                // A module naming its own ancestors' items is fine only through a real edge;
                // the crate root and self are not dependencies.
                if &t != m && !t.is_empty() {
                    deps.insert(t);
                }
            }
        }
        g.insert(m.clone(), deps);
    }
    g
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(g: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct T<'a> {
        g: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on: BTreeSet<&'a Module>,
        out: Vec<Vec<Module>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a Module) {
        let n = t.index.len();
        t.index.insert(v, n);
        t.low.insert(v, n);
        t.stack.push(v);
        t.on.insert(v);
        for w in t.g.get(v).into_iter().flatten() {
            let Some((w, _)) = t.g.get_key_value(w) else { continue };
            if !t.index.contains_key(w) {
                visit(t, w);
                let l = t.low[w].min(t.low[v]);
                t.low.insert(v, l);
            } else if t.on.contains(w) {
                let l = t.index[w].min(t.low[v]);
                t.low.insert(v, l);
            }
        }
        if t.low[v] == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                scc.push(w.clone());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                t.out.push(scc);
            }
        }
    }
    let mut t =
        T { g, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), on: BTreeSet::new(), out: Vec::new() };
    for v in g.keys() {
        if !t.index.contains_key(v) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn the_import_graph_of_src_has_no_cycles() {
    let full = graph();
    assert!(full.len() > 30, "only {} modules found", full.len());
    // The checker sees real edges.
    let analysis = full.get(&vec!["analysis".to_string()]).expect("analysis module");
    assert!(analysis.contains(&vec!["diagnose".to_string()]), "{analysis:?}");
    // Modules, without parent/child edges.
    let mut g: BTreeMap<Module, BTreeSet<Module>> = full
        .iter()
        .map(|(m, deps)| (m.clone(), deps.iter().filter(|d| !d.starts_with(m) && !m.starts_with(d)).cloned().collect()))
        .collect();
    // Top-level units, each folder collapsed.
    for (m, deps) in full.iter().filter(|(m, _)| !m.is_empty()) {
        let unit = vec![format!("[{}]", m[0])];
        let entry = g.entry(unit.clone()).or_default();
        entry.extend(deps.iter().map(|d| vec![format!("[{}]", d[0])]).filter(|d| *d != unit));
    }
    let found = cycles(&g);
    if std::env::var_os("HARKEN_GRAPH").is_some() {
        for (m, d) in &g {
            eprintln!("{} -> {}", m.join("::"), d.iter().map(|x| x.join("::")).collect::<Vec<_>>().join(" "));
        }
    }
    let show: Vec<String> =
        found.iter().map(|c| c.iter().map(|m| m.join("::")).collect::<Vec<_>>().join(" <-> ")).collect();
    assert!(found.is_empty(), "import cycles in src/:\n{}", show.join("\n"));
}

#[test]
fn the_checker_finds_a_cycle() {
    let m = |s: &str| vec![s.to_string()];
    let g: BTreeMap<Module, BTreeSet<Module>> =
        [(m("a"), [m("b")].into()), (m("b"), [m("c")].into()), (m("c"), [m("a")].into()), (m("d"), [m("a")].into())]
            .into();
    assert_eq!(cycles(&g).len(), 1);
    assert_eq!(expand("super::{a, b::{c, d}}"), vec!["super::a", "super::b::c", "super::b::d"]);
}
