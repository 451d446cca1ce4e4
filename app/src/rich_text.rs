//! What in a message's text is more than text: web links and `@name` mentions. Everything else
//! is shown as typed; nothing a person writes ever becomes markup, because the page renders
//! these pieces as text nodes and attributes, never as HTML.

/// A piece of a message's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    /// An `http://` or `https://` address, exactly as written (it is the link's target).
    Link(&'a str),
    /// `@name`, the `@` included; `me` when it names the reader.
    Mention {
        text: &'a str,
        me: bool,
    },
}

/// Schemes that become links; any other (`javascript:`, `data:`, look-alikes) stays text.
const LINK_SCHEMES: [&str; 2] = ["https://", "http://"];

/// Characters that end a sentence rather than an address: left out of a link at its end.
const TRAILING_PUNCTUATION: &[char] = &[
    '.', ',', ';', ':', '!', '?', '\'', '"', '»', '”', '’', ']', '}',
];

/// Splits `text` into its pieces. `my_name` is the reader's name, once known: a mention of it is
/// emphasised, whatever its case, and even when the name has spaces.
pub fn segments<'a>(text: &'a str, my_name: Option<&str>) -> Vec<Segment<'a>> {
    let mut pieces = Vec::new();
    let mut plain_from = 0;
    let mut at = 0;
    while at < text.len() {
        let rest = &text[at..];
        let starts_word = text[..at]
            .chars()
            .next_back()
            .is_none_or(|before| !is_word_char(before));
        let found = if starts_word {
            link_length(rest)
                .map(|length| Segment::Link(&rest[..length]))
                .or_else(|| mention(rest, my_name))
        } else {
            None
        };
        match found {
            Some(piece) => {
                if plain_from < at {
                    pieces.push(Segment::Text(&text[plain_from..at]));
                }
                let length = match &piece {
                    Segment::Link(link) => link.len(),
                    Segment::Mention { text, .. } => text.len(),
                    Segment::Text(text) => text.len(),
                };
                pieces.push(piece);
                at += length;
                plain_from = at;
            }
            None => at += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    if plain_from < text.len() {
        pieces.push(Segment::Text(&text[plain_from..]));
    }
    pieces
}

/// Whether `text` mentions `my_name` (as [`segments`] emphasises it).
pub fn mentions(text: &str, my_name: &str) -> bool {
    segments(text, Some(my_name))
        .iter()
        .any(|piece| matches!(piece, Segment::Mention { me: true, .. }))
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The length of the web address `text` starts with, if it starts with one.
fn link_length(text: &str) -> Option<usize> {
    let scheme = LINK_SCHEMES.iter().find(|scheme| {
        text.get(..scheme.len())
            .is_some_and(|start| start.eq_ignore_ascii_case(scheme))
    })?;
    let end = text
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
        .unwrap_or(text.len());
    let mut link = &text[..end];
    loop {
        let trimmed = link.trim_end_matches(TRAILING_PUNCTUATION);
        // A closing parenthesis belongs to the address only if it opened one («(ver https://…)»).
        let trimmed = match trimmed.strip_suffix(')') {
            Some(inner) if inner.matches('(').count() < trimmed.matches(')').count() => inner,
            _ => trimmed,
        };
        if trimmed.len() == link.len() {
            break;
        }
        link = trimmed;
    }
    let host = &link[scheme.len()..];
    host.chars()
        .next()
        .is_some_and(char::is_alphanumeric)
        .then_some(link.len())
}

/// The mention `text` starts with, if it starts with `@` and a name.
fn mention<'a>(text: &'a str, my_name: Option<&str>) -> Option<Segment<'a>> {
    let name = text.strip_prefix('@')?;
    if let Some(length) = my_name.and_then(|mine| name_prefix(name, mine)) {
        return Some(Segment::Mention {
            text: &text[..1 + length],
            me: true,
        });
    }
    let word = name
        .find(|c: char| !is_word_char(c) && c != '-' && c != '.')
        .unwrap_or(name.len());
    let word = name[..word].trim_end_matches(['.', '-']);
    (!word.is_empty()).then(|| Segment::Mention {
        text: &text[..1 + word.len()],
        me: false,
    })
}

/// The length of `name` at the start of `text` (any case), if it is there as a whole word.
fn name_prefix(text: &str, name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    let mut written = text.char_indices();
    for wanted in name.chars() {
        let (_, got) = written.next()?;
        if !got.to_lowercase().eq(wanted.to_lowercase()) {
            return None;
        }
    }
    let length = written.next().map_or(text.len(), |(index, _)| index);
    let whole_word = text[length..]
        .chars()
        .next()
        .is_none_or(|c| !is_word_char(c));
    whole_word.then_some(length)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Segment::{Link, Mention, Text};

    #[test]
    fn web_addresses_become_links_without_the_sentence_around_them() {
        assert_eq!(
            segments(
                "mira https://example.com/a?b=1#c, y (http://x.org/wiki/A_(b)).",
                None
            ),
            [
                Text("mira "),
                Link("https://example.com/a?b=1#c"),
                Text(", y ("),
                Link("http://x.org/wiki/A_(b)"),
                Text(")."),
            ]
        );
        assert_eq!(
            segments("HTTPS://EXAMPLE.COM", None),
            [Link("HTTPS://EXAMPLE.COM")]
        );
    }

    #[test]
    fn no_other_scheme_or_look_alike_is_ever_a_link() {
        for text in [
            "javascript:alert(1)",
            "JavaScript://%0aalert(1)",
            "data:text/html,<b>x</b>",
            "<a href=\"javascript:alert(1)\">pulsa</a>",
            "hxxps://example.com",
            "https//example.com",
            "https:/example.com",
            "https://",
            "https://.",
            "һttps://example.com",
            "xhttps://example.com",
            "vbscript:msgbox",
        ] {
            assert!(
                segments(text, None)
                    .iter()
                    .all(|piece| !matches!(piece, Link(_))),
                "{text:?} -> {:?}",
                segments(text, None)
            );
        }
        // An address in a tag's attribute is cut at the quote: the link is the address only.
        assert_eq!(
            segments("<a href=\"https://e.com\">x</a>", None),
            [Text("<a href=\""), Link("https://e.com"), Text("\">x</a>")]
        );
    }

    #[test]
    fn mentions_are_found_and_mine_are_told_apart() {
        assert_eq!(
            segments("hola @beto y @Ana María, correo a@b.c", Some("ana maría")),
            [
                Text("hola "),
                Mention {
                    text: "@beto",
                    me: false
                },
                Text(" y "),
                Mention {
                    text: "@Ana María",
                    me: true
                },
                Text(", correo a@b.c"),
            ]
        );
        assert_eq!(
            segments("@Anabel", Some("Ana")),
            [Mention {
                text: "@Anabel",
                me: false
            }]
        );
        assert_eq!(segments("@ solo", Some("Ana")), [Text("@ solo")]);
        assert_eq!(
            segments("@ana.", Some("Ana")),
            [
                Mention {
                    text: "@ana",
                    me: true
                },
                Text(".")
            ]
        );
    }

    #[test]
    fn the_pieces_always_spell_the_whole_text() {
        for text in [
            "",
            "a",
            "ñ@ñ https://ñ.es/ñ) @",
            "@@@",
            "http://a.b.c...",
            "😀@😀 https://😀",
        ] {
            let joined: String = segments(text, Some("ñ"))
                .iter()
                .map(|piece| match piece {
                    Text(t) | Link(t) | Mention { text: t, .. } => *t,
                })
                .collect();
            assert_eq!(joined, text);
        }
    }
}
