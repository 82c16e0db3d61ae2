//! `cargo xtask modules [DIR]`: fail if a crate of the workspace (at DIR, default this one) has
//! a module cycle: modules that reach each other through `crate::`, `super::`, `self::` or child
//! paths. A small lexer rather than syn, since paths are all it needs to see.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The identifiers, `::` and other punctuation of `src`, without comments, literals or lifetimes.
pub fn lex(src: &str) -> Vec<&str> {
    let b = src.as_bytes();
    let at = |k: usize| b.get(k).copied().unwrap_or(0);
    let (mut i, mut out) = (0, Vec::new());
    while i < b.len() {
        let start = i;
        match b[i] {
            c if c.is_ascii_whitespace() => i += 1,
            b'/' if at(i + 1) == b'/' => i = find(b, i, b"\n"),
            b'/' if at(i + 1) == b'*' => i = comment_end(b, i),
            b'"' => i = string_end(b, i + 1),
            // '"' and '\'' are chars, so they open no string; 'a alone is a lifetime.
            b'\'' if at(i + 1) == b'\\' => i = find(b, i + 3, b"'") + 1,
            b'\'' => {
                let len = src[i + 1..].chars().next().map_or(0, char::len_utf8);
                i += if at(i + 1 + len) == b'\'' { len + 2 } else { 1 };
            }
            c if is_word(c) => {
                while is_word(at(i)) {
                    i += 1;
                }
                let word = &src[start..i];
                let hashes = b[i..].iter().take_while(|&&c| c == b'#').count();
                if matches!(word, "r" | "br" | "cr") && at(i + hashes) == b'"' {
                    let close = [b"\"".as_slice(), &b"#".repeat(hashes)].concat();
                    i = find(b, i + hashes + 1, &close) + close.len();
                } else if matches!(word, "b" | "c") && at(i) == b'"' {
                    i = string_end(b, i + 1);
                } else if word == "r" && hashes == 1 {
                    i += 1; // r#ident: the identifier is next
                } else if !c.is_ascii_digit() {
                    out.push(word);
                }
            }
            _ => {
                let len = src[i..].chars().next().map_or(1, char::len_utf8);
                i += if b[i..].starts_with(b"::") { 2 } else { len };
                out.push(&src[start..i]);
            }
        }
    }
    out
}

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

fn is_ident(tok: &str) -> bool {
    let first = tok.bytes().next().unwrap_or(b'0');
    is_word(first) && !first.is_ascii_digit()
}

fn find(b: &[u8], from: usize, pattern: &[u8]) -> usize {
    let found = (from..b.len()).find(|&k| b[k..].starts_with(pattern));
    found.unwrap_or(b.len())
}

fn string_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

/// Block comments nest.
fn comment_end(b: &[u8], mut i: usize) -> usize {
    i += 2;
    while i < b.len() && !b[i..].starts_with(b"*/") {
        let nested = b[i..].starts_with(b"/*");
        i = if nested { comment_end(b, i) } else { i + 1 };
    }
    i + 2
}

/// The paths written from `t[i]` on, and the index after them: `a::{b, c::{self, d}}` gives
/// `a::b`, `a::c` and `a::c::d`.
fn paths_at(t: &[&str], mut i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix.to_vec();
    while let Some(&tok) = t.get(i) {
        if tok == "{" {
            i += 1;
            while i < t.len() && t[i] != "}" {
                i = paths_at(t, i, &path, out);
                while i < t.len() && t[i] != "," && t[i] != "}" {
                    i += 1; // `as name`, `*`
                }
                i += usize::from(t.get(i) == Some(&","));
            }
            return i + 1;
        } else if !is_ident(tok) {
            break;
        } else if !(tok == "self" && !prefix.is_empty() && path.len() == prefix.len()) {
            path.push(tok.to_string());
        }
        i += 1;
        if t.get(i) != Some(&"::") {
            break;
        }
        i += 1;
    }
    out.push(path);
    i
}

/// Whether the item whose `mod` is `t[i]` has `#[cfg(test)]`, looking back to the last item.
fn cfg_test(t: &[&str], i: usize) -> bool {
    let item = t[..i].iter().rposition(|s| matches!(*s, ";" | "{" | "}"));
    let attributes = &t[item.map_or(0, |p| p + 1)..i];
    let cfg_test = ["cfg", "(", "test", ")"];
    attributes.windows(4).any(|w| w == cfg_test)
}

/// One crate's modules (`crate`, `a`, `a::b`) and which refers to which.
#[derive(Debug, Default)]
pub struct Graph {
    pub modules: Vec<String>,
    pub edges: BTreeSet<(usize, usize)>,
    /// Declared modules with no file, as `a::b (src/a/b/mod.rs)`: the graph lacks them.
    pub missing: Vec<String>,
}

/// The module graph of the crate whose root file is `root`, its files looked up in `files`.
/// A `#[cfg(test)] mod tests;` (and all under it) is left out: tests use their parent.
pub fn graph_from_sources(root: &str, files: &BTreeMap<PathBuf, String>) -> Graph {
    let mut g = Graph::default();
    let root = PathBuf::from(root);
    let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
    // (module, its file, the directory of its `mod x;` files)
    let mut queue = VecDeque::from([(Vec::<String>::new(), root, dir)]);
    let mut written = Vec::new(); // each module's paths, from the crate root
    while let Some((here, file, dir)) = queue.pop_front() {
        let Some(src) = files.get(&file) else {
            let name = name(&here);
            g.missing.push(format!("{name} ({})", file.display()));
            continue;
        };
        let t = lex(src);
        let (mut inline, mut depth, mut at) = (Vec::<(String, i64)>::new(), 0, 0);
        let (mut children, mut paths) = (BTreeSet::new(), Vec::new());
        // Inside `pub use …;`: a module's facade. Re-exporting a descendant's items is not a
        // use of them, so it makes no edge (else every facade with a child that uses an item
        // of its parent would read as a cycle).
        let mut reexport = false;
        while at < t.len() {
            match t[at] {
                "use" => reexport = t[..at].ends_with(&["pub"]) || t[..at].ends_with(&[")"]),
                ";" => reexport = false,
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if inline.last().is_some_and(|l| l.1 == depth) {
                        inline.pop();
                    }
                }
                "mod" if t.get(at + 2) == Some(&"{") => inline.push((t[at + 1].into(), depth)),
                "mod" if t.get(at + 2) == Some(&";") => {
                    let m = t[at + 1];
                    let d = inline.iter().fold(dir.clone(), |d, l| d.join(&l.0)).join(m);
                    let file = [d.with_extension("rs"), d.join("mod.rs")];
                    let file = file
                        .iter()
                        .find(|f| files.contains_key(*f))
                        .unwrap_or(&file[1]);
                    if !(m == "tests" && cfg_test(&t, at)) {
                        children.extend(inline.is_empty().then(|| m.to_string()));
                        let mut child = scope(&here, &inline);
                        child.push(m.to_string());
                        queue.push_back((child, file.clone(), d));
                    }
                }
                tok if is_ident(tok)
                    && t.get(at + 1) == Some(&"::")
                    && t[..at].last() != Some(&"::") =>
                {
                    // `pub(in crate::a)` is a visibility, not a use of `a`.
                    let visibility = at >= 3 && t[at - 3..at] == ["pub", "(", "in"];
                    let mut found = Vec::new();
                    at = paths_at(&t, at, &[], &mut found);
                    if !visibility {
                        let scope = scope(&here, &inline);
                        paths.extend(found.into_iter().map(|p| (p, scope.clone(), reexport)));
                    }
                    continue;
                }
                _ => {}
            }
            at += 1;
        }
        let absolute = |(p, scope, reexport): (Vec<String>, Vec<String>, bool)| {
            let (base, skip) = match p.first().map(String::as_str) {
                Some("crate") => (Vec::new(), 1),
                Some("self") => (scope, 1),
                Some("super") => {
                    let ups = p.iter().take_while(|s| *s == "super").count();
                    (scope[..scope.len().checked_sub(ups)?].to_vec(), ups)
                }
                Some(first) if children.contains(first) => (here.clone(), 0),
                _ => return None, // another crate, std, or a local name
            };
            let mut full = base;
            full.extend(p.into_iter().skip(skip));
            let descendant = full.len() > here.len() && full.starts_with(&here);
            (!(reexport && descendant)).then_some(full)
        };
        written.push(paths.into_iter().filter_map(absolute).collect::<Vec<_>>());
        g.modules.push(name(&here));
    }
    let mut ids = BTreeMap::new();
    for (i, module) in g.modules.iter().enumerate() {
        ids.insert(module.as_str(), i);
    }
    for (from, paths) in written.iter().enumerate() {
        for full in paths {
            // `crate::a::b::Item` refers to `a::b`, the longest prefix that is a module.
            let mut prefixes = (0..=full.len()).rev();
            let to = prefixes.find_map(|n| ids.get(name(&full[..n]).as_str()));
            if let Some(&to) = to.filter(|&&to| to != from) {
                g.edges.insert((from, to));
            }
        }
    }
    g
}

/// `here` and the inline modules around a token: what `self` means there.
fn scope(here: &[String], inline: &[(String, i64)]) -> Vec<String> {
    let mut scope = here.to_vec();
    scope.extend(inline.iter().map(|l| l.0.clone()));
    scope
}

fn name(path: &[String]) -> String {
    match path {
        [] => "crate".into(),
        _ => path.join("::"),
    }
}

impl Graph {
    /// Each strongly connected component of more than one module, sorted: the shortest cycle
    /// through its first module by name, then the component's other modules, if any.
    pub fn cycles(&self) -> Vec<String> {
        let n = self.modules.len();
        let mut next = vec![Vec::new(); n];
        for &(a, b) in &self.edges {
            next[a].push(b);
        }
        let mut tarjan = Tarjan {
            index: vec![usize::MAX; n],
            low: vec![0; n],
            ..Default::default()
        };
        for v in 0..n {
            if tarjan.index[v] == usize::MAX {
                tarjan.visit(v, &next);
            }
        }
        let sccs = tarjan.found.iter().filter(|c| c.len() > 1);
        let mut lines: Vec<String> = sccs.map(|c| self.line(c, &next)).collect();
        lines.sort();
        lines
    }

    fn line(&self, scc: &[usize], next: &[Vec<usize>]) -> String {
        let start = scc.iter().copied().min_by_key(|&v| &self.modules[v]);
        let start = start.expect("not empty");
        // Breadth-first back to `start`, neighbours in name order, so the answer is stable.
        let (mut from, mut queue, mut cycle) =
            (vec![None; next.len()], VecDeque::from([start]), vec![]);
        'search: while let Some(v) = queue.pop_front() {
            let mut out: Vec<usize> = next[v].clone();
            out.sort_by_key(|&w| &self.modules[w]);
            for w in out.into_iter().filter(|w| scc.contains(w)) {
                if w == start {
                    cycle = std::iter::successors(Some(v), |&u| from[u]).collect();
                    break 'search;
                } else if from[w].is_none() {
                    from[w] = Some(v);
                    queue.push_back(w);
                }
            }
        }
        cycle.reverse();
        cycle.push(start);
        let names: Vec<&str> = cycle.iter().map(|&v| &self.modules[v][..]).collect();
        let rest = scc.iter().filter(|v| !cycle.contains(v));
        let mut rest: Vec<&str> = rest.map(|&v| &self.modules[v][..]).collect();
        rest.sort();
        match rest.is_empty() {
            true => names.join(" -> "),
            false => format!("{} (with {})", names.join(" -> "), rest.join(", ")),
        }
    }
}

#[derive(Default)]
struct Tarjan {
    index: Vec<usize>,
    low: Vec<usize>,
    stack: Vec<usize>,
    count: usize,
    found: Vec<Vec<usize>>,
}

impl Tarjan {
    fn visit(&mut self, v: usize, next: &[Vec<usize>]) {
        (self.index[v], self.low[v], self.count) = (self.count, self.count, self.count + 1);
        self.stack.push(v);
        for &w in &next[v] {
            if self.index[w] == usize::MAX {
                self.visit(w, next);
                self.low[v] = self.low[v].min(self.low[w]);
            } else if self.stack.contains(&w) {
                self.low[v] = self.low[v].min(self.index[w]);
            }
        }
        if self.low[v] == self.index[v] {
            let at = self.stack.iter().rposition(|&w| w == v);
            let scc = self.stack.split_off(at.expect("on the stack"));
            self.found.push(scc);
        }
    }
}

/// The `[workspace] members` that exist, but for the generated cornucopia crates (not ours).
fn members(workspace: &Path) -> Result<Vec<String>, String> {
    let manifest = workspace.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest);
    let text = text.map_err(|e| format!("{}: {e}", manifest.display()))?;
    let section = text
        .split("\n[")
        .find(|s| s.starts_with("[workspace]") || s.starts_with("workspace]"));
    let list = section.and_then(|s| s.split_once("\nmembers")?.1.split_once(']'));
    let generated =
        |m: &str| m == "codegen" || (m.starts_with("examples/") && m.ends_with("/codegen"));
    let members = list.map_or("", |l| l.0).split('"').skip(1).step_by(2);
    let exists = |m: &&str| !generated(m) && workspace.join(m).join("Cargo.toml").is_file();
    Ok(members.filter(exists).map(String::from).collect())
}

/// Every `.rs` file under `base/dir`, keyed by its path relative to `base`.
fn read_tree(base: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, String>) {
    let entries = std::fs::read_dir(base.join(dir)).into_iter().flatten();
    for entry in entries.flatten() {
        let path = dir.join(entry.file_name());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            read_tree(base, &path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(entry.path());
            files.insert(path, text.unwrap_or_default());
        }
    }
}

/// What `check` saw: one `cycle in …` line per cycle, sorted, and a warning per missing file.
#[derive(Debug, Default)]
pub struct Report {
    pub crates: usize,
    pub modules: usize,
    pub cycles: Vec<String>,
    pub warnings: Vec<String>,
}

/// Builds the module graph of every crate of the workspace at `workspace`: each package's
/// src/lib.rs, src/main.rs, src/bin/*.rs, src/bin/*/main.rs, tests/*.rs, tests/*/main.rs and
/// benches/*.rs.
pub fn check(workspace: &Path) -> Result<Report, String> {
    let mut report = Report::default();
    for member in members(workspace)? {
        let mut files = BTreeMap::new();
        for dir in ["src", "tests", "benches"] {
            read_tree(&workspace.join(&member), Path::new(dir), &mut files);
        }
        for root in files.keys().filter_map(|p| p.to_str()) {
            match root.split('/').collect::<Vec<_>>()[..] {
                ["src", "lib.rs" | "main.rs"]
                | ["src", "bin", _]
                | ["src", "bin", _, "main.rs"] => {}
                ["tests", _] | ["tests", _, "main.rs"] | ["benches", _] => {}
                _ => continue,
            }
            let label = match (member.as_str(), root) {
                (".", root) => root.to_string(),
                (member, "src/lib.rs") => member.to_string(),
                (member, root) => format!("{member}/{root}"),
            };
            let graph = graph_from_sources(root, &files);
            report.crates += 1;
            report.modules += graph.modules.len();
            for cycle in graph.cycles() {
                report.cycles.push(format!("cycle in {label}: {cycle}"));
            }
            let missing = graph.missing.iter();
            let missing = missing.map(|m| format!("{label}: no file for module {m}"));
            report.warnings.extend(missing);
        }
    }
    report.cycles.sort();
    Ok(report)
}

/// `cargo xtask modules [DIR]`: exit 1 with the cycles (or an unreadable manifest), else 0.
pub fn run(args: &[String]) -> ExitCode {
    let workspace = args.first().map_or_else(xtask::repo_root, PathBuf::from);
    let report = match check(&workspace) {
        Ok(report) => report,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    for cycle in &report.cycles {
        println!("{cycle}");
    }
    if !report.cycles.is_empty() {
        return ExitCode::FAILURE;
    }
    let (crates, modules) = (report.crates, report.modules);
    println!("no module cycles in {crates} crates ({modules} modules)");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crate from `== path` headers, each followed by that file's text.
    fn graph(spec: &str) -> Graph {
        let mut files = BTreeMap::new();
        for file in spec.split("== ").skip(1) {
            let (path, text) = file.split_once('\n').unwrap_or((file, ""));
            files.insert(PathBuf::from(path.trim()), text.to_string());
        }
        graph_from_sources("src/lib.rs", &files)
    }

    fn edges(g: &Graph) -> Vec<String> {
        let name = |v: usize| g.modules[v].as_str();
        g.edges
            .iter()
            .map(|&(a, b)| format!("{} -> {}", name(a), name(b)))
            .collect()
    }

    #[test]
    fn the_lexer_skips_comments_and_literals() {
        let src = r####"a // crate::x
            /* b /* nested */ crate::y */ c "crate::z \" d" r#"e "quoted" f"# g
            br"h" 'i' '"' j '\'' k<'l> b"m" r#type 'é' 1u8 n::o"####;
        let idents: Vec<&str> = lex(src).into_iter().filter(|t| is_ident(t)).collect();
        assert_eq!(idents, ["a", "c", "g", "j", "k", "l", "type", "n", "o"]);
        assert_eq!(lex("n::o"), ["n", "::", "o"]);
    }

    #[test]
    fn super_and_self_resolve_from_the_file_and_its_inline_modules() {
        let g = graph(
            "== src/lib.rs\nmod a; mod b;
            == src/a.rs\nmod inner; use super::b::f; fn g() { self::inner::h() }
            == src/a/inner.rs\nuse super::super::b; mod t { use super::*; }
            == src/b.rs\n#[cfg(test)] mod tests; pub(in crate::a) fn f() {}
                mod m { use super::super::a as _; }
            == src/b/tests.rs\nuse super::super::a;",
        );
        assert_eq!(g.modules, ["crate", "a", "b", "a::inner"]);
        let expected = ["a -> b", "a -> a::inner", "b -> a", "a::inner -> b"];
        assert_eq!(edges(&g), expected);
    }

    #[test]
    fn a_cycle_is_found_and_named_from_the_crate_root() {
        let g = graph(
            "== src/lib.rs\nmod pool;
            == src/pool/mod.rs\nmod database; mod replicas;
            == src/pool/database.rs\nuse crate::pool::replicas::{Replicas, health::{self, Check}};
            == src/pool/replicas/mod.rs\nmod health; use super::database::Database;
            == src/pool/replicas/health.rs\n// crate::pool::database",
        );
        let cycle = "pool::database -> pool::replicas -> pool::database";
        assert_eq!(g.cycles(), [cycle]);
        assert!(edges(&g).contains(&"pool::database -> pool::replicas::health".into()));
    }

    #[test]
    fn no_cycle_when_references_go_one_way() {
        let g = graph(
            "== src/lib.rs\nmod a; mod b; mod c; fn f() { a::x(); crate::b::y(); }
            == src/a.rs\nuse crate::b::Y; use super::c;
            == src/b.rs\nfn y() { super::c::z() }
            == src/c.rs\n#[cfg(test)]\nmod tests {\n    use super::*;\n}",
        );
        assert_eq!((g.modules.len(), g.edges.len()), (4, 5));
        assert!(g.cycles().is_empty() && g.missing.is_empty());
    }

    #[test]
    fn a_facade_re_exporting_its_children_is_not_a_cycle_but_using_one_is() {
        let facade = graph(
            "== src/lib.rs\nmod a; pub use a::A; pub(crate) use a::B; pub struct Error;
            == src/a.rs\nfn f() -> crate::Error { todo!() }",
        );
        assert!(facade.cycles().is_empty(), "{:?}", edges(&facade));
        let user = graph(
            "== src/lib.rs\nmod a; use a::A; pub struct Error;
            == src/a.rs\nfn f() -> crate::Error { todo!() }",
        );
        assert_eq!(user.cycles(), ["a -> crate -> a"]);
    }

    #[test]
    fn a_longer_cycle_is_one_line_with_the_rest_of_its_component() {
        let g = graph(
            "== src/lib.rs\nmod a; mod b; mod c; mod d;
            == src/a.rs\nuse crate::b;
            == src/b.rs\nuse crate::c; use crate::d;
            == src/c.rs\nuse crate::a;
            == src/d.rs\nuse crate::b; mod gone;",
        );
        assert_eq!(g.cycles(), ["a -> b -> c -> a (with d)"]);
        assert_eq!(g.missing, ["d::gone (src/d/gone/mod.rs)"]);
    }
}
