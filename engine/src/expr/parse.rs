//! The parser: text to [`Expr`], iteratively (no recursion), with a nesting cap.

use super::ast::{Call, Expr, ExprKind, Func, Name, Path, Selection, TeamSel};
use super::{ExprError, MAX_NESTING};
use crate::source::Span;
use crate::suggest::did_you_mean;

const SYNTAX: &str = "expr-syntax";

/// Parses a property expression.
///
/// ```text
/// expr     := func '(' expr ')' | path
/// func     := min | max | avg | median | sum | count | stddev | flatten | set_intersection
/// path     := ('teams' | 'team') '[' teamsel ']'
///             ( '.' 'players' ( '[' 'playerId' ']' | '.' 'attributes' '[' NAME ']' )? )?
/// teamsel  := '*' | NAME (',' NAME)*
/// ```
///
/// Whitespace is allowed between all tokens. A NAME is a run of characters other than
/// whitespace and `[ ] ( ) , * .`. `team[...]` and `playerid` are accepted and recorded in
/// the tree ([`Path::singular_team`], [`Selection::PlayerId`]). Functions may nest at most
/// [`MAX_NESTING`] deep. Never panics.
pub fn parse(src: &str) -> Result<Expr, ExprError> {
    Parser { src, pos: 0 }.expr()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Word(&'a str),
    LBracket,
    RBracket,
    LParen,
    RParen,
    Comma,
    Star,
    Dot,
    End,
}

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    tok: Tok<'a>,
    span: Span,
}

fn is_punct(c: char) -> bool {
    matches!(c, '[' | ']' | '(' | ')' | ',' | '*' | '.')
}

/// How a token is named in a message.
fn describe(tok: Tok<'_>) -> String {
    match tok {
        Tok::Word(w) => {
            const MAX: usize = 40;
            match w.char_indices().nth(MAX) {
                Some((cut, _)) => format!("`{}…`", &w[..cut]),
                None => format!("`{w}`"),
            }
        }
        Tok::LBracket => "`[`".into(),
        Tok::RBracket => "`]`".into(),
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Comma => "`,`".into(),
        Tok::Star => "`*`".into(),
        Tok::Dot => "`.`".into(),
        Tok::End => "the end of the expression".into(),
    }
}

struct OpenCall {
    func: Func,
    name_span: Span,
    open: Span,
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    /// The token starting at or after byte `from` (a char boundary).
    fn token_at(&self, from: usize) -> Token<'a> {
        let rest = &self.src[from..];
        let Some((skip, c)) = rest.char_indices().find(|&(_, c)| !c.is_whitespace()) else {
            let end = self.src.len();
            return Token { tok: Tok::End, span: Span::new(end, end) };
        };
        let start = from + skip;
        let single = |tok| Token { tok, span: Span::new(start, start + 1) };
        match c {
            '[' => single(Tok::LBracket),
            ']' => single(Tok::RBracket),
            '(' => single(Tok::LParen),
            ')' => single(Tok::RParen),
            ',' => single(Tok::Comma),
            '*' => single(Tok::Star),
            '.' => single(Tok::Dot),
            _ => {
                let word = &self.src[start..];
                let len = word.find(|c: char| c.is_whitespace() || is_punct(c)).unwrap_or(word.len());
                Token { tok: Tok::Word(&word[..len]), span: Span::new(start, start + len) }
            }
        }
    }

    fn peek(&self) -> Token<'a> {
        self.token_at(self.pos)
    }

    fn bump(&mut self, token: Token<'a>) {
        self.pos = token.span.end as usize;
    }

    fn error(span: Span, message: impl Into<String>, help: Option<String>) -> ExprError {
        ExprError::new(span, SYNTAX, message, help)
    }

    /// Consumes `want` or fails with `message` (plus what was found instead).
    fn expect(&mut self, want: Tok<'a>, message: &str, help: Option<String>) -> Result<Token<'a>, ExprError> {
        let t = self.peek();
        if t.tok == want {
            self.bump(t);
            Ok(t)
        } else {
            Err(Self::error(t.span, format!("{message}, found {}", describe(t.tok)), help))
        }
    }

    fn expr(&mut self) -> Result<Expr, ExprError> {
        let mut calls: Vec<OpenCall> = Vec::new();
        let path = loop {
            let t = self.peek();
            match t.tok {
                Tok::Word(w) => {
                    let after = self.token_at(t.span.end as usize);
                    if after.tok == Tok::LParen {
                        let Some(func) = Func::from_name(w) else {
                            return Err(unknown_function(w, t.span));
                        };
                        if calls.len() == MAX_NESTING {
                            return Err(Self::error(
                                t.span,
                                format!("the expression is nested too deeply (more than {MAX_NESTING} function calls)"),
                                None,
                            ));
                        }
                        self.bump(after);
                        calls.push(OpenCall { func, name_span: t.span, open: after.span });
                    } else if w == "teams" || w == "team" {
                        self.bump(t);
                        break self.path(w, t.span)?;
                    } else if let Some(func) = Func::from_name(w) {
                        return Err(Self::error(
                            after.span,
                            format!("expected `(` after the function name `{func}`, found {}", describe(after.tok)),
                            Some(format!("write `{func}(...)`")),
                        ));
                    } else {
                        let help = if w == "players" || w == "player" {
                            Some("players are selected through their teams, e.g. `teams[*].players`".to_owned())
                        } else {
                            did_you_mean(w, ["teams"]).or_else(|| {
                                Some(format!(
                                    "expressions start at a team selector, e.g. `teams[*].players.attributes[{w}]`"
                                ))
                            })
                        };
                        return Err(Self::error(
                            t.span,
                            format!("expected a function call or `teams[...]`, found {}", describe(t.tok)),
                            help,
                        ));
                    }
                }
                Tok::End if calls.is_empty() => {
                    return Err(Self::error(
                        t.span,
                        "the expression is empty; expected a function call or `teams[...]`",
                        None,
                    ));
                }
                Tok::End | Tok::RParen if !calls.is_empty() => {
                    let func = calls.last().map_or(Func::Count, |c| c.func);
                    return Err(Self::error(
                        t.span,
                        format!("`{func}` needs an argument, found {}", describe(t.tok)),
                        Some(format!("write e.g. `{func}(teams[*].players)`")),
                    ));
                }
                _ => {
                    return Err(Self::error(
                        t.span,
                        format!("expected a function call or `teams[...]`, found {}", describe(t.tok)),
                        None,
                    ));
                }
            }
        };
        let start = calls.first().map_or(path.keyword_span.start, |c| c.name_span.start);
        let mut expr =
            Expr { span: Span { start: path.keyword_span.start, end: self.pos as u32 }, kind: ExprKind::Path(path) };
        while let Some(call) = calls.pop() {
            let t = self.peek();
            match t.tok {
                Tok::RParen => self.bump(t),
                Tok::End => {
                    return Err(Self::error(
                        call.open,
                        format!("this `(` of `{}` is never closed", call.func),
                        Some("add the closing `)`".to_owned()),
                    ));
                }
                Tok::Comma => {
                    return Err(Self::error(t.span, format!("`{}` takes exactly one argument", call.func), None));
                }
                _ => {
                    return Err(Self::error(
                        t.span,
                        format!("expected `)` to close `{}(`, found {}", call.func, describe(t.tok)),
                        None,
                    ));
                }
            }
            expr = Expr {
                span: Span { start: call.name_span.start, end: t.span.end },
                kind: ExprKind::Call(Call { func: call.func, name_span: call.name_span, arg: Box::new(expr) }),
            };
        }
        debug_assert_eq!(expr.span.start, start);
        let t = self.peek();
        match t.tok {
            Tok::End => Ok(expr),
            Tok::RParen => Err(Self::error(t.span, "unmatched `)`", None)),
            _ => Err(Self::error(
                t.span,
                format!("unexpected {} after the end of the expression", describe(t.tok)),
                None,
            )),
        }
    }

    /// The rest of a path after its `teams`/`team` keyword.
    fn path(&mut self, keyword: &str, keyword_span: Span) -> Result<Path, ExprError> {
        let open = self.expect(
            Tok::LBracket,
            &format!("expected `[` after `{keyword}`"),
            Some("write `teams[*]` for all teams or `teams[name]` for one".to_owned()),
        )?;
        let teams = self.team_sel(open.span)?;
        let selection = self.selection()?;
        Ok(Path { keyword_span, singular_team: keyword == "team", teams, selection })
    }

    fn team_sel(&mut self, open: Span) -> Result<TeamSel, ExprError> {
        let never_closed = || Self::error(open, "this `[` is never closed", Some("add the closing `]`".to_owned()));
        let t = self.peek();
        let sel = match t.tok {
            Tok::Star => {
                self.bump(t);
                TeamSel::All(t.span)
            }
            Tok::Word(_) => {
                let mut names = Vec::new();
                let mut t = t;
                loop {
                    let Tok::Word(w) = t.tok else {
                        let message = match t.tok {
                            Tok::Star => "`*` cannot be combined with team names".to_owned(),
                            Tok::End => return Err(never_closed()),
                            other => {
                                format!("expected a team name after `,`, found {}", describe(other))
                            }
                        };
                        return Err(Self::error(t.span, message, None));
                    };
                    self.bump(t);
                    names.push(Name { text: w.to_owned(), span: t.span });
                    let next = self.peek();
                    match next.tok {
                        Tok::Comma => {
                            self.bump(next);
                            t = self.peek();
                        }
                        _ => break,
                    }
                }
                TeamSel::Names(names)
            }
            Tok::RBracket => {
                return Err(Self::error(
                    Span { start: open.start, end: t.span.end },
                    "expected a team name or `*` inside `teams[]`",
                    Some("write `teams[*]` for all teams or `teams[name]` for one".to_owned()),
                ));
            }
            Tok::End => return Err(never_closed()),
            other => {
                return Err(Self::error(
                    t.span,
                    format!("expected a team name or `*`, found {}", describe(other)),
                    None,
                ));
            }
        };
        let t = self.peek();
        match (t.tok, &sel) {
            (Tok::RBracket, _) => {
                self.bump(t);
                Ok(sel)
            }
            (Tok::End, _) => Err(never_closed()),
            (Tok::Comma, TeamSel::All(_)) => Err(Self::error(t.span, "`*` cannot be combined with team names", None)),
            (other, TeamSel::All(_)) => {
                Err(Self::error(t.span, format!("expected `]` after `*`, found {}", describe(other)), None))
            }
            (other, TeamSel::Names(_)) => Err(Self::error(
                t.span,
                format!("expected `,` or `]` after a team name, found {}", describe(other)),
                None,
            )),
        }
    }

    /// `.players`, `.players[playerId]`, `.players.attributes[name]` or nothing.
    fn selection(&mut self) -> Result<Selection, ExprError> {
        let t = self.peek();
        if t.tok != Tok::Dot {
            return Ok(Selection::Teams);
        }
        self.bump(t);
        let players = self.keyword("players", "after `.`")?;
        let t = self.peek();
        match t.tok {
            Tok::LBracket => {
                self.bump(t);
                let p = self.peek();
                let lowercase = match p.tok {
                    Tok::Word("playerId") => false,
                    Tok::Word("playerid") => true,
                    Tok::Word(w) => {
                        let help = did_you_mean(w, ["playerId"])
                            .unwrap_or_else(|| format!("to read a player attribute, write `players.attributes[{w}]`"));
                        return Err(Self::error(
                            p.span,
                            format!("`players[...]` can only select `playerId`, found {}", describe(p.tok)),
                            Some(help),
                        ));
                    }
                    other => {
                        return Err(Self::error(
                            p.span,
                            format!("expected `playerId` after `players[`, found {}", describe(other)),
                            None,
                        ));
                    }
                };
                self.bump(p);
                self.close_bracket(t.span, "after `playerId`")?;
                Ok(Selection::PlayerId { span: p.span, lowercase })
            }
            Tok::Dot => {
                self.bump(t);
                self.keyword("attributes", "after `players.`")?;
                let open = self.expect(Tok::LBracket, "expected `[` after `attributes`", None)?;
                let n = self.peek();
                let Tok::Word(w) = n.tok else {
                    let span =
                        if n.tok == Tok::RBracket { Span { start: open.span.start, end: n.span.end } } else { n.span };
                    return Err(Self::error(
                        span,
                        format!("expected an attribute name after `attributes[`, found {}", describe(n.tok)),
                        None,
                    ));
                };
                self.bump(n);
                let c = self.peek();
                if c.tok == Tok::Comma {
                    return Err(Self::error(c.span, "only one attribute can be selected", None));
                }
                self.close_bracket(open.span, "after the attribute name")?;
                Ok(Selection::Attribute(Name { text: w.to_owned(), span: n.span }))
            }
            _ => Ok(Selection::Players(players)),
        }
    }

    /// Consumes the word `keyword` exactly, suggesting it for near misses.
    fn keyword(&mut self, keyword: &'static str, context: &str) -> Result<Span, ExprError> {
        let t = self.peek();
        match t.tok {
            Tok::Word(w) if w == keyword => {
                self.bump(t);
                Ok(t.span)
            }
            other => {
                let help = match other {
                    Tok::Word(w) => did_you_mean(w, [keyword]),
                    _ => None,
                };
                Err(Self::error(t.span, format!("expected `{keyword}` {context}, found {}", describe(other)), help))
            }
        }
    }

    fn close_bracket(&mut self, open: Span, context: &str) -> Result<(), ExprError> {
        let t = self.peek();
        match t.tok {
            Tok::RBracket => {
                self.bump(t);
                Ok(())
            }
            Tok::End => Err(Self::error(open, "this `[` is never closed", Some("add the closing `]`".to_owned()))),
            other => Err(Self::error(t.span, format!("expected `]` {context}, found {}", describe(other)), None)),
        }
    }
}

fn unknown_function(name: &str, span: Span) -> ExprError {
    let help = did_you_mean(name, Func::ALL.iter().map(|f| f.name())).unwrap_or_else(|| {
        let names: Vec<&str> = Func::ALL.iter().map(|f| f.name()).collect();
        format!("the functions are {}", names.join(", "))
    });
    ExprError::new(span, "unknown-function", format!("unknown function `{name}`"), Some(help))
}
