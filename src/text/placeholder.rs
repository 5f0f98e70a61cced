//! Placeholders: values that stand for a real one supplied later (a variable, a template, a
//! hint to the reader). A credential or a URL's password that is a placeholder is no secret.

/// Whether a literal is a reference or placeholder rather than a real value: empty, `${VAR}`,
/// `$(VAR)`, `$VAR`, `{{ template }}`, `<your-password>`, `null`.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    v.is_empty()
        || v.starts_with('$')
        || v.starts_with("{{")
        || v.starts_with('<')
        || v.eq_ignore_ascii_case("null")
        || v == "~"
}
