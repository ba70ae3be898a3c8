//! Citations: which source text and which article (or section of an explanation) a rule comes
//! from, numbered exactly as in the texts of `seeds/`.
//!
//! Two of the five sources are full texts with numbered articles (001 national draft, 003
//! Yangzhou). The other three (000 Shenzhen, 002 Anhui, 004 Chongqing) are official
//! *explanations*: they are cited by their own section (`§3` = 三、, `§3(2)` = 三、…（二）) and, where
//! the explanation names it, by the article of the measures it explains (e.g. 002 §3 explains
//! Anhui measures art. 8).

use std::fmt;

use serde::{Deserialize, Serialize};

crate::all_variants! {
    /// One of the five texts in `seeds/`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Source {
        /// 000: Shenzhen SEZ draft regulation, drafting explanation (cites draft articles).
        Shenzhen000,
        /// 001: national draft regulation (征求意见稿), 35 articles.
        National001,
        /// 002: Anhui measures (省政府令第270号), policy explanation.
        Anhui002,
        /// 003: Yangzhou measures (扬府规〔2021〕2号), full text, 35 articles.
        Yangzhou003,
        /// 004: Chongqing measures (市政府令第230号), police explanation.
        Chongqing004,
    }
}

impl Source {
    /// The seed number used in citations: "000" … "004".
    pub fn number(self) -> &'static str {
        match self {
            Source::Shenzhen000 => "000",
            Source::National001 => "001",
            Source::Anhui002 => "002",
            Source::Yangzhou003 => "003",
            Source::Chongqing004 => "004",
        }
    }

    /// What the explained text calls its articles: "draft art." / "measures art.".
    fn explained_kind(self) -> &'static str {
        match self {
            Source::Shenzhen000 => "draft",
            _ => "measures",
        }
    }
}

/// Where inside a source. Articles of a full text, or a section of an explanation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Locator {
    /// 第N条, optionally 第P款 or 第（I）项: "art. 12 para. 2", "art. 17(2)".
    Article {
        art: u8,
        para: Option<u8>,
        item: Option<u8>,
    },
    /// Section 一、二、… of an explanation [sub-item （一）…], optionally with the article of the
    /// explained measures that the section names.
    Section {
        sec: u8,
        sub: Option<u8>,
        art: Option<u8>,
    },
}

/// A citation: source plus locator. Displays as e.g. `001 art. 11 para. 2`, `003 art. 17`,
/// `004 §4 (measures art. 9)`, `000 §3(2) (draft art. 16)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Article {
    pub source: Source,
    pub at: Locator,
}

impl Article {
    /// 第`art`条 of a full text.
    pub const fn art(source: Source, art: u8) -> Self {
        Article {
            source,
            at: Locator::Article {
                art,
                para: None,
                item: None,
            },
        }
    }

    /// 第`art`条第`para`款.
    pub const fn para(source: Source, art: u8, para: u8) -> Self {
        Article {
            source,
            at: Locator::Article {
                art,
                para: Some(para),
                item: None,
            },
        }
    }

    /// 第`art`条第（`item`）项.
    pub const fn item(source: Source, art: u8, item: u8) -> Self {
        Article {
            source,
            at: Locator::Article {
                art,
                para: None,
                item: Some(item),
            },
        }
    }

    /// Section `sec` (and sub-item `sub`) of an explanation, naming measures article `art`.
    pub const fn sec(source: Source, sec: u8, sub: Option<u8>, art: Option<u8>) -> Self {
        Article {
            source,
            at: Locator::Section { sec, sub, art },
        }
    }
}

impl fmt::Display for Article {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.source.number())?;
        match self.at {
            Locator::Article { art, para, item } => {
                write!(f, "art. {art}")?;
                if let Some(p) = para {
                    write!(f, " para. {p}")?;
                }
                if let Some(i) = item {
                    write!(f, "({i})")?;
                }
            }
            Locator::Section { sec, sub, art } => {
                write!(f, "§{sec}")?;
                if let Some(s) = sub {
                    write!(f, "({s})")?;
                }
                if let Some(a) = art {
                    write!(f, " ({} art. {a})", self.source.explained_kind())?;
                }
            }
        }
        Ok(())
    }
}

/// Joins citations for messages: "001 art. 11 para. 2; 003 art. 9".
pub fn cite(articles: &[Article]) -> String {
    articles
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// J2: citations print as the texts number them.
    #[test]
    fn j2_citations_display_as_numbered_in_the_texts() {
        use Source::*;
        let cases = [
            (Article::art(Yangzhou003, 17), "003 art. 17"),
            (Article::para(National001, 11, 2), "001 art. 11 para. 2"),
            (Article::item(National001, 17, 2), "001 art. 17(2)"),
            (
                Article::sec(Anhui002, 3, None, Some(8)),
                "002 §3 (measures art. 8)",
            ),
            (
                Article::sec(Chongqing004, 2, Some(5), Some(8)),
                "004 §2(5) (measures art. 8)",
            ),
            (
                Article::sec(Shenzhen000, 3, Some(2), Some(16)),
                "000 §3(2) (draft art. 16)",
            ),
            (Article::sec(Anhui002, 2, Some(14), None), "002 §2(14)"),
        ];
        for (a, want) in cases {
            assert_eq!(a.to_string(), want);
        }
    }
}
