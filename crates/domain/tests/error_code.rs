//! Error codes serialise as their text and parse back.

use b2b_domain::error_code::*;

#[test]
fn codes_serialise_as_their_text_and_parse_back() {
    for &code in ErrorCode::ALL {
        let json = serde_json::to_value(code).unwrap();
        assert_eq!(json, code.as_str());
        assert_eq!(serde_json::from_value::<ErrorCode>(json).unwrap(), code);
        assert_eq!(code.as_str().parse(), Ok(code));
    }
    assert_eq!(ErrorCode::parse("NO_SUCH_CODE"), None);
    assert!("".parse::<ErrorCode>().is_err());
}
