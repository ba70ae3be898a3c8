//! MANSCDP (GB/T 28181 Annex A) XML bodies: decode in the declared charset (GB2312, GBK,
//! GB18030 or UTF-8, with a UTF-8 fallback for devices that declare one and send the other),
//! parse into a flat, forgiving structure, and build outbound bodies in a peer's charset.
//!
//! The XML declaration is removed before the XML parser sees the text (XML parsers reject a
//! non-UTF-8 declaration on an already-decoded string). Unknown elements are kept as fields,
//! never an error: devices add vendor elements freely.

use custos_core::{Error, ErrorKind, Result};

/// Charset for outbound bodies (per device and per upper platform).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub enum Charset {
    /// GB18030 (a superset of GB2312/GBK), the 2016/2022 default for signalling.
    #[default]
    Gb18030,
    Utf8,
}

impl Charset {
    pub fn label(self) -> &'static str {
        match self {
            Charset::Gb18030 => "GB2312",
            Charset::Utf8 => "UTF-8",
        }
    }
}

/// Largest body accepted.
const MAX_BODY: usize = 64 * 1024;

/// Decodes a body. ASCII is ASCII in every charset (the declaration then decides what we
/// answer in); non-ASCII bytes that are valid UTF-8 are UTF-8 whatever the declaration says
/// (GBK text is practically never valid UTF-8, while devices that declare GB2312 and send UTF-8
/// are common); anything else is GB18030 (a superset of GB2312/GBK). Returns the text and the
/// charset it was in.
pub fn decode(body: &[u8]) -> (String, Charset) {
    let declared_gb = declared_encoding(body)
        .map(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("gb") || l.contains("2312")
        })
        .unwrap_or(false);
    if body.is_ascii() {
        let cs = if declared_gb {
            Charset::Gb18030
        } else {
            Charset::Utf8
        };
        return (String::from_utf8_lossy(body).into_owned(), cs);
    }
    if let Ok(s) = std::str::from_utf8(body) {
        return (s.to_owned(), Charset::Utf8);
    }
    (
        encoding_rs::GB18030
            .decode_without_bom_handling(body)
            .0
            .into_owned(),
        Charset::Gb18030,
    )
}

/// The `encoding="..."` of an XML declaration at the start of `body`.
fn declared_encoding(body: &[u8]) -> Option<String> {
    let head = &body[..body.len().min(200)];
    let end = head.windows(2).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let decl = decl.trim_start_matches('\u{feff}').trim_start();
    if !decl.starts_with("<?xml") {
        return None;
    }
    let i = decl.find("encoding")?;
    let rest = decl[i + 8..].trim_start().strip_prefix('=')?.trim_start();
    let q = rest.chars().next()?;
    if q != '"' && q != '\'' {
        return None;
    }
    let rest = &rest[1..];
    Some(rest[..rest.find(q)?].to_owned())
}

/// A parsed MANSCDP message.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Manscdp {
    /// `Query`, `Control`, `Notify` or `Response`.
    pub root: String,
    pub cmd_type: String,
    pub sn: u32,
    pub device_id: String,
    /// Other direct children with text (e.g. `Status`, `SumNum`, `PTZCmd`, `Result`), in order.
    pub fields: Vec<(String, String)>,
    /// Items of a list child (`DeviceList`, `RecordList`, `AlarmList` ...): each item's text
    /// children, in order.
    pub items: Vec<Vec<(String, String)>>,
    /// The charset the body arrived in.
    #[serde(skip)]
    pub charset: Charset,
}

impl Manscdp {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn sum_num(&self) -> Option<u32> {
        self.field("SumNum")?.trim().parse().ok()
    }
}

fn proto(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Protocol, msg)
}

/// Parses a MANSCDP body (raw bytes as received).
pub fn parse(body: &[u8]) -> Result<Manscdp> {
    if body.len() > MAX_BODY {
        return Err(proto(format!(
            "MANSCDP body of {} bytes is over the {MAX_BODY}-byte limit",
            body.len()
        )));
    }
    let (text, charset) = decode(body);
    let mut t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with("<?xml")
        && let Some(e) = t.find("?>")
    {
        t = t[e + 2..].trim_start();
    }
    let doc = roxmltree::Document::parse(t)
        .map_err(|e| proto(format!("MANSCDP body is not well-formed XML: {e}")))?;
    let root = doc.root_element();
    let mut m = Manscdp {
        root: root.tag_name().name().to_owned(),
        charset,
        ..Default::default()
    };
    for c in root.children().filter(|c| c.is_element()) {
        let name = c.tag_name().name();
        let has_elem_children = c.children().any(|x| x.is_element());
        if has_elem_children {
            // A list (DeviceList/RecordList/...) of <Item>s, or a block such as <Info>.
            let mut any_item = false;
            for it in c.children().filter(|x| x.is_element()) {
                if it.tag_name().name() == "Item" {
                    any_item = true;
                    m.items.push(flatten(it));
                }
            }
            if !any_item {
                for (k, v) in flatten(c) {
                    m.fields.push((format!("{name}.{k}"), v));
                }
            }
            continue;
        }
        let text = c.text().unwrap_or("").trim().to_owned();
        match name {
            "CmdType" => m.cmd_type = text,
            "SN" => {
                m.sn = text
                    .parse()
                    .map_err(|_| proto(format!("MANSCDP SN {text:?} is not a number")))?
            }
            "DeviceID" => m.device_id = text,
            _ => m.fields.push((name.to_owned(), text)),
        }
    }
    if m.cmd_type.is_empty() {
        return Err(proto(format!("MANSCDP <{}> without <CmdType>", m.root)));
    }
    Ok(m)
}

/// Text children of an element, nested ones as `Parent.Child`.
fn flatten(n: roxmltree::Node) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for c in n.children().filter(|c| c.is_element()) {
        if c.children().any(|x| x.is_element()) {
            for (k, v) in flatten(c) {
                out.push((format!("{}.{k}", c.tag_name().name()), v));
            }
        } else {
            out.push((
                c.tag_name().name().to_owned(),
                c.text().unwrap_or("").trim().to_owned(),
            ));
        }
    }
    out
}

/// Escapes text for an XML element (the project's one markup escape).
pub use custos_core::text::escape_markup as escape;

/// Builds a body: `<root><CmdType/><SN/><DeviceID/>fields…</root>`, fields written as given
/// (a value starting with `<` is inserted raw, for lists), encoded in `charset`.
pub fn build(
    root: &str,
    cmd_type: &str,
    sn: u32,
    device_id: &str,
    fields: &[(&str, String)],
    charset: Charset,
) -> Vec<u8> {
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"{}\"?>\r\n<{root}>\r\n<CmdType>{}</CmdType>\r\n<SN>{sn}</SN>\r\n<DeviceID>{}</DeviceID>\r\n",
        charset.label(),
        escape(cmd_type),
        escape(device_id)
    );
    for (k, v) in fields {
        // `k` may carry attributes (`DeviceList Num="2"`); the end tag takes the name only.
        let close = k.split(' ').next().unwrap_or(k);
        if v.starts_with('<') {
            x.push_str(&format!("<{k}>{v}</{close}>\r\n"));
        } else {
            x.push_str(&format!("<{k}>{}</{close}>\r\n", escape(v)));
        }
    }
    x.push_str(&format!("</{root}>\r\n"));
    encode(&x, charset)
}

pub fn encode(s: &str, charset: Charset) -> Vec<u8> {
    match charset {
        Charset::Utf8 => s.as_bytes().to_vec(),
        Charset::Gb18030 => encoding_rs::GB18030.encode(s).0.into_owned(),
    }
}

/// One `<Item>` of a Catalog answer.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CatalogItem {
    pub device_id: String,
    pub name: String,
    pub manufacturer: String,
    pub model: String,
    pub civil_code: String,
    pub address: String,
    pub parent_id: String,
    /// `ON`/`OFF` as the device reports.
    pub status: String,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

impl CatalogItem {
    pub fn from_fields(f: &[(String, String)]) -> CatalogItem {
        let g = |k: &str| {
            f.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        CatalogItem {
            device_id: g("DeviceID"),
            name: g("Name"),
            manufacturer: g("Manufacturer"),
            model: g("Model"),
            civil_code: g("CivilCode"),
            address: g("Address"),
            parent_id: g("ParentID"),
            status: g("Status"),
            longitude: g("Longitude").parse().ok(),
            latitude: g("Latitude").parse().ok(),
        }
    }

    /// The `<Item>` XML. Only the fields the standard requires of a video channel are sent;
    /// nothing confidential (no addresses of storage, no credentials).
    pub fn to_xml(&self) -> String {
        let mut s = format!(
            "<Item><DeviceID>{}</DeviceID><Name>{}</Name><Manufacturer>{}</Manufacturer><Model>{}</Model>\
             <Owner>0</Owner><CivilCode>{}</CivilCode><Address>{}</Address><Parental>0</Parental>\
             <ParentID>{}</ParentID><SafetyWay>0</SafetyWay><RegisterWay>1</RegisterWay><Secrecy>0</Secrecy>\
             <Status>{}</Status>",
            escape(&self.device_id),
            escape(&self.name),
            escape(&self.manufacturer),
            escape(&self.model),
            escape(&self.civil_code),
            escape(&self.address),
            escape(&self.parent_id),
            escape(&self.status)
        );
        if let (Some(lo), Some(la)) = (self.longitude, self.latitude) {
            s.push_str(&format!(
                "<Longitude>{lo}</Longitude><Latitude>{la}</Latitude>"
            ));
        }
        s.push_str("</Item>");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// I2 (GB/T 28181 interface, manscdp): keepalive gb2312.
    #[test]
    fn keepalive_gb2312() {
        let b = b"<?xml version=\"1.0\" encoding=\"GB2312\"?>\n<Notify><CmdType>Keepalive</CmdType><SN>1563</SN>\n<DeviceID>34020000001320000264</DeviceID><Status>OK</Status></Notify>";
        let m = parse(b).unwrap();
        assert_eq!(m.root, "Notify");
        assert_eq!(m.cmd_type, "Keepalive");
        assert_eq!(m.sn, 1563);
        assert_eq!(m.field("Status"), Some("OK"));
    }

    /// I2: GB18030 names (including 萳, outside GB2312) survive build → parse in both charsets.
    #[test]
    fn gb18030_catalog_round_trip() {
        let item = CatalogItem {
            device_id: "34020000001320000001".into(),
            name: "南门萳道 <东> & 西".into(),
            status: "ON".into(),
            ..Default::default()
        };
        for cs in [Charset::Gb18030, Charset::Utf8] {
            let body = build(
                "Response",
                "Catalog",
                7,
                "34020000002000000001",
                &[
                    ("SumNum", "1".into()),
                    ("DeviceList Num=\"1\"", item.to_xml()),
                ],
                cs,
            );
            let m = parse(&body).unwrap();
            assert_eq!(m.charset, cs);
            assert_eq!(m.sum_num(), Some(1));
            assert_eq!(CatalogItem::from_fields(&m.items[0]), item);
        }
        let xml = format!(
            "<?xml version=\"1.0\" encoding=\"GB18030\"?><Response><CmdType>Catalog</CmdType><SN>7</SN><DeviceID>x</DeviceID><SumNum>1</SumNum><DeviceList Num=\"1\">{}</DeviceList></Response>",
            item.to_xml()
        );
        let gb = encode(&xml, Charset::Gb18030);
        assert_ne!(gb, xml.as_bytes(), "GB18030 bytes differ from UTF-8");
        let m = parse(&gb).unwrap();
        assert_eq!(m.charset, Charset::Gb18030);
        assert_eq!(CatalogItem::from_fields(&m.items[0]), item);
    }

    /// I2 (GB/T 28181 interface, manscdp): declared gb2312 but sent utf8 falls back.
    #[test]
    fn declared_gb2312_but_sent_utf8_falls_back() {
        let x = "<?xml version=\"1.0\" encoding=\"GB2312\"?><Response><CmdType>Catalog</CmdType><SN>1</SN><DeviceID>x</DeviceID><DeviceList Num=\"1\"><Item><Name>萳道</Name></Item></DeviceList></Response>";
        let m = parse(x.as_bytes()).unwrap();
        assert_eq!(m.items[0][0].1, "萳道");
    }

    /// I2 (GB/T 28181 interface, manscdp): errors name the problem.
    #[test]
    fn errors_name_the_problem() {
        assert!(parse(b"<Notify><SN>1</SN></Notify>").is_err());
        assert!(parse(b"<Notify><CmdType>K</CmdType><SN>x</SN></Notify>").is_err());
        assert!(parse(b"\xff\xfe<<<").is_err());
    }
}

/// A node of a device's catalog tree, for a console: items nested by `ParentID`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CatalogNode {
    pub item: CatalogItem,
    pub children: Vec<CatalogNode>,
}

/// Nests catalog items by `ParentID`. Items whose parent is empty, the device itself, or not in
/// the list (a domain id, as Hikvision sends) are roots. Cycles and repeated ids are cut.
pub fn catalog_tree(device_id: &str, items: &[CatalogItem]) -> Vec<CatalogNode> {
    let known: std::collections::HashSet<&str> =
        items.iter().map(|i| i.device_id.as_str()).collect();
    let mut seen = std::collections::HashSet::new();
    fn build<'a>(
        id: &str,
        items: &'a [CatalogItem],
        seen: &mut std::collections::HashSet<&'a str>,
    ) -> Vec<CatalogNode> {
        let mut out = Vec::new();
        for it in items
            .iter()
            .filter(|i| i.parent_id == id && i.device_id != id)
        {
            if !seen.insert(it.device_id.as_str()) {
                continue;
            }
            out.push(CatalogNode {
                item: it.clone(),
                children: build(&it.device_id, items, seen),
            });
        }
        out
    }
    let mut roots = Vec::new();
    for it in items {
        let is_root = it.parent_id.is_empty()
            || it.parent_id == device_id
            || !known.contains(it.parent_id.as_str());
        if is_root && seen.insert(it.device_id.as_str()) {
            roots.push(CatalogNode {
                item: it.clone(),
                children: build(&it.device_id, items, &mut seen),
            });
        }
    }
    roots
}

#[cfg(test)]
mod tree_tests {
    use super::*;

    fn it(id: &str, parent: &str) -> CatalogItem {
        CatalogItem {
            device_id: id.into(),
            parent_id: parent.into(),
            ..Default::default()
        }
    }

    /// I2 (GB/T 28181 interface, manscdp): nests by parent and survives cycles.
    #[test]
    fn nests_by_parent_and_survives_cycles() {
        let dev = "34020000001180000001";
        let items = vec![
            it("34020000002150000001", dev),                    // business group
            it("34020000002160000001", "34020000002150000001"), // virtual organisation
            it("34020000001310000001", "34020000002160000001"), // camera
            it("34020000001310000002", "3402000000"),           // parent = domain: root
            it("a", "b"),
            it("b", "a"), // a cycle: each is the other's parent, so neither is a root
        ];
        let t = catalog_tree(dev, &items);
        assert_eq!(t[0].item.device_id, "34020000002150000001");
        assert_eq!(
            t[0].children[0].children[0].item.device_id,
            "34020000001310000001"
        );
        assert_eq!(t[1].item.device_id, "34020000001310000002");
        // The a↔b cycle has no root; it is not shown rather than looping.
        assert_eq!(t.len(), 2);
    }
}
