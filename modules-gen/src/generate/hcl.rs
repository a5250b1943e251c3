//! Writing HCL and Markdown text: string escaping, literals, and attribute alignment exactly as
//! `terraform fmt` does it.

/// Escapes text for the inside of an HCL quoted string: backslash, double quote, control
/// characters, and the template sequences `${` and `%{` (which HCL would otherwise interpolate).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                // `$${` and `%%{` are HCL's escapes for a literal `${` and `%{`.
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// An HCL quoted string literal.
pub fn string(text: &str) -> String {
    format!("\"{}\"", escape(text))
}

/// An HCL list of string literals on one line: `["a", "b"]`.
pub fn string_list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<String> = items.iter().map(|s| string(s.as_ref())).collect();
    format!("[{}]", items.join(", "))
}

/// An HCL object on one line with quoted keys: `{ "a" = 1, "b" = 2 }` (`{}` when empty).
pub fn inline_object(entries: &[(String, String)]) -> String {
    if entries.is_empty() {
        return "{}".into();
    }
    let items: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{} = {v}", string(k)))
        .collect();
    format!("{{ {} }}", items.join(", "))
}

/// Object entries one per line, keys quoted, indented by `indent` spaces, with the `=` of
/// one-line values aligned as `terraform fmt` aligns consecutive one-line attributes. A value
/// spanning lines (its first line opens a bracket) is not part of an alignment run, and its
/// other lines are indented by `indent` too.
pub fn object_lines(entries: &[(String, String)], indent: usize) -> String {
    let keys: Vec<String> = entries.iter().map(|(k, _)| string(k)).collect();
    aligned_lines(
        &keys
            .iter()
            .zip(entries)
            .map(|(k, (_, v))| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        indent,
    )
}

/// `key = value` lines (keys written as given), aligned like [`object_lines`].
pub fn aligned_lines(entries: &[(&str, &str)], indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        if entries[i].1.contains('\n') {
            let (k, v) = entries[i];
            let v = v.replace('\n', &format!("\n{pad}"));
            out.push(format!("{pad}{k} = {v}"));
            i += 1;
            continue;
        }
        // A run of one-line values, aligned to its longest key.
        let run_end = (i..entries.len())
            .find(|&j| entries[j].1.contains('\n'))
            .unwrap_or(entries.len());
        let width = entries[i..run_end]
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        for (k, v) in &entries[i..run_end] {
            let gap = " ".repeat(width - k.chars().count());
            out.push(format!("{pad}{k}{gap} = {v}"));
        }
        i = run_end;
    }
    out.join("\n")
}

/// Escapes text for a Markdown table cell: pipes, line breaks, and `<`/`>` outside code spans
/// (Markdown would read `<domain>` as an HTML tag and hide it).
pub fn markdown_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '|' => out.push_str("\\|"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a Markdown code span in a table cell: only pipes (everything else is
/// literal in code).
pub fn markdown_code(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_hcl_would_interpret() {
        assert_eq!(escape(r#"a "b" \c"#), r#"a \"b\" \\c"#);
        assert_eq!(escape("x\ny\tz\r"), r"x\ny\tz\r");
        assert_eq!(escape("${var.x} and %{ if }"), "$${var.x} and %%{ if }");
        // A lone $ or % stays; an already doubled one gains one more, so it still reads back.
        assert_eq!(escape("$5 100% $$ $${"), "$5 100% $$ $$${");
        assert_eq!(escape("bell\u{7}"), "bell\\u0007");
        assert_eq!(escape("ünïcödé ✓"), "ünïcödé ✓");
        assert_eq!(string("^[a-z]{2,62}$"), r#""^[a-z]{2,62}$""#);
        assert_eq!(string(r"^\d+$"), r#""^\\d+$""#);
    }

    /// A real HCL implementation (hcl-rs, evaluating templates) reads every escaped string back
    /// exactly.
    #[test]
    fn escaped_strings_read_back_exactly() {
        #[derive(serde::Deserialize)]
        struct Doc {
            x: String,
        }
        for text in [
            "plain",
            "quote \" and backslash \\ and slash /",
            "${var.secret} %{ if true }x%{ endif }",
            "$${already} %%{escaped} $ % {} $5 100%",
            "line\nbreak\ttab\rreturn",
            "^[a-z][a-z0-9_]{2,62}$",
            "ünïcödé ✓ \u{1}",
        ] {
            let source = format!("x = {}\n", string(text));
            let doc: Doc = hcl::eval::from_str(&source, &hcl::eval::Context::new())
                .unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(doc.x, text, "{source}");
        }
    }

    #[test]
    fn literals() {
        assert_eq!(string_list(&["a", "b\"c"]), r#"["a", "b\"c"]"#);
        assert_eq!(string_list::<&str>(&[]), "[]");
        assert_eq!(
            inline_object(&[("k".into(), "1".into()), ("a b".into(), "[]".into())]),
            r#"{ "k" = 1, "a b" = [] }"#
        );
        assert_eq!(inline_object(&[]), "{}");
    }

    #[test]
    fn aligns_runs_of_one_line_values() {
        let lines = object_lines(
            &[
                ("domain".into(), "[\"a\"]".into()),
                ("sensitivity".into(), "[\"b\"]".into()),
                ("big".into(), "{\n  x = 1\n}".into()),
                ("r".into(), "1".into()),
            ],
            4,
        );
        assert_eq!(
            lines,
            "    \"domain\"      = [\"a\"]\n    \"sensitivity\" = [\"b\"]\n    \"big\" = {\n      x = 1\n    }\n    \"r\" = 1"
        );
    }

    #[test]
    fn markdown_cells() {
        assert_eq!(markdown_cell("a | b\nc"), "a \\| b<br>c");
        assert_eq!(
            markdown_cell("<domain>/<name> or `<x>`"),
            "&lt;domain&gt;/&lt;name&gt; or `<x>`"
        );
        assert_eq!(markdown_code("map(string) | x"), "map(string) \\| x");
    }
}
