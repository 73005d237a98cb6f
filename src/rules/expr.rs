//! The expression form of a condition:
//! `plan == "gold" and (churn_probability > 0.6 or not tags in [vip])`.
//!
//! ```text
//! expr       := and_expr ("or" and_expr)*
//! and_expr   := unary ("and" unary)*
//! unary      := "not" unary | "(" expr ")" | comparison
//! comparison := ["change of" | "relative change of"] field operator
//! operator   := (">" | ">=" | "<" | "<=" | "==" | "!=") value
//!             | "between" value "and" value | "in" "[" value ("," value)* "]"
//! value      := number | "text" | 'text' | word        (90d, at_risk, gold)
//! field      := word | `any name`
//! ```
//!
//! `and` binds tighter than `or`; keywords are case-insensitive; `a != b`
//! is `not a == b`.

use super::condition::{Change, Condition, Op, Operand, Test};
use super::path::Path;
use crate::Result;

use super::condition::MAX_DEPTH;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Number(f64),
    Symbol(&'static str),
}

/// A token and the character column (1-based) where it starts.
type Spanned = (Token, usize);

const SYMBOLS: [&str; 10] = [">=", "<=", "==", "!=", ">", "<", "(", ")", "[", "]"];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '+')
}

fn tokenize(text: &str, path: &Path) -> Result<Vec<Spanned>> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() || c == ',' {
            if c == ',' {
                out.push((Token::Symbol(","), column));
            }
            i += 1;
            continue;
        }
        if let Some(s) = SYMBOLS.iter().find(|s| {
            s.chars()
                .enumerate()
                .all(|(k, sc)| chars.get(i + k) == Some(&sc))
        }) {
            out.push((Token::Symbol(s), column));
            i += s.len();
            continue;
        }
        if matches!(c, '"' | '\'' | '`') {
            let (content, end) = quoted(&chars, i, path)?;
            out.push((
                if c == '`' {
                    Token::Word(content)
                } else {
                    Token::Quoted(content)
                },
                column,
            ));
            i = end;
            continue;
        }
        if !is_word_char(c) {
            return Err(path.error(format!("at column {column}: unexpected `{c}`")));
        }
        let start = i;
        while i < chars.len() && is_word_char(chars[i]) {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let numeric_start = word.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
        match word.parse::<f64>() {
            Ok(v) if numeric_start && v.is_finite() => out.push((Token::Number(v), column)),
            _ => out.push((Token::Word(word), column)),
        }
    }
    Ok(out)
}

/// The text of a quoted token starting at `chars[start]`, and the index
/// after its closing quote; `\"` and `\\` are escapes.
fn quoted(chars: &[char], start: usize, path: &Path) -> Result<(String, usize)> {
    let quote = chars[start];
    let mut text = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                text.push(chars[i + 1]);
                i += 2;
            }
            c if c == quote => return Ok((text, i + 1)),
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err(path.error(format!(
        "at column {}: the quote {quote} is never closed",
        start + 1
    )))
}

struct Parser<'a> {
    tokens: Vec<Spanned>,
    at: usize,
    path: &'a Path,
    end_column: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|t| &t.0)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.at).map_or(self.end_column, |t| t.1)
    }

    fn describe(&self) -> String {
        match self.peek() {
            None => "the end".into(),
            Some(Token::Word(w)) => format!("`{w}`"),
            Some(Token::Quoted(q)) => format!("\"{q}\""),
            Some(Token::Number(v)) => format!("{v}"),
            Some(Token::Symbol(s)) => format!("`{s}`"),
        }
    }

    fn fail<T>(&self, expected: &str) -> Result<T> {
        Err(self.path.error(format!(
            "at column {}: expected {expected}, found {}",
            self.column(),
            self.describe()
        )))
    }

    fn keyword(&mut self, word: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word));
        if hit {
            self.at += 1;
        }
        hit
    }

    fn symbol(&mut self, symbol: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol);
        if hit {
            self.at += 1;
        }
        hit
    }

    fn expr(&mut self, depth: usize) -> Result<Condition> {
        let mut parts = vec![self.and_expr(depth)?];
        while self.keyword("or") {
            parts.push(self.and_expr(depth)?);
        }
        Ok(group(parts, Condition::Any))
    }

    fn and_expr(&mut self, depth: usize) -> Result<Condition> {
        let mut parts = vec![self.unary(depth)?];
        while self.keyword("and") {
            parts.push(self.unary(depth)?);
        }
        Ok(group(parts, Condition::All))
    }

    fn unary(&mut self, depth: usize) -> Result<Condition> {
        // Parentheses and `not`s past the condition nesting limit are
        // refused as they are met, so parsing cannot exhaust the stack.
        if depth >= MAX_DEPTH {
            return Err(self.path.too_large("nesting depth", depth + 1, MAX_DEPTH));
        }
        if self.keyword("not") {
            return Ok(Condition::not(self.unary(depth + 1)?));
        }
        if self.symbol("(") {
            let inner = self.expr(depth + 1)?;
            if !self.symbol(")") {
                return self.fail("`)` or an operator (and, or)");
            }
            return Ok(inner);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Condition> {
        let change = if self.keyword("relative") {
            if !(self.keyword("change") && self.keyword("of")) {
                return self.fail("`change of` after `relative`");
            }
            Some(Change::Relative)
        } else if self.keyword("change") {
            if !self.keyword("of") {
                return self.fail("`of` after `change`");
            }
            Some(Change::Absolute)
        } else {
            None
        };
        let field = match self.peek() {
            Some(Token::Word(w)) if !is_keyword(w) => w.clone(),
            _ => return self.fail("a field name"),
        };
        self.at += 1;
        let mut negate = false;
        let op = if self.symbol(">=") {
            Op::Gte(self.value()?)
        } else if self.symbol("<=") {
            Op::Lte(self.value()?)
        } else if self.symbol(">") {
            Op::Gt(self.value()?)
        } else if self.symbol("<") {
            Op::Lt(self.value()?)
        } else if self.symbol("==") {
            Op::Eq(self.value()?)
        } else if self.symbol("!=") {
            negate = true;
            Op::Eq(self.value()?)
        } else if self.keyword("between") {
            let lo = self.value()?;
            if !self.keyword("and") {
                return self.fail("`and` between the bounds");
            }
            Op::Between(lo, self.value()?)
        } else if self.keyword("in") {
            Op::In(self.list()?)
        } else {
            return self.fail(&format!(
                "an operator after `{field}` (>, >=, <, <=, ==, !=, between, in)"
            ));
        };
        let test = Condition::Test(Test { field, change, op });
        Ok(if negate { Condition::not(test) } else { test })
    }

    fn value(&mut self) -> Result<Operand> {
        let operand = match self.peek() {
            Some(Token::Number(v)) => Operand::Number(*v),
            Some(Token::Quoted(t)) => Operand::Text(t.clone()),
            Some(Token::Word(w)) if !is_keyword(w) => Operand::Text(w.clone()),
            _ => return self.fail("a value (a number, a \"label\" or a duration such as 90d)"),
        };
        self.at += 1;
        Ok(operand)
    }

    fn list(&mut self) -> Result<Vec<Operand>> {
        if !self.symbol("[") {
            return self.fail("`[` to open the list of values");
        }
        let mut values = vec![self.value()?];
        while self.symbol(",") {
            values.push(self.value()?);
        }
        if !self.symbol("]") {
            return self.fail("`,` or `]`");
        }
        Ok(values)
    }
}

fn is_keyword(word: &str) -> bool {
    ["and", "or", "not", "in", "between"]
        .iter()
        .any(|k| word.eq_ignore_ascii_case(k))
}

/// One part as itself, several as a group.
fn group(mut parts: Vec<Condition>, make: fn(Vec<Condition>) -> Condition) -> Condition {
    if parts.len() == 1 {
        parts.remove(0)
    } else {
        make(parts)
    }
}

/// Parses an expression; errors name `path` and the column.
pub(crate) fn parse(text: &str, path: &Path) -> Result<Condition> {
    let tokens = tokenize(text, path)?;
    if tokens.is_empty() {
        return Err(path.error("an empty condition"));
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        path,
        end_column: text.chars().count() + 1,
    };
    let condition = parser.expr(0)?;
    if parser.peek().is_some() {
        return parser.fail("`and`, `or` or the end");
    }
    condition.validate_at(path)?;
    Ok(condition)
}

/// How `text` is written as a value so that it reads back as the same text.
pub(crate) fn quote_if_needed(text: &str) -> std::borrow::Cow<'_, str> {
    let reads_as_number = text.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
        && text.parse::<f64>().is_ok();
    let plain =
        !text.is_empty() && text.chars().all(is_word_char) && !is_keyword(text) && !reads_as_number;
    if plain {
        text.into()
    } else {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")).into()
    }
}

/// How a field name is written so that it reads back as the same name.
pub(crate) fn field_text(name: &str) -> std::borrow::Cow<'_, str> {
    let plain = !name.is_empty()
        && name.chars().all(is_word_char)
        && !is_keyword(name)
        && !["change", "relative"]
            .iter()
            .any(|k| name.eq_ignore_ascii_case(k))
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
    if plain {
        name.into()
    } else {
        format!("`{name}`").into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn p(text: &str) -> Condition {
        parse(text, &Path::root()).unwrap()
    }

    fn reason(text: &str) -> String {
        match parse(text, &Path::root()).unwrap_err().into_kind() {
            ErrorKind::InvalidPolicy { reason, .. } => reason,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn and_binds_tighter_than_or() {
        use Condition as C;
        assert_eq!(
            p("plan == gold and churn_probability > 0.6 or tags in [vip, b2b]"),
            C::any([
                C::all([
                    C::field("plan").eq("gold"),
                    C::field("churn_probability").gt(0.6)
                ]),
                C::field("tags").is_in(["vip", "b2b"]),
            ])
        );
        assert_eq!(
            p(r#"not (plan == "gold" or plan == 'silver')"#),
            C::not(C::any([
                C::field("plan").eq("gold"),
                C::field("plan").eq("silver")
            ]))
        );
    }

    #[test]
    fn reads_every_operator_and_value_form() {
        use Condition as C;
        assert_eq!(
            p("recency_days >= 90d"),
            C::field("recency_days").gte("90d")
        );
        assert_eq!(p("balance <= -1.5e1").to_string(), "balance <= -15");
        assert_eq!(
            p("relative change of spend_90d < -0.5"),
            C::field("spend_90d").relative_change().lt(-0.5)
        );
        assert_eq!(
            p("CHANGE OF orders_90d BETWEEN -3 AND 0"),
            C::field("orders_90d").change().between(-3, 0)
        );
        assert_eq!(p("cluster != 2"), C::not(C::field("cluster").eq(2)));
        assert_eq!(
            p(r#"`odd name` == "key \"accounts\"""#),
            C::field("odd name").eq("key \"accounts\"")
        );
    }

    #[test]
    fn display_reads_back_as_the_same_condition() {
        use Condition as C;
        let c = C::all([
            C::field("recency_days").gt("90d"),
            C::any([
                C::field("rfm_segment").is_in(["at_risk", "cant_lose_them"]),
                C::not(C::field("churn_probability").between(0.0, 0.5)),
            ]),
            C::field("spend_90d").relative_change().lte(-0.5),
            C::field("contract").eq("two years"),
            C::field("odd name").is_in(["and", "12"]),
        ]);
        assert_eq!(p(&c.to_string()), c);
    }

    #[test]
    fn errors_say_where_and_what_was_expected() {
        assert!(reason("plan ==").contains("at column 8: expected a value"));
        assert!(reason("plan gold").contains("expected an operator after `plan`"));
        assert!(reason("(plan == gold").contains("expected `)`"));
        assert!(reason("plan == gold silver").contains("`and`, `or` or the end"));
        assert!(reason("plan == \"gold").contains("never closed"));
        assert!(reason("plan == gold; x > 1").contains("unexpected `;`"));
        assert!(reason("").contains("empty"));
        assert!(reason("x between 3 and 1").contains("lower bound"));
        assert!(reason("churn_probability > 2").contains("outside [0, 1]"));
        let too_deep = |text: &str| match parse(text, &Path::root()).unwrap_err().into_kind() {
            ErrorKind::TooLarge { what, limit, .. } => (what, limit),
            other => panic!("unexpected {other:?}"),
        };
        let deep = format!("{}x > 1{}", "(".repeat(100), ")".repeat(100));
        assert_eq!(too_deep(&deep), ("nesting depth", MAX_DEPTH));
        let nots = format!("{}x > 1", "not ".repeat(100));
        assert_eq!(too_deep(&nots), ("nesting depth", MAX_DEPTH));
        // Exactly at the limit: 31 `not`s around a comparison.
        let at_limit = format!("{}x > 1", "not ".repeat(MAX_DEPTH - 1));
        assert_eq!(p(&at_limit).depth(), MAX_DEPTH);
    }
}
