//! Problems: internal details stay inside, validation problems list their fields.

use b2b_platform::ErrorCode;
use b2b_platform::error::*;

#[test]
fn internal_details_never_reach_the_client() {
    let p = ApiError::Internal(anyhow::anyhow!("SELECT secret FROM t")).problem();
    assert_eq!(p.status, 500);
    assert!(!p.detail.contains("SELECT"));
}

#[test]
fn validation_problems_list_fields() {
    let p = ApiError::field("email", "bad").problem();
    assert_eq!((p.status, p.code), (400, ErrorCode::ValidationError));
    assert_eq!(p.errors.unwrap()[0].field, "email");
    assert_eq!(p.r#type, "urn:b2b-orders:problem:validation-error");
}
