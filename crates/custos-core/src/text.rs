//! Text helpers every output format shares.

/// Escapes text for XML or HTML (element content and quoted attribute values): `&`, `<`, `>`,
/// `"` and `'` become character references. The one escape custos has: MANSCDP bodies
/// (GB/T 28181) and the printable reports both use it.
pub fn escape_markup(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            // A numeric reference: valid in XML 1.0 and in every HTML version (`&apos;` is not
            // HTML 4).
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    /// I2 (GB/T 28181 bodies) and J2 (printable reports): markup characters in names cannot
    /// break the document; everything else passes through unchanged.
    #[test]
    fn i2_j2_markup_characters_are_escaped_and_text_kept() {
        assert_eq!(
            escape_markup(r#"<a href="x">O'Neil & 门口</a>"#),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; 门口&lt;/a&gt;"
        );
        assert_eq!(escape_markup("plain 文本"), "plain 文本");
    }
}
