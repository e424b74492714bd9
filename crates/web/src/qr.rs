//! QR codes for the second-factor enrolment page: the otpauth URI drawn so
//! a phone's authenticator app can scan it.
//!
//! The page's Content-Security-Policy allows images only from this site or
//! `data:`, and no inline styles, so the code is an SVG in a data URI for an
//! `<img>`, coloured with presentation attributes alone.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// Smallest side of the drawn code in pixels; below this, phone cameras
/// struggle with the dense codes that a long otpauth URI needs.
const MIN_SIDE_PX: u32 = 200;

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("text does not fit in a QR code")]
    TooLong,
    #[error("QR encoding failed")]
    Encoding(#[source] qrcode::types::QrError),
}

/// `data:image/svg+xml;base64,…` of an SVG QR code of `text`: error
/// correction level M (the usual trade between density and tolerance of a
/// smudged screen), the standard quiet zone of four modules, black on white.
///
/// Fails with [`QrError::TooLong`] past the capacity of the largest QR
/// version (about 2300 bytes at level M).
pub fn svg_data_uri(text: &str) -> Result<String, QrError> {
    let code =
        QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).map_err(|e| match e {
            qrcode::types::QrError::DataTooLong => QrError::TooLong,
            // Fixed by this function (the level, no version or ECI asked,
            // bytes mode takes any byte): a failure here is a bug.
            e @ (qrcode::types::QrError::InvalidVersion
            | qrcode::types::QrError::UnsupportedCharacterSet
            | qrcode::types::QrError::InvalidEciDesignator
            | qrcode::types::QrError::InvalidCharacter) => QrError::Encoding(e),
        })?;
    let image = code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(MIN_SIDE_PX, MIN_SIDE_PX)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        STANDARD.encode(image)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PREFIX: &str = "data:image/svg+xml;base64,";

    fn decoded(uri: &str) -> String {
        let b64 = uri.strip_prefix(PREFIX).expect("data URI prefix");
        String::from_utf8(STANDARD.decode(b64).expect("valid base64")).expect("UTF-8 SVG")
    }

    fn side_of(svg: &str) -> u32 {
        let view_box = svg
            .split("viewBox=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a viewBox");
        let parts: Vec<u32> = view_box
            .split(' ')
            .map(|p| p.parse().expect("numeric viewBox"))
            .collect();
        assert_eq!(parts.len(), 4, "{view_box}");
        assert_eq!(parts[2], parts[3], "square viewBox");
        parts[2]
    }

    #[test]
    fn otpauth_uri_becomes_an_svg_data_uri() {
        let uri = svg_data_uri(
            "otpauth://totp/uslugi:operator%40center?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=uslugi&algorithm=SHA1&digits=6&period=30",
        )
        .unwrap();
        assert!(uri.starts_with(PREFIX));
        let svg = decoded(&uri);
        assert!(svg.starts_with("<?xml") || svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("style="), "{svg}");
        assert!(svg.contains(r##"fill="#000000""##));
        assert!(svg.contains(r##"fill="#ffffff""##));
        assert!(side_of(&svg) >= MIN_SIDE_PX);
    }

    #[test]
    fn short_text_is_still_scaled_up() {
        let svg = decoded(&svg_data_uri("a").unwrap());
        // Version 1 is 21 modules plus 4 of quiet zone on each side.
        let side = side_of(&svg);
        assert!(side >= MIN_SIDE_PX);
        assert_eq!(
            side % 29,
            0,
            "whole pixels per module and a 4-module quiet zone"
        );
    }

    #[test]
    fn too_long_text_is_an_error() {
        let text = "x".repeat(3000);
        assert!(matches!(svg_data_uri(&text), Err(QrError::TooLong)));
    }
}
