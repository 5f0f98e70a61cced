//! Splits a YAML stream into documents, remembering the line each starts on (for error
//! messages and SARIF locations).

/// One document of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawDocument<'a> {
    /// 1-based index among the non-empty documents of the stream.
    pub index: usize,
    /// 1-based line of the document's first line.
    pub line: usize,
    pub text: &'a str,
}

fn is_separator(line: &str) -> bool {
    let l = line.trim_end();
    l == "---" || l.starts_with("--- ") || l.starts_with("---\t") || l == "..."
}

/// Whether a document has content beyond blank lines, comments and directives.
fn has_content(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !t.starts_with('%')
    })
}

/// Splits on `---` / `...` lines at column 0. A `--- ` line may carry content after the marker
/// (`--- {a: 1}`); that content stays with its document.
pub fn split_documents(text: &str) -> Vec<RawDocument<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut offset = 0usize;
    fn push<'a>(chunk: &'a str, line: usize, docs: &mut Vec<RawDocument<'a>>) {
        if has_content(chunk) {
            docs.push(RawDocument {
                index: docs.len() + 1,
                line,
                text: chunk,
            });
        }
    }
    for (line_no, line) in (1usize..).zip(text.split_inclusive('\n')) {
        // Nearly every line is content: a separator starts with `---` or `...`, so the first
        // byte settles most lines without trimming them.
        if line.starts_with(['-', '.']) && is_separator(line.trim_end_matches(['\n', '\r'])) {
            push(&text[start..offset], start_line, &mut docs);
            let marker_end = if line.starts_with("--- ") || line.starts_with("---\t") {
                offset + 4
            } else {
                offset + line.len()
            };
            start = marker_end;
            start_line = if marker_end == offset + line.len() {
                line_no + 1
            } else {
                line_no
            };
        }
        offset += line.len();
    }
    push(&text[start..], start_line, &mut docs);
    docs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_with_lines() {
        let text =
            "---\n# Source: a\napiVersion: v1\nkind: A\n---\n\n---\napiVersion: v1\nkind: B\n...\n";
        let docs = split_documents(text);
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[0].index, docs[0].line), (1, 2));
        assert!(docs[0].text.contains("kind: A"));
        assert_eq!((docs[1].index, docs[1].line), (2, 8));
    }

    #[test]
    fn content_on_the_marker_line_is_kept() {
        let docs = split_documents("--- {kind: A}\n--- {kind: B}\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].text.trim(), "{kind: A}");
        assert_eq!(docs[1].line, 2);
    }

    #[test]
    fn a_separator_inside_a_block_scalar_is_indented() {
        let docs = split_documents("a: |\n  ---\n  x\nb: 1\n");
        assert_eq!(docs.len(), 1);
    }
}
