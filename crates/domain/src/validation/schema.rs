//! The OpenAPI side of the rules: each field's schema made from the same rule the reader checks.

use std::ops::RangeInclusive;

use utoipa::openapi::schema::{ArrayBuilder, SchemaType};
use utoipa::openapi::{Array, KnownFormat, Object, ObjectBuilder, Ref, SchemaFormat, Type};

use super::Text;

/// "Not blank" as a JSON Schema pattern: a character `char::is_whitespace` (what `trim` takes
/// off) is false for.
pub const NOT_BLANK: &str = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// Functions for `#[schema(schema_with = …)]`, each returning the schema of a rule the reader
/// also checks: `name = schema;`.
#[macro_export]
macro_rules! schemas {
    ($($name:ident = $schema:expr;)+) => {$(
        fn $name() -> utoipa::openapi::Object {
            $schema
        }
    )+};
}

impl Text {
    /// The field's schema; `said` adds the not-blank note.
    pub fn schema(self, said: bool, example: Option<&str>) -> Object {
        #[allow(deprecated)] // the derived schemas beside it give `example` too
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(said.then_some("Not blank: surrounding white space is trimmed."))
            .min_length(Some(self.min))
            .max_length(Some(self.max))
            .pattern(Some(NOT_BLANK))
            .example(example.map(Into::into))
            .build()
    }
}

/// The schema of an integer field with the bounds `range` (no `maximum` when unbounded).
pub fn int_schema(range: RangeInclusive<i64>, example: Option<i64>) -> Object {
    #[allow(deprecated)] // the derived schemas beside it give `example` too
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(*range.start()))
        .maximum((*range.end() < i64::MAX).then_some(*range.end()))
        .example(example.map(Into::into))
        .build()
}

/// The schema of a string taken as sent whose length in characters is in `len` (no `minLength`
/// when it may be empty), `null` allowed with `nullable`.
pub fn chars_schema(
    len: RangeInclusive<usize>,
    nullable: bool,
    format: Option<&str>,
    example: &str,
) -> ObjectBuilder {
    let ty = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::new(Type::String)
    };
    #[allow(deprecated)] // the derived schemas beside it give `example` too
    ObjectBuilder::new()
        .schema_type(ty)
        .format(format.map(|f| SchemaFormat::Custom(f.to_owned())))
        .min_length((*len.start() > 0).then_some(*len.start()))
        .max_length(Some(*len.end()))
        .example(Some(example.into()))
}

/// The schema of an array of `len` items of the component `item`.
pub fn array_schema(item: &str, len: RangeInclusive<usize>, description: &str) -> Array {
    ArrayBuilder::new()
        .description(Some(description))
        .items(Ref::from_schema_name(item))
        .min_items(Some(*len.start()))
        .max_items(Some(*len.end()))
        .build()
}
