//! The registration form (登记表, H3) as printable HTML and PDF: the request's organ, purpose,
//! legal basis, cameras and ranges, both officers, the documents with their SHA-256, the
//! approval, the release and the evidence bundles' fingerprints, with signature lines.

use std::fmt::Write as _;
use std::path::Path;

use custos_core::Result;
use custos_registry::report::{esc, html_to_pdf};

use crate::model::*;

fn t(x: custos_core::Time90k) -> String {
    x.to_rfc3339()
}

/// The form as a standalone HTML page (A4, zh-CN).
pub fn html(r: &Request, docs: &[Document]) -> String {
    let f = &r.fields;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>视频图像信息调取登记表 #{id}</title>\
         <style>@page{{size:A4;margin:18mm}}body{{font-family:'Noto Sans CJK SC','WenQuanYi Zen Hei',sans-serif;font-size:11pt}}\
         table{{border-collapse:collapse;width:100%;margin:6px 0}}td,th{{border:1px solid #333;padding:4px;text-align:left;vertical-align:top}}\
         th{{width:28%;background:#eee}}h1{{font-size:16pt;text-align:center}}.sig{{height:40px}}</style></head><body>\
         <h1>视频图像信息调取登记表</h1><p>Footage request registration form — No. {id}</p><table>",
        id = r.id
    );
    let row = |s: &mut String, k: &str, v: &str| {
        let _ = write!(s, "<tr><th>{k}</th><td>{}</td></tr>", esc(v));
    };
    row(
        &mut s,
        "状态 State",
        &format!("{} {}", r.state.zh(), r.state.as_str()),
    );
    row(
        &mut s,
        "调取单位 Requesting organ",
        &format!(
            "{} ({} / {})",
            f.organ,
            f.organ_type.zh(),
            f.organ_type.as_str()
        ),
    );
    row(&mut s, "事由 Purpose", &f.purpose);
    row(&mut s, "法律依据 Legal basis", &f.legal_basis);
    row(&mut s, "案件编号 Case", f.case.as_deref().unwrap_or("—"));
    row(
        &mut s,
        "方式 Kind",
        &format!("{} ({})", f.kind.zh(), f.kind.as_str()),
    );
    row(
        &mut s,
        "登记账号 Drafted by",
        &format!("{} at {}", r.created_by, t(r.created_at)),
    );
    s.push_str("</table><h2>调取范围 Cameras and ranges</h2><table><tr><th>摄像机 Camera</th><th>起 From</th><th>止 To</th></tr>");
    for c in &f.scope {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.camera),
            t(c.from),
            t(c.to)
        );
    }
    s.push_str("</table><h2>办案人员 Officers (H3)</h2><table><tr><th>姓名 Name</th><th>工作证号 Work ID</th><th>签名 Signature</th></tr>");
    for o in &f.officers {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"sig\"></td></tr>",
            esc(&o.name),
            esc(&o.work_id)
        );
    }
    s.push_str("</table><h2>证明文件 Documents</h2><table><tr><th>类型 Kind</th><th>名称 Title</th><th>SHA-256</th></tr>");
    for d in docs {
        let _ = write!(
            s,
            "<tr><td>{} ({})</td><td>{}</td><td><code>{}</code></td></tr>",
            d.kind.zh(),
            d.kind.as_str(),
            esc(&d.title),
            d.sha256
        );
    }
    s.push_str("</table><h2>审批 Approval (H2)</h2><table>");
    match &r.approval {
        Some(a) => {
            row(
                &mut s,
                "审批人 Approver",
                &format!("{} (work ID {})", a.by, a.work_id),
            );
            row(
                &mut s,
                "所在单位 Heads",
                &format!("{} ({})", a.unit, a.unit_type.zh()),
            );
            row(&mut s, "时间 At", &t(a.at));
        }
        None => row(&mut s, "审批人 Approver", "—"),
    }
    if let Some(x) = &r.refusal {
        row(
            &mut s,
            "拒绝 Refused",
            &format!("{} at {}: {}", x.by, t(x.at), x.reason),
        );
    }
    s.push_str("</table><h2>提供 Release (H3, H5)</h2><table>");
    match &r.release {
        Some(rel) => {
            row(
                &mut s,
                "提供人 Released by",
                &format!("{} at {}", rel.by, t(rel.at)),
            );
            row(&mut s, "有效期至 Valid until", &t(rel.until));
            for b in &rel.bundles {
                row(
                    &mut s,
                    "证据包 Evidence bundle",
                    &format!(
                        "{}: {} — key fingerprint {} — manifest SHA-256 {}",
                        b.camera, b.path, b.key_fingerprint, b.manifest_sha256
                    ),
                );
            }
        }
        None => row(&mut s, "提供人 Released by", "—"),
    }
    let _ = write!(
        s,
        "</table><p>账本记录 Ledger entries: {}</p>\
         <table><tr><th>调取人签名 Officers</th><td class=\"sig\"></td></tr>\
         <tr><th>审批人签名 Approver</th><td class=\"sig\"></td></tr>\
         <tr><th>提供人签名 Unit operator</th><td class=\"sig\"></td></tr></table>\
         <p>调取的视频图像信息应当严格保密，不得提供给其他单位和个人。Keep secret; hand to no other unit or person (H3, H5).</p></body></html>",
        r.ledger
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    s
}

/// Writes the form as a PDF (headless Chromium, as the compliance reports are printed).
pub fn pdf(r: &Request, docs: &[Document], out: &Path) -> Result<()> {
    let html_path = out.with_extension("html");
    std::fs::write(&html_path, html(r, docs))
        .map_err(|e| custos_core::Error::io(format!("writing {}", html_path.display()), e))?;
    let res = html_to_pdf(&html_path, out);
    let _ = std::fs::remove_file(&html_path);
    res
}
