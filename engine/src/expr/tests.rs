use std::fmt::Write as _;

use expect_test::{Expect, expect};
use proptest::prelude::*;

use super::*;
use crate::intern::{Interner, Sym};

// ---------------------------------------------------------------------------------------
// Helpers

/// A compact rendering of a parse tree with every span.
fn dump(e: &Expr) -> String {
    let mut out = String::new();
    let calls: Vec<&Call> = e.calls().collect();
    let mut spans = vec![e.span];
    let mut node = e;
    while let ExprKind::Call(call) = &node.kind {
        node = &call.arg;
        spans.push(node.span);
    }
    for (call, span) in calls.iter().zip(&spans) {
        let _ = write!(out, "{}@{}..{}(", call.func, span.start, span.end);
        assert_eq!(
            (call.name_span.start, call.name_span.end - call.name_span.start),
            (span.start, call.func.name().len() as u32)
        );
    }
    let p = e.path();
    let s = spans.last().unwrap();
    let keyword = if p.singular_team { "team" } else { "teams" };
    let _ = write!(out, "{keyword}@{}..{}[", s.start, s.end);
    match &p.teams {
        TeamSel::All(sp) => {
            let _ = write!(out, "*@{}", sp.start);
        }
        TeamSel::Names(names) => {
            let names: Vec<String> = names.iter().map(|n| format!("{}@{}", n.text, n.span.start)).collect();
            out.push_str(&names.join(","));
        }
    }
    out.push(']');
    match &p.selection {
        Selection::Teams => {}
        Selection::Players(sp) => {
            let _ = write!(out, ".players@{}", sp.start);
        }
        Selection::PlayerId { span, lowercase } => {
            let word = if *lowercase { "playerid" } else { "playerId" };
            let _ = write!(out, ".players[{word}@{}]", span.start);
        }
        Selection::Attribute(n) => {
            let _ = write!(out, ".players.attributes[{}@{}]", n.text, n.span.start);
        }
    }
    out.push_str(&")".repeat(calls.len()));
    out
}

fn show_error(e: &ExprError) -> String {
    let mut s = format!("{}@{}..{}: {}", e.code, e.start, e.end, e.message);
    if let Some(help) = &e.help {
        let _ = write!(s, "\n      help: {help}");
    }
    s
}

fn parse_table(inputs: &[&str], expect: Expect) {
    let mut out = String::new();
    for input in inputs {
        let shown = match parse(input) {
            Ok(e) => dump(&e),
            Err(e) => show_error(&e),
        };
        let _ = writeln!(out, "{input:?}\n    {shown}");
    }
    expect.assert_eq(&out);
}

const ATTRIBUTES: &[(&str, AttrType)] = &[
    ("skill", AttrType::Number),
    ("gameMode", AttrType::String),
    ("character", AttrType::StringList),
    ("preferredOpponents", AttrType::StringList),
    ("mapPrefs", AttrType::StringNumberMap),
    ("monster-kills", AttrType::Number),
];

fn attributes() -> Vec<(String, AttrType)> {
    ATTRIBUTES.iter().map(|&(n, t)| (n.to_owned(), t)).collect()
}

/// red (1), blue (1), trio (2): concrete teams red=0, blue=1, trio_1=2, trio_2=3.
fn teams() -> Vec<TeamScope> {
    [("red", 1), ("blue", 1), ("trio", 2)]
        .into_iter()
        .map(|(name, quantity)| TeamScope { name: name.to_owned(), quantity })
        .collect()
}

fn check_table(inputs: &[&str], expect: Expect) {
    let (attributes, teams) = (attributes(), teams());
    let scope = Scope { attributes: &attributes, teams: &teams };
    let mut out = String::new();
    for input in inputs {
        let expr = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
        let shown = match check(&expr, &scope) {
            Ok(ty) => ty.to_string(),
            Err(errors) => errors.iter().map(show_error).collect::<Vec<_>>().join("\n    "),
        };
        let _ = writeln!(out, "{input}\n    {shown}");
    }
    expect.assert_eq(&out);
}

/// An attribute value of a test player, indexed like `ATTRIBUTES`.
#[derive(Clone)]
enum Val {
    N(f64),
    S(Sym),
    L(Vec<Sym>),
    None,
}

struct TestPlayer {
    id: Sym,
    attrs: Vec<Val>,
}

struct TestMatch {
    interner: Interner,
    teams: Vec<Vec<TestPlayer>>,
}

impl TestMatch {
    /// red: alice 10, bob 20; blue: carol 30; trio_1: empty; trio_2: dave 5, erin 8.
    fn new() -> TestMatch {
        let mut interner = Interner::new();
        let mut player = |id: &str, skill: f64, mode: &str, character: &[&str], prefs: &[&str]| {
            let mut list = |xs: &[&str]| Val::L(xs.iter().map(|x| interner.intern(x)).collect());
            let character = list(character);
            let prefs = list(prefs);
            let mode = Val::S(interner.intern(mode));
            TestPlayer {
                id: interner.intern(id),
                attrs: vec![Val::N(skill), mode, character, prefs, Val::None, Val::N(skill * 2.0)],
            }
        };
        let teams = vec![
            vec![
                player("alice", 10.0, "ctf", &["medic", "tank"], &["tank", "sniper"]),
                player("bob", 20.0, "ctf", &["sniper"], &["medic", "tank", "sniper"]),
            ],
            vec![player("carol", 30.0, "dm", &["tank", "medic"], &["sniper", "tank", "sniper", "medic"])],
            vec![],
            vec![player("dave", 5.0, "ctf", &[], &["tank"]), player("erin", 8.0, "dm", &["medic"], &["tank", "medic"])],
        ];
        TestMatch { interner, teams }
    }

    fn attr(&self, team: usize, member: usize, attr: usize) -> &Val {
        &self.teams[team][member].attrs[attr]
    }
}

impl Candidate for TestMatch {
    fn team_count(&self) -> usize {
        self.teams.len()
    }
    fn team_size(&self, team: usize) -> usize {
        self.teams[team].len()
    }
    fn number(&self, team: usize, member: usize, attr: usize) -> f64 {
        match self.attr(team, member, attr) {
            Val::N(n) => *n,
            _ => panic!("attribute {attr} is not a number"),
        }
    }
    fn string(&self, team: usize, member: usize, attr: usize) -> Sym {
        match self.attr(team, member, attr) {
            Val::S(s) => *s,
            _ => panic!("attribute {attr} is not a string"),
        }
    }
    fn string_list(&self, team: usize, member: usize, attr: usize) -> &[Sym] {
        match self.attr(team, member, attr) {
            Val::L(l) => l,
            _ => panic!("attribute {attr} is not a string list"),
        }
    }
    fn player_id(&self, team: usize, member: usize) -> Sym {
        self.teams[team][member].id
    }
}

fn render(s: &Scratch, id: NodeId, interner: &Interner) -> String {
    match *s.node(id) {
        Node::Num(n) => format!("{n}"),
        Node::Str(sym) => interner.resolve(sym).to_owned(),
        Node::Team(t) => format!("team#{t}"),
        Node::Player { team, member } => format!("p{team}.{member}"),
        Node::Absent => "absent".to_owned(),
        Node::List { .. } => {
            let items: Vec<String> = s.children(id).map(|c| render(s, c, interner)).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

fn compile_str(src: &str, interner: &mut Interner) -> CompiledExpr {
    let (attributes, teams) = (attributes(), teams());
    let scope = Scope { attributes: &attributes, teams: &teams };
    let expr = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    check(&expr, &scope).unwrap_or_else(|e| panic!("{src}: {e:?}"));
    compile(&expr, &scope, interner)
}

fn eval_table(inputs: &[&str], expect: Expect) {
    let mut m = TestMatch::new();
    let mut scratch = Scratch::default();
    let mut out = String::new();
    for input in inputs {
        let compiled = compile_str(input, &mut m.interner);
        let root = compiled.eval(&m, &mut scratch);
        let _ = writeln!(out, "{input}\n    {}: {}", compiled.ty(), render(&scratch, root, &m.interner));
    }
    expect.assert_eq(&out);
}

// ---------------------------------------------------------------------------------------
// Parsing

#[test]
fn parses_documented_expressions_and_whitespace_variants() {
    parse_table(
        &[
            "avg(teams[*].players.attributes[skill])",
            "max(count(teams[*].players))",
            "flatten(teams[*].players[playerId])",
            "set_intersection(flatten(teams[*].players.attributes[preferredOpponents]))",
            "count(teams[red].players)",
            "teams[monster].players.attributes[wantsToBeMonster]",
            "avg(flatten(teams[*].players.attributes[skill]))",
            "teams[red,blue]",
            "teams[Red, Yellow].players",
            "count (teams[*].players)",
            "  avg ( teams [ * ] . players . attributes [ skill ] )  ",
            "max(\n\tavg(teams[*].players.attributes[skill]))",
            "team[red].players",
            "teams[red].players[playerid]",
            "teams[*].players.attributes[monster-kills]",
            "teams[trio_2]",
            "teams[équipe].players",
            "stddev(median(sum(min(teams[*].players.attributes[x]))))",
        ],
        expect![[r#"
            "avg(teams[*].players.attributes[skill])"
                avg@0..39(teams@4..38[*@10].players.attributes[skill@32])
            "max(count(teams[*].players))"
                max@0..28(count@4..27(teams@10..26[*@16].players@19))
            "flatten(teams[*].players[playerId])"
                flatten@0..35(teams@8..34[*@14].players[playerId@25])
            "set_intersection(flatten(teams[*].players.attributes[preferredOpponents]))"
                set_intersection@0..74(flatten@17..73(teams@25..72[*@31].players.attributes[preferredOpponents@53]))
            "count(teams[red].players)"
                count@0..25(teams@6..24[red@12].players@17)
            "teams[monster].players.attributes[wantsToBeMonster]"
                teams@0..51[monster@6].players.attributes[wantsToBeMonster@34]
            "avg(flatten(teams[*].players.attributes[skill]))"
                avg@0..48(flatten@4..47(teams@12..46[*@18].players.attributes[skill@40]))
            "teams[red,blue]"
                teams@0..15[red@6,blue@10]
            "teams[Red, Yellow].players"
                teams@0..26[Red@6,Yellow@11].players@19
            "count (teams[*].players)"
                count@0..24(teams@7..23[*@13].players@16)
            "  avg ( teams [ * ] . players . attributes [ skill ] )  "
                avg@2..54(teams@8..52[*@16].players.attributes[skill@45])
            "max(\n\tavg(teams[*].players.attributes[skill]))"
                max@0..46(avg@6..45(teams@10..44[*@16].players.attributes[skill@38]))
            "team[red].players"
                team@0..17[red@5].players@10
            "teams[red].players[playerid]"
                teams@0..28[red@6].players[playerid@19]
            "teams[*].players.attributes[monster-kills]"
                teams@0..42[*@6].players.attributes[monster-kills@28]
            "teams[trio_2]"
                teams@0..13[trio_2@6]
            "teams[équipe].players"
                teams@0..22[équipe@6].players@15
            "stddev(median(sum(min(teams[*].players.attributes[x]))))"
                stddev@0..56(median@7..55(sum@14..54(min@18..53(teams@22..52[*@28].players.attributes[x@50]))))
        "#]],
    );
}

#[test]
fn explains_syntax_errors() {
    parse_table(
        &[
            "",
            "   ",
            "skill",
            "players",
            "Teams[red]",
            "average(teams[*].players.attributes[skill])",
            "AVG(teams[*].players.attributes[skill])",
            "foo(teams[*])",
            "avg teams[*]",
            "avg()",
            "avg(",
            "avg(teams[*].players.attributes[skill]",
            "avg(teams[*].players.attributes[skill], teams[red])",
            "avg(teams[*].players.attributes[skill]))",
            "avg(teams[*].players.attributes[skill]) x",
            "(teams[*])",
            "teams",
            "teams red",
            "teams[]",
            "teams[",
            "teams[red",
            "teams[red,]",
            "teams[*,red]",
            "teams[red,*]",
            "teams[red blue]",
            "teams[(]",
            "teams[*].",
            "teams[*]..players",
            "teams[*].player",
            "teams[*].players[skill]",
            "teams[*].players[PlayerId]",
            "teams[*].players[]",
            "teams[*].players[playerId",
            "teams[*].players[playerId)",
            "teams[*].players.attribute[skill]",
            "teams[*].players.attributes",
            "teams[*].players.attributes[]",
            "teams[*].players.attributes[a,b]",
            "teams[*].players.attributes[skill",
            "teams[*].players.attributes[skill].x",
            "teams[*].players.attributes[skill]]",
        ],
        expect![[r#"
            ""
                expr-syntax@0..0: the expression is empty; expected a function call or `teams[...]`
            "   "
                expr-syntax@3..3: the expression is empty; expected a function call or `teams[...]`
            "skill"
                expr-syntax@0..5: expected a function call or `teams[...]`, found `skill`
                  help: expressions start at a team selector, e.g. `teams[*].players.attributes[skill]`
            "players"
                expr-syntax@0..7: expected a function call or `teams[...]`, found `players`
                  help: players are selected through their teams, e.g. `teams[*].players`
            "Teams[red]"
                expr-syntax@0..5: expected a function call or `teams[...]`, found `Teams`
                  help: did you mean 'teams'?
            "average(teams[*].players.attributes[skill])"
                unknown-function@0..7: unknown function `average`
                  help: the functions are min, max, avg, median, sum, count, stddev, flatten, set_intersection
            "AVG(teams[*].players.attributes[skill])"
                unknown-function@0..3: unknown function `AVG`
                  help: did you mean 'avg'?
            "foo(teams[*])"
                unknown-function@0..3: unknown function `foo`
                  help: the functions are min, max, avg, median, sum, count, stddev, flatten, set_intersection
            "avg teams[*]"
                expr-syntax@4..9: expected `(` after the function name `avg`, found `teams`
                  help: write `avg(...)`
            "avg()"
                expr-syntax@4..5: `avg` needs an argument, found `)`
                  help: write e.g. `avg(teams[*].players)`
            "avg("
                expr-syntax@4..4: `avg` needs an argument, found the end of the expression
                  help: write e.g. `avg(teams[*].players)`
            "avg(teams[*].players.attributes[skill]"
                expr-syntax@3..4: this `(` of `avg` is never closed
                  help: add the closing `)`
            "avg(teams[*].players.attributes[skill], teams[red])"
                expr-syntax@38..39: `avg` takes exactly one argument
            "avg(teams[*].players.attributes[skill]))"
                expr-syntax@39..40: unmatched `)`
            "avg(teams[*].players.attributes[skill]) x"
                expr-syntax@40..41: unexpected `x` after the end of the expression
            "(teams[*])"
                expr-syntax@0..1: expected a function call or `teams[...]`, found `(`
            "teams"
                expr-syntax@5..5: expected `[` after `teams`, found the end of the expression
                  help: write `teams[*]` for all teams or `teams[name]` for one
            "teams red"
                expr-syntax@6..9: expected `[` after `teams`, found `red`
                  help: write `teams[*]` for all teams or `teams[name]` for one
            "teams[]"
                expr-syntax@5..7: expected a team name or `*` inside `teams[]`
                  help: write `teams[*]` for all teams or `teams[name]` for one
            "teams["
                expr-syntax@5..6: this `[` is never closed
                  help: add the closing `]`
            "teams[red"
                expr-syntax@5..6: this `[` is never closed
                  help: add the closing `]`
            "teams[red,]"
                expr-syntax@10..11: expected a team name after `,`, found `]`
            "teams[*,red]"
                expr-syntax@7..8: `*` cannot be combined with team names
            "teams[red,*]"
                expr-syntax@10..11: `*` cannot be combined with team names
            "teams[red blue]"
                expr-syntax@10..14: expected `,` or `]` after a team name, found `blue`
            "teams[(]"
                expr-syntax@6..7: expected a team name or `*`, found `(`
            "teams[*]."
                expr-syntax@9..9: expected `players` after `.`, found the end of the expression
            "teams[*]..players"
                expr-syntax@9..10: expected `players` after `.`, found `.`
            "teams[*].player"
                expr-syntax@9..15: expected `players` after `.`, found `player`
                  help: did you mean 'players'?
            "teams[*].players[skill]"
                expr-syntax@17..22: `players[...]` can only select `playerId`, found `skill`
                  help: to read a player attribute, write `players.attributes[skill]`
            "teams[*].players[PlayerId]"
                expr-syntax@17..25: `players[...]` can only select `playerId`, found `PlayerId`
                  help: did you mean 'playerId'?
            "teams[*].players[]"
                expr-syntax@17..18: expected `playerId` after `players[`, found `]`
            "teams[*].players[playerId"
                expr-syntax@16..17: this `[` is never closed
                  help: add the closing `]`
            "teams[*].players[playerId)"
                expr-syntax@25..26: expected `]` after `playerId`, found `)`
            "teams[*].players.attribute[skill]"
                expr-syntax@17..26: expected `attributes` after `players.`, found `attribute`
                  help: did you mean 'attributes'?
            "teams[*].players.attributes"
                expr-syntax@27..27: expected `[` after `attributes`, found the end of the expression
            "teams[*].players.attributes[]"
                expr-syntax@27..29: expected an attribute name after `attributes[`, found `]`
            "teams[*].players.attributes[a,b]"
                expr-syntax@29..30: only one attribute can be selected
            "teams[*].players.attributes[skill"
                expr-syntax@27..28: this `[` is never closed
                  help: add the closing `]`
            "teams[*].players.attributes[skill].x"
                expr-syntax@34..35: unexpected `.` after the end of the expression
            "teams[*].players.attributes[skill]]"
                expr-syntax@34..35: unexpected `]` after the end of the expression
        "#]],
    );
}

#[test]
fn caps_nesting_without_overflowing() {
    let nested = |n: usize| format!("{}teams[*]{}", "count(".repeat(n), ")".repeat(n));
    assert!(parse(&nested(MAX_NESTING)).is_ok());
    let e = parse(&nested(MAX_NESTING + 1)).unwrap_err();
    assert_eq!((e.code, e.start), ("expr-syntax", 6 * MAX_NESTING));
    assert!(e.message.contains("nested too deeply"), "{e}");
    let e = parse(&"avg(".repeat(100_000)).unwrap_err();
    assert!(e.message.contains("nested too deeply"), "{e}");
}

#[test]
fn display_prints_normalised_text() {
    let e = parse(" max ( avg ( team [ red , trio_2 ] . players . attributes [ skill ] ) ) ").unwrap();
    assert_eq!(e.to_string(), "max(avg(team[red,trio_2].players.attributes[skill]))");
    let e = parse("flatten(teams[*].players[ playerid ])").unwrap();
    assert_eq!(e.to_string(), "flatten(teams[*].players[playerid])");
}

// ---------------------------------------------------------------------------------------
// Checking

#[test]
fn types_of_documented_expressions() {
    check_table(
        &[
            "teams[red]",
            "teams[red,blue]",
            "teams[*]",
            "teams[trio]",
            "teams[trio_2]",
            "teams[trio_1,trio_2]",
            "teams[red].players",
            "teams[red,blue].players",
            "teams[*].players",
            "teams[red].players[playerId]",
            "teams[*].players[playerId]",
            "teams[red].players.attributes[skill]",
            "teams[red,blue].players.attributes[skill]",
            "teams[*].players.attributes[skill]",
            "teams[red].players.attributes[gameMode]",
            "teams[*].players.attributes[character]",
            "teams[*].players.attributes[monster-kills]",
            "avg(teams[*].players.attributes[skill])",
            "avg(flatten(teams[*].players.attributes[skill]))",
            "count(teams[red].players)",
            "count(teams[*].players)",
            "max(avg(teams[*].players.attributes[skill]))",
            "max(count(teams[*].players))",
            "count(teams[*])",
            "count(flatten(teams[*].players))",
            "flatten(teams[*].players[playerId])",
            "flatten(teams[trio].players)",
            "flatten(teams[*].players.attributes[character])",
            "flatten(flatten(teams[*].players.attributes[character]))",
            "set_intersection(flatten(teams[*].players.attributes[preferredOpponents]))",
            "set_intersection(teams[*].players.attributes[preferredOpponents])",
            "count(teams[*].players.attributes[character])",
            "team[red].players[playerid]",
        ],
        expect![[r#"
            teams[red]
                team
            teams[red,blue]
                list of team
            teams[*]
                list of team
            teams[trio]
                list of team
            teams[trio_2]
                team
            teams[trio_1,trio_2]
                list of team
            teams[red].players
                list of player
            teams[red,blue].players
                list of list of player
            teams[*].players
                list of list of player
            teams[red].players[playerId]
                list of string
            teams[*].players[playerId]
                list of list of string
            teams[red].players.attributes[skill]
                list of number
            teams[red,blue].players.attributes[skill]
                list of list of number
            teams[*].players.attributes[skill]
                list of list of number
            teams[red].players.attributes[gameMode]
                list of string
            teams[*].players.attributes[character]
                list of list of list of string
            teams[*].players.attributes[monster-kills]
                list of list of number
            avg(teams[*].players.attributes[skill])
                list of number
            avg(flatten(teams[*].players.attributes[skill]))
                number
            count(teams[red].players)
                number
            count(teams[*].players)
                list of number
            max(avg(teams[*].players.attributes[skill]))
                number
            max(count(teams[*].players))
                number
            count(teams[*])
                number
            count(flatten(teams[*].players))
                number
            flatten(teams[*].players[playerId])
                list of string
            flatten(teams[trio].players)
                list of player
            flatten(teams[*].players.attributes[character])
                list of list of string
            flatten(flatten(teams[*].players.attributes[character]))
                list of string
            set_intersection(flatten(teams[*].players.attributes[preferredOpponents]))
                list of string
            set_intersection(teams[*].players.attributes[preferredOpponents])
                list of list of string
            count(teams[*].players.attributes[character])
                list of list of number
            team[red].players[playerid]
                list of string
        "#]],
    );
}

#[test]
fn reports_unknown_names_and_type_errors() {
    check_table(
        &[
            "teams[reed]",
            "teams[xyz]",
            "teams[trio_3]",
            "teams[trio_02]",
            "teams[red_1]",
            "avg(teams[reed,bleu].players.attributes[skil])",
            "teams[*].players.attributes[Skill]",
            "teams[*].players.attributes[rank]",
            "teams[*].players.attributes[mapPrefs]",
            "avg(avg(teams[red].players.attributes[skill]))",
            "avg(teams[*].players)",
            "avg(teams[*])",
            "min(teams[red])",
            "sum(teams[*].players.attributes[gameMode])",
            "median(teams[*].players.attributes[character])",
            "count(count(teams[red].players))",
            "flatten(teams[red].players.attributes[skill])",
            "flatten(teams[red])",
            "flatten(avg(teams[red].players.attributes[skill]))",
            "set_intersection(teams[red].players[playerId])",
            "set_intersection(teams[*].players.attributes[skill])",
            "stddev(count(count(teams[*].players)))",
        ],
        expect![[r#"
            teams[reed]
                unknown-team@6..10: unknown team 'reed'
                  help: did you mean 'red'?
            teams[xyz]
                unknown-team@6..9: unknown team 'xyz'
                  help: the rule set's teams are red, blue, trio (trio_1 … trio_2), or `*` for all
            teams[trio_3]
                unknown-team@6..12: unknown team 'trio_3'
                  help: team 'trio' has quantity 2, so its teams are trio_1 … trio_2; 3 is out of range
            teams[trio_02]
                unknown-team@6..13: unknown team 'trio_02'
                  help: did you mean 'trio_2'?
            teams[red_1]
                unknown-team@6..11: unknown team 'red_1'
                  help: team 'red' has quantity 1, so its only team is called 'red'
            avg(teams[reed,bleu].players.attributes[skil])
                unknown-team@10..14: unknown team 'reed'
                  help: did you mean 'red'?
                unknown-team@15..19: unknown team 'bleu'
                  help: did you mean 'blue'?
                unknown-attribute@40..44: unknown player attribute 'skil'
                  help: did you mean 'skill'?
            teams[*].players.attributes[Skill]
                unknown-attribute@28..33: unknown player attribute 'Skill'
                  help: did you mean 'skill'?
            teams[*].players.attributes[rank]
                unknown-attribute@28..32: unknown player attribute 'rank'
                  help: declare it in `playerAttributes`; declared attributes are skill, gameMode, character, preferredOpponents, mapPrefs, monster-kills
            teams[*].players.attributes[mapPrefs]
                expr-type@28..36: attribute 'mapPrefs' is a string_number_map, which cannot be used in a property expression
                  help: string_number_map attributes are only read by absoluteSort and distanceSort rules through `mapKey`
            avg(avg(teams[red].players.attributes[skill]))
                expr-type@0..3: `avg` expects a list, but its argument is a single number
                  help: the argument already is one number; remove `avg(...)`
            avg(teams[*].players)
                expr-type@0..3: `avg` expects a list of numbers, but its argument has type `list of list of player`
                  help: select a number attribute of the players, e.g. `.players.attributes[skill]`, or count them with `count(...)`
            avg(teams[*])
                expr-type@0..3: `avg` expects a list of numbers, but its argument has type `list of team`
                  help: select a number attribute of the teams' players, e.g. `teams[*].players.attributes[skill]`, or count the teams with `count(...)`
            min(teams[red])
                expr-type@0..3: `min` expects a list, but its argument is a single team
            sum(teams[*].players.attributes[gameMode])
                expr-type@0..3: `sum` expects a list of numbers, but its argument has type `list of list of string`
                  help: only number attributes can be aggregated
            median(teams[*].players.attributes[character])
                expr-type@0..6: `median` expects a list of numbers, but its argument has type `list of list of list of string`
                  help: only number attributes can be aggregated
            count(count(teams[red].players))
                expr-type@0..5: `count` expects a list, but its argument is a single number
            flatten(teams[red].players.attributes[skill])
                expr-type@0..7: `flatten` expects a list of lists, but its argument is already flat (`list of number`)
                  help: remove `flatten(...)`
            flatten(teams[red])
                expr-type@0..7: `flatten` expects a list of lists, but its argument is a single team
            flatten(avg(teams[red].players.attributes[skill]))
                expr-type@0..7: `flatten` expects a list of lists, but its argument is a single number
            set_intersection(teams[red].players[playerId])
                expr-type@0..16: `set_intersection` expects a list of string lists, but its argument has type `list of string`
                  help: a single list of strings has nothing to intersect with; pass one string list per player, e.g. `set_intersection(flatten(teams[*].players.attributes[<string_list attribute>]))`
            set_intersection(teams[*].players.attributes[skill])
                expr-type@0..16: `set_intersection` expects a list of string lists, but its argument has type `list of list of number`
            stddev(count(count(teams[*].players)))
                expr-type@0..6: `stddev` expects a list, but its argument is a single number
                  help: the argument already is one number; remove `stddev(...)`
        "#]],
    );
}

#[test]
fn unknown_names_without_a_close_match_list_what_exists() {
    let scope = Scope { attributes: &[], teams: &[] };
    let errors = check(&parse("teams[red].players.attributes[skill]").unwrap(), &scope).unwrap_err();
    let shown: Vec<String> = errors.iter().map(show_error).collect();
    expect![[r#"
        [
            "unknown-team@6..9: unknown team 'red'\n      help: the rule set defines no teams",
            "unknown-attribute@30..35: unknown player attribute 'skill'\n      help: declare it in `playerAttributes`",
        ]
    "#]]
    .assert_debug_eq(&shown);
}

// ---------------------------------------------------------------------------------------
// Evaluation

#[test]
fn evaluates_selectors() {
    eval_table(
        &[
            "teams[*]",
            "teams[red]",
            "teams[trio]",
            "teams[blue,red]",
            "teams[trio_2,red].players",
            "teams[red].players",
            "teams[*].players",
            "teams[*].players[playerId]",
            "teams[red].players.attributes[gameMode]",
            "teams[*].players.attributes[skill]",
            "teams[*].players.attributes[monster-kills]",
            "teams[*].players.attributes[character]",
        ],
        expect![[r#"
            teams[*]
                list of team: [team#0, team#1, team#2, team#3]
            teams[red]
                team: team#0
            teams[trio]
                list of team: [team#2, team#3]
            teams[blue,red]
                list of team: [team#1, team#0]
            teams[trio_2,red].players
                list of list of player: [[p3.0, p3.1], [p0.0, p0.1]]
            teams[red].players
                list of player: [p0.0, p0.1]
            teams[*].players
                list of list of player: [[p0.0, p0.1], [p1.0], [], [p3.0, p3.1]]
            teams[*].players[playerId]
                list of list of string: [[alice, bob], [carol], [], [dave, erin]]
            teams[red].players.attributes[gameMode]
                list of string: [ctf, ctf]
            teams[*].players.attributes[skill]
                list of list of number: [[10, 20], [30], [], [5, 8]]
            teams[*].players.attributes[monster-kills]
                list of list of number: [[20, 40], [60], [], [10, 16]]
            teams[*].players.attributes[character]
                list of list of list of string: [[[medic, tank], [sniper]], [[tank, medic]], [], [[], [medic]]]
        "#]],
    );
}

#[test]
fn evaluates_functions_with_lifting_and_empty_teams() {
    eval_table(
        &[
            "min(teams[*].players.attributes[skill])",
            "max(teams[*].players.attributes[skill])",
            "avg(teams[*].players.attributes[skill])",
            "median(teams[*].players.attributes[skill])",
            "sum(teams[*].players.attributes[skill])",
            "stddev(teams[*].players.attributes[skill])",
            "count(teams[*].players)",
            "min(flatten(teams[*].players.attributes[skill]))",
            "max(flatten(teams[*].players.attributes[skill]))",
            "avg(flatten(teams[*].players.attributes[skill]))",
            "median(flatten(teams[*].players.attributes[skill]))",
            "median(teams[trio].players.attributes[skill])",
            "sum(flatten(teams[*].players.attributes[skill]))",
            "stddev(flatten(teams[*].players.attributes[skill]))",
            "count(flatten(teams[*].players))",
            "count(teams[*])",
            "count(teams[trio])",
            "count(teams[red].players)",
            "avg(teams[trio_1].players.attributes[skill])",
            "sum(teams[trio_1].players.attributes[skill])",
            "count(teams[trio_1].players)",
            "max(avg(teams[*].players.attributes[skill]))",
            "min(avg(teams[*].players.attributes[skill]))",
            "sum(avg(teams[*].players.attributes[skill]))",
            "median(avg(teams[*].players.attributes[skill]))",
            "sum(avg(teams[trio_1,trio_1].players.attributes[skill]))",
            "count(avg(teams[*].players.attributes[skill]))",
            "max(count(teams[*].players))",
            "min(count(teams[*].players))",
            "flatten(teams[*].players[playerId])",
            "flatten(teams[*].players)",
            "flatten(teams[*].players.attributes[character])",
            "flatten(flatten(teams[*].players.attributes[character]))",
            "count(teams[*].players.attributes[character])",
            "set_intersection(flatten(teams[*].players.attributes[preferredOpponents]))",
            "set_intersection(teams[*].players.attributes[preferredOpponents])",
            "set_intersection(teams[red].players.attributes[preferredOpponents])",
            "set_intersection(teams[trio_1].players.attributes[preferredOpponents])",
            "count(set_intersection(teams[*].players.attributes[preferredOpponents]))",
        ],
        expect![[r#"
            min(teams[*].players.attributes[skill])
                list of number: [10, 30, absent, 5]
            max(teams[*].players.attributes[skill])
                list of number: [20, 30, absent, 8]
            avg(teams[*].players.attributes[skill])
                list of number: [15, 30, absent, 6.5]
            median(teams[*].players.attributes[skill])
                list of number: [15, 30, absent, 6.5]
            sum(teams[*].players.attributes[skill])
                list of number: [30, 30, 0, 13]
            stddev(teams[*].players.attributes[skill])
                list of number: [5, 0, absent, 1.5]
            count(teams[*].players)
                list of number: [2, 1, 0, 2]
            min(flatten(teams[*].players.attributes[skill]))
                number: 5
            max(flatten(teams[*].players.attributes[skill]))
                number: 30
            avg(flatten(teams[*].players.attributes[skill]))
                number: 14.6
            median(flatten(teams[*].players.attributes[skill]))
                number: 10
            median(teams[trio].players.attributes[skill])
                list of number: [absent, 6.5]
            sum(flatten(teams[*].players.attributes[skill]))
                number: 73
            stddev(flatten(teams[*].players.attributes[skill]))
                number: 9.2
            count(flatten(teams[*].players))
                number: 5
            count(teams[*])
                number: 4
            count(teams[trio])
                number: 2
            count(teams[red].players)
                number: 2
            avg(teams[trio_1].players.attributes[skill])
                number: absent
            sum(teams[trio_1].players.attributes[skill])
                number: 0
            count(teams[trio_1].players)
                number: 0
            max(avg(teams[*].players.attributes[skill]))
                number: 30
            min(avg(teams[*].players.attributes[skill]))
                number: 6.5
            sum(avg(teams[*].players.attributes[skill]))
                number: 51.5
            median(avg(teams[*].players.attributes[skill]))
                number: 15
            sum(avg(teams[trio_1,trio_1].players.attributes[skill]))
                number: absent
            count(avg(teams[*].players.attributes[skill]))
                number: 4
            max(count(teams[*].players))
                number: 2
            min(count(teams[*].players))
                number: 0
            flatten(teams[*].players[playerId])
                list of string: [alice, bob, carol, dave, erin]
            flatten(teams[*].players)
                list of player: [p0.0, p0.1, p1.0, p3.0, p3.1]
            flatten(teams[*].players.attributes[character])
                list of list of string: [[medic, tank], [sniper], [tank, medic], [], [medic]]
            flatten(flatten(teams[*].players.attributes[character]))
                list of string: [medic, tank, sniper, tank, medic, medic]
            count(teams[*].players.attributes[character])
                list of list of number: [[2, 1], [2], [], [0, 1]]
            set_intersection(flatten(teams[*].players.attributes[preferredOpponents]))
                list of string: [tank]
            set_intersection(teams[*].players.attributes[preferredOpponents])
                list of list of string: [[tank, sniper], [sniper, tank, medic], [], [tank]]
            set_intersection(teams[red].players.attributes[preferredOpponents])
                list of string: [tank, sniper]
            set_intersection(teams[trio_1].players.attributes[preferredOpponents])
                list of string: []
            count(set_intersection(teams[*].players.attributes[preferredOpponents]))
                list of number: [2, 3, 0, 1]
        "#]],
    );
}

#[test]
fn reuses_scratch_without_growing_it() {
    let mut m = TestMatch::new();
    let a = compile_str("set_intersection(teams[*].players.attributes[preferredOpponents])", &mut m.interner);
    let b = compile_str("median(avg(teams[*].players.attributes[skill]))", &mut m.interner);
    let mut scratch = Scratch::default();
    let root = a.eval(&m, &mut scratch);
    let first = render(&scratch, root, &m.interner);
    let _ = b.eval(&m, &mut scratch);
    let capacity = scratch.capacity();
    for _ in 0..3 {
        let again = a.eval(&m, &mut scratch);
        assert_eq!(render(&scratch, again, &m.interner), first);
        let root = b.eval(&m, &mut scratch);
        assert_eq!(scratch.node(root), &Node::Num(15.0));
        assert_eq!(scratch.capacity(), capacity);
    }
}

#[test]
fn evaluates_through_a_trait_object_and_walks_leaves() {
    let mut m = TestMatch::new();
    let compiled = compile_str("avg(teams[*].players.attributes[skill])", &mut m.interner);
    let cand: &dyn Candidate = &m;
    let mut scratch = Scratch::new();
    let root = compiled.eval(cand, &mut scratch);
    let mut leaves = Vec::new();
    scratch.for_each_leaf(root, |n| leaves.push(*n));
    assert_eq!(leaves, [Node::Num(15.0), Node::Num(30.0), Node::Absent, Node::Num(6.5)]);
    assert_eq!(scratch.children(root).len(), 4);
    let team = scratch.children(root).nth(1).unwrap();
    assert_eq!(scratch.children(team).len(), 0);
}

#[test]
fn compiled_expressions_and_scratch_are_thread_safe() {
    fn assert_send_sync<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_send_sync::<CompiledExpr>();
    assert_send_sync::<Scratch>();
    assert_send_sync::<Expr>();
}

// ---------------------------------------------------------------------------------------
// Robustness

fn check_spans(src: &str, e: &Expr) {
    let ok = |s: crate::source::Span| {
        s.start <= s.end && src.is_char_boundary(s.start as usize) && src.is_char_boundary(s.end as usize)
    };
    let p = e.path();
    assert!(ok(e.span) && ok(p.keyword_span));
    for call in e.calls() {
        assert!(ok(call.name_span));
        assert_eq!(&src[call.name_span.start as usize..call.name_span.end as usize], call.func.name());
    }
    if let TeamSel::Names(names) = &p.teams {
        for n in names {
            assert_eq!(&src[n.span.start as usize..n.span.end as usize], n.text);
        }
    }
}

fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "teams",
        "team",
        "[",
        "]",
        "(",
        ")",
        ",",
        "*",
        ".",
        "players",
        "attributes",
        "playerId",
        "playerid",
        "skill",
        "red",
        "trio_2",
        "avg",
        "count",
        "flatten",
        "set_intersection",
        " ",
        "\t",
        "é",
        "\u{3000}",
        "💥",
        "",
    ])
}

proptest! {
    #[test]
    fn parser_never_panics_on_token_soup(tokens in prop::collection::vec(token(), 0..24)) {
        let src: String = tokens.concat();
        match parse(&src) {
            Ok(e) => {
                check_spans(&src, &e);
                let printed = e.to_string();
                let reparsed = parse(&printed).expect("printed expression parses");
                prop_assert_eq!(reparsed.to_string(), printed);
            }
            Err(e) => {
                prop_assert!(e.start <= e.end && e.end <= src.len());
                prop_assert!(src.is_char_boundary(e.start) && src.is_char_boundary(e.end));
            }
        }
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(src in "\\PC{0,40}") {
        if let Err(e) = parse(&src) {
            prop_assert!(e.start <= e.end && e.end <= src.len());
            prop_assert!(src.is_char_boundary(e.start) && src.is_char_boundary(e.end));
        }
    }
}

/// Whether the value `id` has type `ty` (`Absent` standing for a number).
fn conforms(s: &Scratch, id: NodeId, ty: &Ty) -> bool {
    match (s.node(id), ty) {
        (Node::Num(_) | Node::Absent, Ty::Number) => true,
        (Node::Str(_), Ty::String) => true,
        (Node::Team(_), Ty::Team) => true,
        (Node::Player { .. }, Ty::Player) => true,
        (Node::List { .. }, Ty::List(inner)) => s.children(id).all(|c| conforms(s, c, inner)),
        _ => false,
    }
}

proptest! {
    #[test]
    fn well_typed_expressions_evaluate_to_values_of_their_type(
        funcs in prop::collection::vec(prop::sample::select(Func::ALL.to_vec()), 0..5),
        path in prop::sample::select(vec![
            "teams[*]", "teams[red]", "teams[trio]", "teams[trio_1,red]", "teams[*].players", "teams[blue].players",
            "teams[*].players[playerId]", "teams[red].players[playerId]", "teams[*].players.attributes[skill]",
            "teams[trio_1].players.attributes[skill]", "teams[*].players.attributes[gameMode]",
            "teams[*].players.attributes[character]", "teams[red].players.attributes[preferredOpponents]",
        ]),
    ) {
        let src = funcs.iter().fold(path.to_owned(), |inner, f| format!("{f}({inner})"));
        let (attributes, teams) = (attributes(), teams());
        let scope = Scope { attributes: &attributes, teams: &teams };
        let expr = parse(&src).unwrap();
        prop_assert_eq!(expr.to_string(), src.clone());
        if let Ok(ty) = check(&expr, &scope) {
            let mut m = TestMatch::new();
            let compiled = compile(&expr, &scope, &mut m.interner);
            prop_assert_eq!(compiled.ty(), &ty);
            let mut scratch = Scratch::default();
            let root = compiled.eval(&m, &mut scratch);
            prop_assert!(conforms(&scratch, root, &ty), "{src}: {ty}");
        }
    }
}
