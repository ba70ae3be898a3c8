//! The GB/T 28181 20-digit device code (A2), used as the device's address code (地址码; which is
//! itself confidential basic information, 001 art. 6 para. 2, 003 art. 26).
//!
//! Layout (GB/T 28181 annex on device coding):
//!
//! | digits | field | checked |
//! |---|---|---|
//! | 1–8 | administrative division (GB/T 2260 centre code, right-padded with 0) | first two digits are a province-level code (below) |
//! | 9–10 | industry code | two digits; not interpreted (the notes give no table) |
//! | 11–13 | type code | 111–599: 111–130 front-end main devices, 131–199 front-end peripherals, 200–299 platform, 300–399 central users, 400–499 end users, 500–599 external platforms |
//! | 14 | network identifier | one digit; not interpreted |
//! | 15–20 | serial | six digits |
//!
//! Province-level codes (GB/T 2260): 11–15 (Beijing, Tianjin, Hebei, Shanxi, Inner Mongolia),
//! 21–23 (Liaoning, Jilin, Heilongjiang), 31–37 (Shanghai … Shandong), 41–46 (Henan … Hainan),
//! 50–54 (Chongqing, Sichuan, Guizhou, Yunnan, Tibet), 61–65 (Shaanxi … Xinjiang), 71 (Taiwan),
//! 81 (Hong Kong), 82 (Macao). Codes such as 16, 40 or 66 are refused.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorKind};

/// The province-level prefixes accepted in digits 1–2.
pub const PROVINCE_CODES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// A field of the code, for error reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceCodeField {
    Whole,
    AdministrativeDivision,
    Industry,
    Type,
    Network,
    Serial,
}

impl DeviceCodeField {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceCodeField::Whole => "code",
            DeviceCodeField::AdministrativeDivision => "administrative division (digits 1-8)",
            DeviceCodeField::Industry => "industry code (digits 9-10)",
            DeviceCodeField::Type => "type code (digits 11-13)",
            DeviceCodeField::Network => "network identifier (digit 14)",
            DeviceCodeField::Serial => "serial (digits 15-20)",
        }
    }
}

/// Why a code was refused: which field, what was found, what is expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCodeError {
    pub field: DeviceCodeField,
    pub found: String,
    pub expected: String,
}

impl fmt::Display for DeviceCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad GB/T 28181 device code: {} is {:?}, expected {}",
            self.field.as_str(),
            self.found,
            self.expected
        )
    }
}

impl std::error::Error for DeviceCodeError {}

impl From<DeviceCodeError> for Error {
    fn from(e: DeviceCodeError) -> Error {
        Error::new(ErrorKind::InvalidArgument, e.to_string())
    }
}

/// The class a type code falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceTypeClass {
    /// 111–130: DVR, video server, encoder, decoder, alarm controller, NVR, HVR…
    FrontEndMain,
    /// 131–199: camera, IPC, monitor, alarm in/out, audio in/out, mobile…
    FrontEndPeripheral,
    /// 200–299: central signalling server and platform servers, business groups, virtual orgs.
    Platform,
    /// 300–399.
    CentralUser,
    /// 400–499.
    EndUser,
    /// 500–599.
    ExternalPlatform,
}

impl DeviceTypeClass {
    pub fn of(type_code: u16) -> Option<Self> {
        Some(match type_code {
            111..=130 => DeviceTypeClass::FrontEndMain,
            131..=199 => DeviceTypeClass::FrontEndPeripheral,
            200..=299 => DeviceTypeClass::Platform,
            300..=399 => DeviceTypeClass::CentralUser,
            400..=499 => DeviceTypeClass::EndUser,
            500..=599 => DeviceTypeClass::ExternalPlatform,
            _ => return None,
        })
    }
}

/// The name of a type code listed in the notes (wvp `DeviceTypeEnum`, 2016/2022 Annex D), if any.
pub fn type_name(type_code: u16) -> Option<&'static str> {
    Some(match type_code {
        111 => "DVR",
        112 => "video server",
        113 => "encoder",
        114 => "decoder",
        117 => "alarm controller",
        118 => "NVR",
        120..=125 | 130 => "HVR / front-end main device (2022)",
        131 => "camera",
        132 => "IP camera",
        133 => "monitor",
        134 => "alarm input",
        135 => "alarm output",
        136 => "audio input",
        137 => "audio output",
        138 => "mobile device",
        140..=143 => "front-end peripheral (2022)",
        200 => "central signalling server (platform)",
        201..=211 => "platform server",
        215 => "business group",
        216 => "virtual organisation",
        300 => "central user",
        400 => "end user",
        500..=505 => "external platform",
        _ => return None,
    })
}

/// A validated 20-digit GB/T 28181 device code.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DeviceCode([u8; 20]);

impl DeviceCode {
    /// Parses and validates; the error names the first wrong field.
    pub fn parse(s: &str) -> Result<Self, DeviceCodeError> {
        let bad = |field, found: &str, expected: &str| DeviceCodeError {
            field,
            found: found.to_owned(),
            expected: expected.to_owned(),
        };
        if let Some((i, c)) = s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(bad(
                DeviceCodeField::Whole,
                s,
                &format!("digits 0-9 only (found {c:?} at byte {i})"),
            ));
        }
        if s.len() != 20 {
            return Err(bad(
                DeviceCodeField::Whole,
                s,
                &format!("exactly 20 digits (found {})", s.len()),
            ));
        }
        let b: [u8; 20] = s.as_bytes().try_into().expect("length checked");
        let code = DeviceCode(b);
        let province = code.province();
        if !PROVINCE_CODES.contains(&province) {
            return Err(bad(
                DeviceCodeField::AdministrativeDivision,
                &s[0..8],
                "a GB/T 2260 code whose first two digits are a province-level code \
                 (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82)",
            ));
        }
        let t = code.type_code();
        if DeviceTypeClass::of(t).is_none() {
            return Err(bad(
                DeviceCodeField::Type,
                &s[10..13],
                "111-130 front-end main device, 131-199 front-end peripheral (131 camera, \
                 132 IPC), 200-299 platform, 300-399 central user, 400-499 end user or \
                 500-599 external platform",
            ));
        }
        Ok(code)
    }

    fn digits(&self, r: std::ops::Range<usize>) -> &str {
        std::str::from_utf8(&self.0[r]).expect("ASCII digits")
    }

    fn num(&self, r: std::ops::Range<usize>) -> u32 {
        self.0[r]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    }

    pub fn as_str(&self) -> &str {
        self.digits(0..20)
    }

    /// Digits 1–8: the administrative division (centre code).
    pub fn administrative_division(&self) -> &str {
        self.digits(0..8)
    }

    /// Digits 1–2: the province-level code.
    pub fn province(&self) -> u8 {
        self.num(0..2) as u8
    }

    /// Digits 9–10.
    pub fn industry(&self) -> u8 {
        self.num(8..10) as u8
    }

    /// Digits 11–13.
    pub fn type_code(&self) -> u16 {
        self.num(10..13) as u16
    }

    pub fn type_class(&self) -> DeviceTypeClass {
        DeviceTypeClass::of(self.type_code()).expect("validated at parse")
    }

    /// Digit 14.
    pub fn network(&self) -> u8 {
        self.num(13..14) as u8
    }

    /// Digits 15–20.
    pub fn serial(&self) -> u32 {
        self.num(14..20)
    }

    /// 131 camera or 132 IP camera: the devices that capture video images.
    pub fn is_camera(&self) -> bool {
        matches!(self.type_code(), 131 | 132)
    }
}

impl fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceCode({})", self.as_str())
    }
}

impl fmt::Display for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeviceCode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(DeviceCode::parse(s)?)
    }
}

impl TryFrom<String> for DeviceCode {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<DeviceCode> for String {
    fn from(c: DeviceCode) -> String {
        c.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A2: a valid code parses and every accessor returns its field.
    #[test]
    fn a2_valid_code_fields() {
        let c = DeviceCode::parse("34020000001320000264").unwrap();
        assert_eq!(c.administrative_division(), "34020000");
        assert_eq!(c.province(), 34);
        assert_eq!(c.industry(), 0);
        assert_eq!(c.type_code(), 132);
        assert_eq!(c.type_class(), DeviceTypeClass::FrontEndPeripheral);
        assert_eq!(c.network(), 0);
        assert_eq!(c.serial(), 264);
        assert!(c.is_camera());
        assert_eq!(type_name(c.type_code()), Some("IP camera"));
        assert_eq!(c.to_string(), "34020000001320000264");
        // The serde form is the plain 20-digit string, and it parses back.
        let s = String::from(c);
        assert_eq!(DeviceCode::try_from(s).unwrap(), c);
    }

    /// A2: table of codes → accepted, or refused naming the wrong field.
    #[test]
    fn a2_code_validation_table() {
        use DeviceCodeField::*;
        let cases: &[(&str, Result<DeviceTypeClass, DeviceCodeField>)] = &[
            (
                "34020000001320000001",
                Ok(DeviceTypeClass::FrontEndPeripheral),
            ),
            (
                "11010000001310000001",
                Ok(DeviceTypeClass::FrontEndPeripheral),
            ),
            ("82000000001110000001", Ok(DeviceTypeClass::FrontEndMain)),
            ("50010000002000000001", Ok(DeviceTypeClass::Platform)),
            (
                "32100000005050000001",
                Ok(DeviceTypeClass::ExternalPlatform),
            ),
            ("3402000000132000000", Err(Whole)),    // 19 digits
            ("340200000013200000011", Err(Whole)),  // 21 digits
            ("3402000000132000000a", Err(Whole)),   // non-digit
            ("３４020000001320000001", Err(Whole)), // full-width digits
            ("", Err(Whole)),
            ("16020000001320000001", Err(AdministrativeDivision)), // no province 16
            ("00000000001320000001", Err(AdministrativeDivision)),
            ("66020000001320000001", Err(AdministrativeDivision)),
            ("34020000001100000001", Err(Type)), // 110 below range
            ("34020000006000000001", Err(Type)), // 600 above range
            ("34020000000000000001", Err(Type)),
        ];
        for (s, want) in cases {
            let got = DeviceCode::parse(s);
            match (want, &got) {
                (Ok(class), Ok(c)) => assert_eq!(c.type_class(), *class, "{s}"),
                (Err(field), Err(e)) => {
                    assert_eq!(e.field, *field, "{s}: {e}");
                    assert!(e.to_string().contains("expected"), "{e}");
                }
                _ => panic!("{s}: want {want:?}, got {got:?}"),
            }
        }
    }

    /// A2: the message says which field and what is expected; the crate error is InvalidArgument.
    #[test]
    fn a2_error_message_names_field_and_expectation() {
        let e = DeviceCode::parse("16020000001320000001").unwrap_err();
        let m = e.to_string();
        assert!(m.contains("administrative division"), "{m}");
        assert!(m.contains("11-15"), "{m}");
        let e: Error = "3402".parse::<DeviceCode>().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(
            e.msg().contains("exactly 20 digits (found 4)"),
            "{}",
            e.msg()
        );
    }
}
