use super::*;

fn err(text: &str) -> (u32, String) {
    let e = parse(text).unwrap_err();
    (e.span.start, e.message)
}

#[test]
fn parses_nested_values_with_spans() {
    let text = r#"{"a": [1, -2.5e1, "x\u00e9\n"], "b": {"c": null, "d": true}}"#;
    let v = parse(text).unwrap();
    let a = v.get("a").unwrap();
    assert_eq!(&text[a.span.start as usize..a.span.end as usize], r#"[1, -2.5e1, "x\u00e9\n"]"#);
    let items = a.as_array().unwrap();
    assert_eq!(items[1].kind, Kind::Number(-25.0));
    assert_eq!(items[2].as_str(), Some("xé\n"));
    assert_eq!(v.get("b").unwrap().get("d").unwrap().kind, Kind::Bool(true));
}

#[test]
fn keeps_duplicate_keys_in_order() {
    let v = parse(r#"{"k": 1, "k": 2}"#).unwrap();
    let members = v.as_object().unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[1].key_span, Span::new(9, 12));
}

#[test]
fn explains_common_mistakes() {
    assert_eq!(err(r#"{"a": 1,}"#), (7, "trailing comma before `}`".into()));
    assert_eq!(err("[1, 2,]"), (5, "trailing comma before `]`".into()));
    assert_eq!(err("{\"a\": 1 // note\n}"), (8, "comments are not allowed in JSON".into()));
    assert_eq!(err("{'a': 1}"), (1, "expected a member name in double quotes".into()));
    assert_eq!(err(r#"{"a" 1}"#), (5, "expected `:` after the member name".into()));
    assert_eq!(err(r#"{"a": 1 "b": 2}"#), (8, "expected `,` or `}` after an object member".into()));
    assert_eq!(err(r#"{"a": [1, 2"#), (6, "this `[` is never closed".into()));
    assert_eq!(err(""), (0, "the document is empty; expected a JSON value".into()));
    assert_eq!(err("01"), (0, "numbers may not have leading zeros".into()));
    assert_eq!(err("[1] 2"), (4, "unexpected text after the end of the JSON value".into()));
    assert_eq!(err("\"\\ud800\""), (1, "unpaired surrogate in `\\u` escape".into()));
}

#[test]
fn mismatched_brackets_point_at_the_unclosed_opener() {
    let e = parse("[\n  {\"a\": 1\n]").unwrap_err();
    assert_eq!(e.span, Span::new(4, 5));
    assert_eq!(e.message, "this `{` is never closed: the `]` at 3:1 comes first");
    assert_eq!(e.help.as_deref(), Some("add the missing `}` before the `]` at 3:1"));
    assert_eq!(err("{\"a\": [1, 2}"), (6, "this `[` is never closed: the `}` at 1:12 comes first".into()));
}

#[test]
fn skips_a_leading_byte_order_mark() {
    let text = "\u{feff}{\"a\": 1}";
    let v = parse(text).unwrap();
    assert_eq!(v.span, Span::new(3, text.len()));
    assert_eq!(v.get("a").unwrap().kind, Kind::Number(1.0));
    // Only at the start: elsewhere it is not whitespace.
    assert_eq!(err("{\"a\": \u{feff}1}").1, "expected a JSON value");
}

#[test]
fn refuses_excessive_nesting_without_overflowing() {
    let deep = "[".repeat(10_000);
    assert!(err(&deep).1.contains("nested too deeply"));
}

#[test]
fn accepts_valid_documents() {
    for text in [r#"{"x": [1, 2, {"y": "z"}], "w": 1e300}"#, "[]", "{}", "\"\\u0041\"", "-0.0"] {
        assert!(parse(text).is_ok(), "{text}");
    }
}
