//! Choosing what a restore writes, with restic's `--include`/`--exclude` rules.
//!
//! KubeStash passes a restore's `include`/`exclude` parameters to restic, so users write them
//! against the paths *in the snapshot* (`/kubestash-data/app`, `*.log`, `cache`):
//! - a pattern starting with `/` is anchored at the snapshot's root, any other pattern may
//!   start at any depth;
//! - a pattern matches a path when it matches the path or one of its parents, so naming a
//!   directory takes (or leaves out) everything below it;
//! - each component is a shell glob (`*`, `?`, `[a-z]`, `[!a]`, `\` escapes) and `**` stands
//!   for any number of components.
//!
//! rustic's own listing filter matches relative paths one entry at a time (gitignore style),
//! so an excluded directory kept its files and an included one came back empty.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use rustic_core::repofile::Node;

/// A compiled list of restic-style patterns.
#[derive(Clone, Debug, Default)]
pub struct PathFilter {
    includes: Vec<Pattern>,
    excludes: Vec<Pattern>,
}

#[derive(Clone, Debug)]
struct Pattern {
    anchored: bool,
    parts: Vec<String>,
}

impl Pattern {
    /// `None` for a blank pattern; `/` is the root, which matches everything.
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let parts: Vec<String> = text
            .split('/')
            .filter(|part| !part.is_empty() && *part != ".")
            .map(str::to_string)
            .collect();
        let anchored = text.starts_with('/');
        (anchored || !parts.is_empty()).then_some(Self { anchored, parts })
    }

    /// Whether the pattern matches `path` or one of its parents.
    fn matches(&self, path: &[&[u8]]) -> bool {
        if self.anchored {
            matches_prefix(&self.parts, path)
        } else {
            (0..path.len()).any(|start| matches_prefix(&self.parts, &path[start..]))
        }
    }
}

/// Whether `pattern` matches the first components of `path` (all of the pattern is used).
fn matches_prefix(pattern: &[String], path: &[&[u8]]) -> bool {
    match pattern.split_first() {
        None => true,
        Some((first, rest)) if first == "**" => {
            (0..=path.len()).any(|skip| matches_prefix(rest, &path[skip..]))
        }
        Some((first, rest)) => match path.split_first() {
            Some((head, tail)) => glob(first.as_bytes(), head) && matches_prefix(rest, tail),
            None => false,
        },
    }
}

/// One element of a component pattern.
enum Token {
    Byte(u8),
    AnyByte,
    Class(ByteClass, bool),
    Star,
}

fn tokens(pattern: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut rest = pattern;
    while let Some((&byte, tail)) = rest.split_first() {
        rest = tail;
        tokens.push(match byte {
            b'*' => Token::Star,
            b'?' => Token::AnyByte,
            b'[' => match class(tail) {
                Some((members, negated, after)) => {
                    rest = after;
                    Token::Class(members, negated)
                }
                // An unclosed `[` is taken literally.
                None => Token::Byte(b'['),
            },
            b'\\' if !tail.is_empty() => {
                rest = &tail[1..];
                Token::Byte(tail[0])
            }
            literal => Token::Byte(literal),
        });
    }
    tokens
}

/// Shell-style matching of one path component, in linear passes: on a mismatch only the
/// last `*` takes one more byte (no backtracking over earlier stars, which is exponential).
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let tokens = tokens(pattern);
    let single = |token: &Token, byte: u8| match token {
        Token::Byte(wanted) => *wanted == byte,
        Token::AnyByte => true,
        Token::Class(members, negated) => members.contains(byte) != *negated,
        Token::Star => false,
    };
    let (mut p, mut t) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Token::Star) => {
                last_star = Some((p, t));
                p += 1;
            }
            Some(token) if single(token, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match last_star {
                Some((star, taken)) => {
                    p = star + 1;
                    t = taken + 1;
                    last_star = Some((star, taken + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|token| matches!(token, Token::Star))
}

struct ByteClass(Vec<(u8, u8)>);

impl ByteClass {
    fn contains(&self, byte: u8) -> bool {
        self.0
            .iter()
            .any(|&(low, high)| low <= byte && byte <= high)
    }
}

/// Parses a `[...]` class after its `[`: the ranges, whether it is negated (`[^...]`, as in
/// Go's filepath.Match that restic uses), and the rest of the pattern; `None` when it is
/// not closed.
fn class(pattern: &[u8]) -> Option<(ByteClass, bool, &[u8])> {
    let (negated, mut rest) = match pattern.first() {
        Some(b'^') => (true, &pattern[1..]),
        _ => (false, pattern),
    };
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let (&byte, tail) = rest.split_first()?;
        if byte == b']' && !first {
            return Some((ByteClass(ranges), negated, tail));
        }
        first = false;
        let (low, tail) = if byte == b'\\' {
            let (&escaped, tail) = tail.split_first()?;
            (escaped, tail)
        } else {
            (byte, tail)
        };
        match tail {
            [b'-', high, after @ ..] if *high != b']' => {
                ranges.push((low, *high));
                rest = after;
            }
            _ => {
                ranges.push((low, low));
                rest = tail;
            }
        }
    }
}

/// The names of a path's components, as bytes (a name that is not UTF-8 still counts).
fn components(path: &Path) -> Vec<&[u8]> {
    path.components()
        .filter_map(|component| match component {
            Component::Normal(part) => Some(part.as_encoded_bytes()),
            _ => None,
        })
        .collect()
}

impl PathFilter {
    /// Compiles the patterns; blank ones are ignored.
    pub fn new(includes: &[String], excludes: &[String]) -> Self {
        let compile = |patterns: &[String]| -> Vec<Pattern> {
            patterns
                .iter()
                .flat_map(|pattern| pattern.split(','))
                .filter_map(Pattern::parse)
                .collect()
        };
        Self {
            includes: compile(includes),
            excludes: compile(excludes),
        }
    }

    /// Whether the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.includes.is_empty() && self.excludes.is_empty()
    }

    /// Whether the entry at `path` (a path in the snapshot) is restored for its own sake.
    pub fn selects(&self, path: &Path) -> bool {
        let parts = components(path);
        !self.excludes.iter().any(|pattern| pattern.matches(&parts))
            && (self.includes.is_empty()
                || self.includes.iter().any(|pattern| pattern.matches(&parts)))
    }

    /// Keeps the entries of a listing the filter selects, plus the directories above them.
    /// `base` is the snapshot path the listing starts from; when it is a single file the
    /// listing's one entry is that file.
    pub fn apply(
        &self,
        base: &Path,
        single_file: bool,
        entries: Vec<(PathBuf, Node)>,
    ) -> Vec<(PathBuf, Node)> {
        if self.is_empty() {
            return entries;
        }
        let full = |relative: &Path| -> PathBuf {
            if single_file {
                base.to_path_buf()
            } else {
                base.join(relative)
            }
        };
        let chosen: Vec<bool> = entries
            .iter()
            .map(|(relative, _)| self.selects(&full(relative)))
            .collect();
        let mut parents: HashSet<&Path> = HashSet::new();
        for ((relative, _), chosen) in entries.iter().zip(&chosen) {
            if *chosen {
                parents.extend(relative.ancestors().skip(1));
            }
        }
        let parents: HashSet<PathBuf> = parents.into_iter().map(Path::to_path_buf).collect();
        entries
            .into_iter()
            .zip(chosen)
            .filter(|((relative, entry), chosen)| {
                *chosen || (entry.is_dir() && parents.contains(relative.as_path()))
            })
            .map(|(entry, _)| entry)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selects(includes: &[&str], excludes: &[&str], path: &str) -> bool {
        let owned = |list: &[&str]| list.iter().map(|text| text.to_string()).collect::<Vec<_>>();
        PathFilter::new(&owned(includes), &owned(excludes)).selects(Path::new(path))
    }

    #[test]
    fn anchored_patterns_match_from_the_root_and_take_children() {
        assert!(selects(&["/data/app"], &[], "/data/app"));
        assert!(selects(&["/data/app"], &[], "/data/app/logs/today.log"));
        assert!(!selects(&["/data/app"], &[], "/data/application"));
        assert!(!selects(&["/app"], &[], "/data/app/x"));
        assert!(!selects(&["/data/app"], &[], "/data"));
    }

    #[test]
    fn unanchored_patterns_match_at_any_depth() {
        assert!(!selects(&[], &["*.log"], "/data/app/today.log"));
        assert!(selects(&[], &["*.log"], "/data/app/today.txt"));
        assert!(!selects(&[], &["cache"], "/data/cache/blob/1"));
        assert!(selects(&[], &["cache"], "/data/caches/1"));
        assert!(selects(
            &["nested/deeper/log.txt"],
            &[],
            "/src/nested/deeper/log.txt"
        ));
        assert!(!selects(
            &["nested/deeper/log.txt"],
            &[],
            "/src/nested/other.txt"
        ));
    }

    #[test]
    fn excludes_win_over_includes_and_globs_work_per_component() {
        assert!(!selects(&["/data"], &["/data/tmp"], "/data/tmp/x"));
        assert!(selects(&["/data"], &["/data/tmp"], "/data/tmp2/x"));
        assert!(selects(&["/d*/[a-c]?p"], &[], "/data/app/x"));
        assert!(!selects(&["/d*/[^a]pp"], &[], "/data/app"));
        assert!(
            selects(&["/d*/[!a]pp"], &[], "/data/!pp"),
            "only ^ negates, as in Go"
        );
        assert!(selects(&["/data/**/*.sql"], &[], "/data/a/b/dump.sql"));
        assert!(selects(&["/data/**/*.sql"], &[], "/data/dump.sql"));
        assert!(!selects(&["/data/**/*.sql"], &[], "/data/dump.sqlite"));
        assert!(selects(&[r"/data/\*"], &[], "/data/*"));
        assert!(!selects(&[r"/data/\*"], &[], "/data/x"));
        assert!(
            selects(&["a,/b"], &[], "/b/c"),
            "comma-separated, as KubeStash passes them"
        );
        assert!(
            selects(&[" ", "/"], &[], "/anything"),
            "blank patterns are ignored"
        );
    }

    #[test]
    fn many_stars_do_not_backtrack_exponentially() {
        let text = vec![b'a'; 200];
        let started = std::time::Instant::now();
        assert!(!glob(b"*a*a*a*a*a*a*a*a*a*a*b", &text));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn names_that_are_not_utf8_keep_their_place() {
        use std::os::unix::ffi::OsStrExt;
        let odd = std::ffi::OsStr::from_bytes(b"caf\xe9");
        let path = Path::new("/data").join(odd).join("cache");
        let filter = PathFilter::new(&[], &["/data/cache".to_string()]);
        assert!(filter.selects(&path));
        let filter = PathFilter::new(&[], &["/data/caf?".to_string()]);
        assert!(!filter.selects(&path));
    }

    #[test]
    fn glob_classes_and_unclosed_brackets() {
        assert!(glob(b"[]a]", b"]"));
        assert!(glob(b"[a-c]x", b"bx"));
        assert!(!glob(b"[a-c]x", b"dx"));
        assert!(glob(b"[^a-c]x", b"dx"));
        assert!(glob(b"*.log", b"today.log"));
        assert!(glob(b"a*b*c", b"aXbYbZc"));
        assert!(!glob(b"a*b*c", b"aXbYbZ"));
        assert!(glob(b"*", b""));
        assert!(glob(b"a[b", b"a[b"));
        assert!(!glob(b"a?", b"a"));
    }
}
