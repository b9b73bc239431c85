//! The server functions' response encoding: JSON, as `server_fn::codec::Json`, but read from
//! a `&str` on the client. Hydration reads every resource with `serde_json::from_str`; reading
//! responses with `from_slice` too (server_fn's default) compiled each response type's
//! deserializer twice into the browser bundle, once per reader (see README "Bundle size").

use serde::{de::DeserializeOwned, Serialize};
use server_fn::{codec::Post, Bytes, ContentType, Decodes, Encodes, Format, FormatType};

/// JSON read through `serde_json::from_str`.
pub struct TextJsonEncoding;

impl ContentType for TextJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for TextJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for TextJsonEncoding {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

/// The `output` of every server function.
pub type TextJson = Post<TextJsonEncoding>;
