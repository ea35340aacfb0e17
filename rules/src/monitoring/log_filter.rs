//! CloudWatch Logs metric filter patterns on JSON log events (the CloudTrail
//! records a trail delivers to its log group), judged against one KMS API
//! call: does the pattern match every record of that call?
//!
//! The syntax is CloudWatch Logs' JSON filter syntax
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>):
//! `{ ($.eventSource = kms.amazonaws.com) && ($.eventName = DisableKey) }`,
//! with `=` and `!=` (and `*` wildcards), `IS TRUE`, `IS FALSE`,
//! `IS NULL`, `NOT EXISTS`, numeric comparisons, `&&`, `||` and
//! parentheses. `&&` and `||` mixed without parentheses, regular
//! expressions and the text (non-JSON) patterns are refused as not
//! understood: a filter atrest cannot read is not counted as catching
//! anything.

use super::{wildcard_match, Call, Known, Truth};

/// Whether the metric filter `pattern` matches every CloudTrail record of
/// `call`; `Err` (the reason) when the pattern is not understood.
pub fn matches_every(pattern: &str, call: &Call<'_>) -> Result<Truth, String> {
    let tokens = tokens(pattern)?;
    let mut parser = Parser { tokens, at: 0 };
    parser.expect(&Token::Open('{'))?;
    let expr = parser.expr()?;
    parser.expect(&Token::Close('}'))?;
    if parser.at != parser.tokens.len() {
        return Err("text after the closing `}`".into());
    }
    Ok(expr.truth(call))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open(char),
    Close(char),
    And,
    Or,
    Op(&'static str),
    Selector(String),
    Quoted(String),
    Word(String),
}

fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let stop = |c: char| c.is_whitespace() || "(){}&|=!<>\"".contains(c);
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '{' | '(' => {
                out.push(Token::Open(c));
                i += 1;
            }
            '}' | ')' => {
                out.push(Token::Close(c));
                i += 1;
            }
            '&' if next == Some('&') => {
                out.push(Token::And);
                i += 2;
            }
            '|' if next == Some('|') => {
                out.push(Token::Or);
                i += 2;
            }
            '!' if next == Some('=') => {
                out.push(Token::Op("!="));
                i += 2;
            }
            '<' | '>' if next == Some('=') => {
                out.push(Token::Op(if c == '<' { "<=" } else { ">=" }));
                i += 2;
            }
            '=' => {
                out.push(Token::Op("="));
                i += 1;
            }
            '<' | '>' => {
                out.push(Token::Op(if c == '<' { "<" } else { ">" }));
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("a quoted value is not closed".into()),
                        Some('"') => break,
                        Some('\\') => {
                            s.extend(chars.get(i + 1));
                            i += 2;
                        }
                        Some(c) => {
                            s.push(*c);
                            i += 1;
                        }
                    }
                }
                i += 1;
                out.push(Token::Quoted(s));
            }
            _ => {
                let start = i;
                while i < chars.len() && !stop(chars[i]) {
                    i += 1;
                }
                if start == i {
                    return Err(format!("unexpected `{c}`"));
                }
                let word: String = chars[start..i].iter().collect();
                out.push(if word.starts_with('$') {
                    Token::Selector(word)
                } else {
                    Token::Word(word)
                });
            }
        }
    }
    Ok(out)
}

/// A parsed filter expression.
#[derive(Debug)]
enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Test { path: Option<Vec<String>>, test: Test },
}

#[derive(Debug)]
enum Test {
    Equals(String),
    NotEquals(String),
    Numeric,
    IsBool(bool),
    IsNull,
    NotExists,
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn expect(&mut self, want: &Token) -> Result<(), String> {
        match self.next() {
            Some(t) if &t == want => Ok(()),
            Some(t) => Err(format!("expected {want:?}, found {t:?}")),
            None => Err(format!("expected {want:?} at the end")),
        }
    }

    fn expr(&mut self) -> Result<Expr, String> {
        let mut terms = vec![self.term()?];
        let mut joiner: Option<Token> = None;
        while let Some(t @ (Token::And | Token::Or)) = self.peek().cloned() {
            if joiner.as_ref().is_some_and(|j| j != &t) {
                return Err("`&&` and `||` are mixed without parentheses".into());
            }
            self.at += 1;
            joiner = Some(t);
            terms.push(self.term()?);
        }
        Ok(match joiner {
            None => terms.remove(0),
            Some(Token::And) => Expr::And(terms),
            Some(_) => Expr::Or(terms),
        })
    }

    fn term(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Open('(')) => {
                let e = self.expr()?;
                self.expect(&Token::Close(')'))?;
                Ok(e)
            }
            Some(Token::Selector(selector)) => {
                let path = path_of(&selector)?;
                let test = self.test()?;
                Ok(Expr::Test { path, test })
            }
            other => Err(format!("expected a `$.field` test, found {other:?}")),
        }
    }

    fn test(&mut self) -> Result<Test, String> {
        let value = |t: Option<Token>| match t {
            Some(Token::Quoted(s) | Token::Word(s)) => Ok(s),
            other => Err(format!("expected a value, found {other:?}")),
        };
        match self.next() {
            Some(Token::Op("=")) => {
                let v = value(self.next())?;
                if v.starts_with('%') {
                    return Err("regular expressions are not evaluated".into());
                }
                Ok(Test::Equals(v))
            }
            Some(Token::Op("!=")) => Ok(Test::NotEquals(value(self.next())?)),
            Some(Token::Op(_)) => value(self.next()).map(|_| Test::Numeric),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("IS") => match self.next() {
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("TRUE") => Ok(Test::IsBool(true)),
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("FALSE") => Ok(Test::IsBool(false)),
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("NULL") => Ok(Test::IsNull),
                other => Err(format!("expected TRUE, FALSE or NULL after IS, found {other:?}")),
            },
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("NOT") => match self.next() {
                Some(Token::Word(v)) if v.eq_ignore_ascii_case("EXISTS") => Ok(Test::NotExists),
                other => Err(format!("expected EXISTS after NOT, found {other:?}")),
            },
            other => Err(format!("expected a comparison, found {other:?}")),
        }
    }
}

/// `$.a.b` as `["a", "b"]`; `None` for a path through an array (`$.a[0]`),
/// whose value atrest does not know.
fn path_of(selector: &str) -> Result<Option<Vec<String>>, String> {
    let rest = selector
        .strip_prefix("$.")
        .ok_or_else(|| format!("`{selector}` is not a `$.field` selector"))?;
    if rest.contains('[') {
        return Ok(None);
    }
    Ok(Some(rest.split('.').map(str::to_owned).collect()))
}

impl Expr {
    fn truth(&self, call: &Call<'_>) -> Truth {
        match self {
            Expr::And(all) => all.iter().fold(Truth::True, |t, e| t.and(e.truth(call))),
            Expr::Or(any) => any.iter().fold(Truth::False, |t, e| t.or(e.truth(call))),
            Expr::Test { path, test } => {
                let known = path.as_ref().and_then(|p| {
                    let p: Vec<&str> = p.iter().map(String::as_str).collect();
                    call.record_field(&p)
                });
                match known {
                    None => Truth::Unknown,
                    Some(known) => test_truth(test, &known),
                }
            }
        }
    }
}

fn test_truth(test: &Test, known: &Known) -> Truth {
    match (test, known) {
        (Test::Equals(v), Known::Text(t)) => Truth::from_bool(wildcard_match(v, t)),
        (Test::NotEquals(v), Known::Text(t)) => Truth::from_bool(!wildcard_match(v, t)),
        (Test::IsBool(b), Known::Bool(k)) => Truth::from_bool(b == k),
        (Test::IsBool(_), Known::Text(_)) | (Test::IsNull | Test::NotExists, _) | (Test::Numeric, _) => Truth::False,
        // `= true` on a boolean: not a documented form; not relied on.
        (Test::Equals(_) | Test::NotEquals(_), Known::Bool(_)) => Truth::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(pattern: &str, name: &str) -> Result<Truth, String> {
        let call = Call {
            name,
            account: Some("111122223333"),
            region: Some("eu-west-1"),
        };
        matches_every(pattern, &call)
    }

    /// The CIS AWS Foundations Benchmark's filter for disabled or deleted keys.
    const CIS: &str =
        "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }";

    #[test]
    fn the_cis_filter_catches_its_two_calls() {
        assert_eq!(truth(CIS, "DisableKey"), Ok(Truth::True));
        assert_eq!(truth(CIS, "ScheduleKeyDeletion"), Ok(Truth::True));
        assert_eq!(truth(CIS, "PutKeyPolicy"), Ok(Truth::False));
    }

    #[test]
    fn quoted_values_wildcards_and_negations() {
        assert_eq!(truth(r#"{ $.eventName = "Delete*" }"#, "DeleteAlias"), Ok(Truth::True));
        assert_eq!(truth(r#"{ $.eventName != "Decrypt" }"#, "DeleteAlias"), Ok(Truth::True));
        assert_eq!(truth("{ $.readOnly IS FALSE }", "DeleteAlias"), Ok(Truth::True));
        assert_eq!(truth("{ $.errorCode NOT EXISTS }", "DeleteAlias"), Ok(Truth::Unknown));
    }

    #[test]
    fn a_test_on_what_varies_is_not_every_call() {
        let p = "{ ($.eventName = DisableKey) && ($.userIdentity.type = Root) }";
        assert_eq!(truth(p, "DisableKey"), Ok(Truth::Unknown));
        let p = "{ ($.eventName = DisableKey) || ($.userIdentity.type = Root) }";
        assert_eq!(truth(p, "DisableKey"), Ok(Truth::True));
        assert_eq!(truth("{ $.resources[0].ARN = * }", "DisableKey"), Ok(Truth::Unknown));
    }

    #[test]
    fn what_is_not_understood_is_an_error() {
        assert!(truth("{ $.eventName = DisableKey && $.a = b || $.c = d }", "DisableKey").is_err());
        assert!(truth("ScheduleKeyDeletion", "ScheduleKeyDeletion").is_err());
        assert!(truth("{ $.eventName = %Disable.*% }", "DisableKey").is_err());
        assert!(truth("{ $.eventName = \"DisableKey }", "DisableKey").is_err());
        assert!(truth("{ $.eventName = DisableKey } extra", "DisableKey").is_err());
    }
}
