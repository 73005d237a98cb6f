//! Identifier kinds and how their values are normalised before matching.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The kind of an identifier a record carries.
///
/// Values are matched only within one kind: a phone number never matches a
/// loyalty card with the same digits. Parsed from text case-insensitively:
/// `phone` (or `mobile`, `tel`), `email` (or `e-mail`, `mail`), `messaging`
/// (or `wechat`, `whatsapp`, `line`), `web_account` (or `web`, `account`,
/// `login`), `loyalty_card` (or `loyalty`, `card`); any other name is a
/// kind of your own.
///
/// # Example
///
/// ```
/// use churnwise::records::IdentifierKind;
///
/// assert_eq!("E-Mail".parse::<IdentifierKind>().unwrap(), IdentifierKind::Email);
/// assert_eq!("WeChat".parse::<IdentifierKind>().unwrap(), IdentifierKind::Messaging);
/// assert_eq!("tax_id".parse::<IdentifierKind>().unwrap().to_string(), "tax_id");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
#[non_exhaustive]
pub enum IdentifierKind {
    /// A phone number, matched after normalising to international form.
    Phone,
    /// An e-mail address, matched trimmed and lower-cased.
    Email,
    /// A messaging account (WeChat, WhatsApp, LINE, …), matched trimmed.
    Messaging,
    /// A web-shop or app account, matched trimmed.
    WebAccount,
    /// A loyalty card number, matched with spaces and dashes removed.
    LoyaltyCard,
    /// A kind of your own (lower-case name), matched trimmed.
    Other(Arc<str>),
}

impl IdentifierKind {
    /// The kind's name, as written in files (`phone`, `email`, …).
    pub fn name(&self) -> &str {
        match self {
            IdentifierKind::Phone => "phone",
            IdentifierKind::Email => "email",
            IdentifierKind::Messaging => "messaging",
            IdentifierKind::WebAccount => "web_account",
            IdentifierKind::LoyaltyCard => "loyalty_card",
            IdentifierKind::Other(name) => name,
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IdentifierKind {
    type Err = std::convert::Infallible;

    /// Never fails: an unknown name is a kind of your own.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_lowercase();
        Ok(match name.as_str() {
            "phone" | "mobile" | "tel" | "telephone" => IdentifierKind::Phone,
            "email" | "e-mail" | "mail" => IdentifierKind::Email,
            "messaging" | "wechat" | "whatsapp" | "line" => IdentifierKind::Messaging,
            "web_account" | "web" | "account" | "login" => IdentifierKind::WebAccount,
            "loyalty_card" | "loyalty" | "card" => IdentifierKind::LoyaltyCard,
            _ => IdentifierKind::Other(name.into()),
        })
    }
}

impl From<IdentifierKind> for String {
    fn from(kind: IdentifierKind) -> String {
        kind.name().to_string()
    }
}

impl From<String> for IdentifierKind {
    /// As [`FromStr`]: an unknown name is a kind of your own.
    fn from(s: String) -> Self {
        match s.parse() {
            Ok(kind) => kind,
            Err(never) => match never {},
        }
    }
}

/// Why an identifier's value cannot be used.
pub(crate) type Invalid = &'static str;

/// The shortest and longest phone numbers accepted, in digits (ITU E.164
/// allows up to 15; short numbers are extensions or typos).
const PHONE_DIGITS: (usize, usize) = (6, 15);

/// A phone number in international form `+<country><number>`.
///
/// Spaces, dashes, dots, slashes and parentheses are dropped. A leading `+`
/// or `00` marks an international number; otherwise the number is national:
/// one trunk `0` is dropped and `default_country` (a calling code such as
/// `86` or `1`) is put in front. Without a default country a national
/// number is kept as its digits, so it matches only the same national
/// number.
pub(crate) fn phone(value: &str, default_country: Option<&str>) -> Result<String, Invalid> {
    let trimmed = value.trim();
    let (international, rest) = if let Some(rest) = trimmed.strip_prefix('+') {
        (true, rest)
    } else {
        (false, trimmed)
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '/' | '(' | ')' | '\u{a0}' => {}
            _ => {
                return Err(
                    "a phone number holds only digits, spaces, dashes, dots and parentheses",
                );
            }
        }
    }
    let (international, digits) = match digits.strip_prefix("00") {
        Some(rest) if !international => (true, rest.to_string()),
        _ => (international, digits),
    };
    let number = if international {
        format!("+{digits}")
    } else if let Some(country) = default_country {
        let national = digits.strip_prefix('0').unwrap_or(&digits);
        format!("+{country}{national}")
    } else {
        digits
    };
    let count = number.bytes().filter(u8::is_ascii_digit).count();
    if !(PHONE_DIGITS.0..=PHONE_DIGITS.1).contains(&count) {
        return Err("a phone number has 6 to 15 digits");
    }
    Ok(number)
}

/// An e-mail address trimmed and lower-cased, with one `@` between a
/// non-empty local part and a domain that contains a dot.
pub(crate) fn email(value: &str) -> Result<String, Invalid> {
    let address = value.trim().to_lowercase();
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && !address.contains(char::is_whitespace) =>
        {
            Ok(address)
        }
        _ => Err("an e-mail address is local@domain.tld"),
    }
}

/// A card number with spaces and dashes removed.
pub(crate) fn card(value: &str) -> Result<String, Invalid> {
    let number: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\u{a0}'))
        .collect();
    non_empty(number)
}

/// The value trimmed.
pub(crate) fn trimmed(value: &str) -> Result<String, Invalid> {
    non_empty(value.trim().to_string())
}

fn non_empty(value: String) -> Result<String, Invalid> {
    if value.is_empty() {
        Err("the value is empty")
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_become_international() {
        assert_eq!(phone("+86 138-0013-8000", None).unwrap(), "+8613800138000");
        assert_eq!(phone("0086 13800138000", None).unwrap(), "+8613800138000");
        assert_eq!(
            phone("138 0013 8000", Some("86")).unwrap(),
            "+8613800138000"
        );
        assert_eq!(
            phone("(030) 1234 5678", Some("49")).unwrap(),
            "+493012345678"
        );
        assert_eq!(phone("030 1234 5678", None).unwrap(), "03012345678");
        assert!(phone("12-34", None).is_err());
        assert!(phone("call me", None).is_err());
        assert!(phone("+1234567890123456", None).is_err());
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            email("  Ann.Lee@Example.COM ").unwrap(),
            "ann.lee@example.com"
        );
        for bad in [
            "ann",
            "@example.com",
            "ann@example",
            "ann@@x.com",
            "a b@x.com",
            "ann@.com",
        ] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cards_drop_separators_and_others_are_trimmed() {
        assert_eq!(card("1234-5678 90").unwrap(), "1234567890");
        assert_eq!(trimmed("  wx_ann ").unwrap(), "wx_ann");
        assert!(trimmed("   ").is_err());
    }

    #[test]
    fn kinds_parse_from_common_names() {
        assert_eq!(
            "Mobile".parse::<IdentifierKind>().unwrap(),
            IdentifierKind::Phone
        );
        assert_eq!(
            "card".parse::<IdentifierKind>().unwrap(),
            IdentifierKind::LoyaltyCard
        );
        assert_eq!(
            "Tax_ID".parse::<IdentifierKind>().unwrap(),
            IdentifierKind::Other("tax_id".into())
        );
    }
}
