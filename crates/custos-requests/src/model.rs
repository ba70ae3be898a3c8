//! The request record and its vocabulary (H1–H5).

use std::fmt;
use std::str::FromStr;

use custos_core::{Error, ErrorKind, Time90k};
use serde::{Deserialize, Serialize};

fn unknown(what: &str, s: &str, names: &[&str]) -> Error {
    Error::new(
        ErrorKind::InvalidArgument,
        format!("unknown {what} {s:?}: use one of {}", names.join(", ")),
    )
}

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($(#[$vm:meta])* $v:ident => $s:literal / $zh:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),*];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),* }
            }
            /// The Chinese label (zh-CN is the default UI language).
            pub fn zh(self) -> &'static str {
                match self { $($name::$v => $zh),* }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                let t = s.trim().replace('-', "_");
                $name::ALL
                    .iter()
                    .copied()
                    .find(|x| x.as_str() == t)
                    .ok_or_else(|| unknown($what, s, &$name::ALL.iter().map(|x| x.as_str()).collect::<Vec<_>>()))
            }
        }
    };
}

named_enum!(
    /// The requesting organ's type (H1), which decides who approves (H2) and whether footage
    /// may be handed over at all (H5).
    OrganType, "organ type", {
        /// 公安机关.
        Police => "police" / "公安机关",
        /// 国家安全机关.
        StateSecurity => "state_security" / "国家安全机关",
        /// 侦查机关 (other investigative organs).
        Investigative => "investigative" / "侦查机关",
        /// 检察机关.
        Procuratorial => "procuratorial" / "检察机关",
        /// 审判机关.
        Judicial => "judicial" / "审判机关",
        /// 县级以上人民政府有关部门 (emergencies only).
        CountyGovernment => "county_government" / "县级以上人民政府有关部门（应急）",
        /// Anyone else: not an authority under H1.
        Other => "other" / "其他单位",
    }
);

impl OrganType {
    /// H1: may ask for footage at all.
    pub fn may_request(self) -> bool {
        self != OrganType::Other
    }

    /// H5: footage may be handed over (copied, retrieved) only to police, state security and
    /// other law-enforcement organs.
    pub fn may_receive_copies(self) -> bool {
        matches!(
            self,
            OrganType::Police
                | OrganType::StateSecurity
                | OrganType::Investigative
                | OrganType::Procuratorial
                | OrganType::Judicial
        )
    }

    /// H2: police and state security are approved by the principal head of their own agency;
    /// every other organ by the principal head of the city or county police.
    pub fn approved_by_own_head(self) -> bool {
        matches!(self, OrganType::Police | OrganType::StateSecurity)
    }
}

named_enum!(
    /// What the request asks to do with the footage (H1, H2).
    Kind, "kind", {
        /// 查看: watch recorded footage.
        View => "view" / "查看",
        /// 复制: take a copy (evidence bundle, MP4 export).
        Copy => "copy" / "复制",
        /// 调取: retrieve the originals (evidence bundle).
        Retrieve => "retrieve" / "调取",
        /// 实时接入: a direct live connection (H2: same approval).
        Live => "live" / "实时接入",
    }
);

impl Kind {
    /// Footage leaves the unit (H5 applies).
    pub fn is_copy(self) -> bool {
        matches!(self, Kind::Copy | Kind::Retrieve)
    }
}

named_enum!(
    /// Where a request stands.
    State, "state", {
        Drafted => "drafted" / "草拟",
        Submitted => "submitted" / "已提交",
        Approved => "approved" / "已批准",
        Rejected => "rejected" / "已拒绝",
        Released => "released" / "已提供",
        Closed => "closed" / "已关闭",
    }
);

named_enum!(
    /// A step of the procedure; [`crate::next`] says where it leads from each state.
    Step, "step", {
        Submit => "submit" / "提交",
        Approve => "approve" / "批准",
        Reject => "reject" / "拒绝",
        Release => "release" / "提供",
        Close => "close" / "关闭",
    }
);

named_enum!(
    /// What an attached document is (H3).
    DocumentKind, "document kind", {
        /// 单位介绍信.
        UnitLetter => "unit_letter" / "单位介绍信",
        /// 法律文书.
        LegalDocument => "legal_document" / "法律文书",
        /// 工作证件扫描件.
        OfficerId => "officer_id" / "工作证件",
        Other => "other" / "其他",
    }
);

impl DocumentKind {
    /// H3: a unit letter or a legal document is what must be shown.
    pub fn is_mandate(self) -> bool {
        matches!(self, DocumentKind::UnitLetter | DocumentKind::LegalDocument)
    }
}

/// One officer present (H3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Officer {
    pub name: String,
    /// Work-ID number (警号 / 工作证号).
    pub work_id: String,
}

/// One camera and one time range `[from, to)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraRange {
    pub camera: String,
    pub from: Time90k,
    pub to: Time90k,
}

/// What a police account fills in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRequest {
    /// The requesting organ, e.g. 某市公安局某分局.
    pub organ: String,
    pub organ_type: OrganType,
    pub purpose: String,
    pub legal_basis: String,
    pub case: Option<String>,
    pub kind: Kind,
    pub scope: Vec<CameraRange>,
    pub officers: Vec<Officer>,
}

/// The principal head's approval (H2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// The approver's account.
    pub by: String,
    pub work_id: String,
    /// The agency the approver heads.
    pub unit: String,
    pub unit_type: OrganType,
    pub at: Time90k,
    pub note: Option<String>,
}

/// A refusal (H3: the unit or the approver may refuse), with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub by: String,
    pub reason: String,
    pub at: Time90k,
}

/// The evidence bundle a copy/retrieve release produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    pub camera: String,
    /// The bundle directory.
    pub path: String,
    /// The signing key's fingerprint (as `custos verify-bundle` prints it).
    pub key_fingerprint: String,
    /// SHA-256 of the bundle's `manifest.json`.
    pub manifest_sha256: String,
}

/// The unit operator's release (H3, H5).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// The unit operator's account.
    pub by: String,
    pub at: Time90k,
    /// The grant ends then: no view, live connection or download after it.
    pub until: Time90k,
    /// For copy/retrieve: the bundles handed over.
    pub bundles: Vec<Bundle>,
}

/// An attached document, filed in the archive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub id: i64,
    pub kind: DocumentKind,
    pub title: String,
    pub sha256: String,
    pub bytes: i64,
    pub added_by: String,
    pub added_at: Time90k,
}

/// A footage request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Assigned by the database (not part of the stored body).
    #[serde(default)]
    pub id: i64,
    pub state: State,
    #[serde(flatten)]
    pub fields: NewRequest,
    /// The police account that drafted it; the grant is for this account only (H5).
    pub created_by: String,
    pub created_at: Time90k,
    pub submitted_at: Option<Time90k>,
    pub approval: Option<Approval>,
    pub refusal: Option<Refusal>,
    pub release: Option<Release>,
    pub closed_at: Option<Time90k>,
    pub closed_by: Option<String>,
    /// Ledger sequence numbers of its steps, oldest first.
    pub ledger: Vec<u64>,
}
