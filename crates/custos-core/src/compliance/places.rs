//! The place-category taxonomy (B1, B2): where cameras must be, and where they must never be,
//! with the article of every source that lists each category.
//!
//! Mandatory categories are the union of 002 §2 (14 items), 003 art. 8 (10 items) and 004 §2
//! (measures art. 8, 10 items); 001 art. 9 and 000 only say "key positions of public areas and
//! places required by law", which is [`MandatoryCategory::OtherByLaw`]. Prohibited categories are
//! the union of 001 art. 11 para. 2, 002 §3 (measures art. 8), 003 art. 9, 004 §4 (measures
//! art. 9) and 000 §3(3) (draft art. 9, which adds hospital wards).
//!
//! A category applies in a [`Jurisdiction`] when at least one of its citing texts applies there.

use serde::{Deserialize, Serialize};

use super::article::{Article, Source, cite};
use super::jurisdiction::Jurisdiction;
use crate::{Error, ErrorKind};

const fn a2(item: u8) -> Article {
    // 002 §2 lists the places; the explanation does not name the measures article.
    Article::sec(Source::Anhui002, 2, Some(item), None)
}
const fn y8(item: u8) -> Article {
    Article::item(Source::Yangzhou003, 8, item)
}
const fn c2(item: u8) -> Article {
    Article::sec(Source::Chongqing004, 2, Some(item), Some(8))
}
const fn a3(item: u8) -> Article {
    Article::sec(Source::Anhui002, 3, Some(item), Some(8))
}
const N11: Article = Article::para(Source::National001, 11, 2);
const Y9: Article = Article::art(Source::Yangzhou003, 9);
const C4: Article = Article::sec(Source::Chongqing004, 4, None, Some(9));
const S9: Article = Article::sec(Source::Shenzhen000, 3, Some(3), Some(9));

crate::all_variants! {
    /// A place category that must be covered by cameras (B1).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum MandatoryCategory {
        RoadTrafficFacility,
        InlandWaters,
        PublicTransportVehicle,
        TransportHub,
        Parking,
        HotelSpecialTrade,
        EntertainmentVenue,
        InternetCafe,
        CinemaSportsCulture,
        CommercialExhibition,
        CommunicationsMedia,
        GovernmentOrgan,
        EnergyWaterUtility,
        FuelStationDepot,
        DangerousGoods,
        MaterialReserve,
        HeritageMuseumArchive,
        ResearchInstitution,
        FinancialInstitution,
        AuctionJewellery,
        SchoolKindergarten,
        MedicalInstitution,
        WelfareInstitution,
        ParkScenicSquare,
        ResidentialCompound,
        LogisticsDelivery,
        EmergencyShelter,
        KeyConstructionProject,
        CrimeHotspot,
        OtherByLaw,
    }
}

impl MandatoryCategory {
    /// (Chinese name, English name, every citing article).
    fn row(self) -> (&'static str, &'static str, &'static [Article]) {
        use MandatoryCategory::*;
        match self {
            RoadTrafficFacility => (
                "道路交通设施（重要路段、路口、桥梁、隧道、人行过街通道、地铁、轻轨）",
                "roads, junctions, bridges, tunnels, pedestrian crossings, metro and light rail",
                const { &[a2(1), y8(6), c2(5)] },
            ),
            InlandWaters => (
                "内陆江河湖治安复杂水域",
                "inland waters with complex public order",
                const { &[y8(6)] },
            ),
            PublicTransportVehicle => (
                "公共交通车辆、客运车辆、游轮等交通工具",
                "public transport vehicles, coaches, cruise boats",
                const { &[a2(5), y8(5), c2(6)] },
            ),
            TransportHub => (
                "机场、港口、口岸、车站、码头、轨道交通站、公交枢纽",
                "airports, ports, border crossings, stations, piers, rail transit and bus hubs",
                const { &[a2(6), y8(5), c2(6)] },
            ),
            Parking => (
                "停车场（库）",
                "car parks",
                const { &[a2(6), y8(9), c2(6)] },
            ),
            HotelSpecialTrade => (
                "旅馆等特种行业（大厅、通道、出入口）",
                "hotels and other special trades (lobbies, passages, entrances)",
                const { &[a2(2), y8(8), c2(8)] },
            ),
            EntertainmentVenue => (
                "公共娱乐场所",
                "public entertainment venues",
                const { &[a2(2), y8(8), c2(8)] },
            ),
            InternetCafe => (
                "互联网上网服务营业场所",
                "internet cafés",
                const { &[a2(2), y8(8), c2(8)] },
            ),
            CinemaSportsCulture => (
                "影剧院、体育场馆、大型文化体育场所",
                "cinemas, theatres, stadiums, large cultural and sports venues",
                const { &[a2(2), y8(7), c2(7), c2(8)] },
            ),
            CommercialExhibition => (
                "商业中心、商业街、步行街、农贸市场、大型商业网点和餐饮场所、会展中心",
                "shopping centres and streets, markets, large shops and restaurants, exhibition centres",
                const { &[a2(3), y8(7), c2(7), c2(8)] },
            ),
            CommunicationsMedia => (
                "广播、电视、报刊等新闻单位，电信、通信、邮政",
                "broadcasting, press, telecommunications and postal units",
                const { &[a2(4), y8(1), c2(1), c2(2)] },
            ),
            GovernmentOrgan => (
                "党政机关、国家机关",
                "Party and state organs",
                const { &[y8(1), c2(1)] },
            ),
            EnergyWaterUtility => (
                "大型能源动力、水利设施和水、电、燃气、热力供应设施",
                "large energy, water-conservancy and water/power/gas/heat supply facilities",
                const { &[a2(7), y8(2), c2(4)] },
            ),
            FuelStationDepot => (
                "油库、加油站、加气站",
                "fuel depots, filling and gas stations",
                const { &[y8(2)] },
            ),
            DangerousGoods => (
                "危险物品研制、生产、储存、经营场所",
                "sites making, storing or selling dangerous goods",
                const { &[a2(8), y8(3), c2(3)] },
            ),
            MaterialReserve => (
                "大型物资储备场所、重要物资仓库",
                "large material reserves and important warehouses",
                const { &[a2(8), y8(2), c2(7)] },
            ),
            HeritageMuseumArchive => (
                "重点文物保护单位、博物馆、档案馆、图书馆、纪念馆、展览馆",
                "protected heritage sites, museums, archives, libraries, memorial halls",
                const { &[a2(9), y8(1), c2(7)] },
            ),
            ResearchInstitution => (
                "科研机构",
                "research institutions",
                const { &[a2(10), y8(1), c2(6)] },
            ),
            FinancialInstitution => (
                "金融机构",
                "financial institutions",
                const { &[a2(10), y8(4), c2(2)] },
            ),
            AuctionJewellery => (
                "拍卖行、金银珠宝玉石经营场所",
                "auction houses, gold, jewellery and jade dealers",
                const { &[y8(4)] },
            ),
            SchoolKindergarten => (
                "学校、幼儿园等教育单位",
                "schools, kindergartens and other educational units",
                const { &[a2(11), y8(1), c2(6)] },
            ),
            MedicalInstitution => (
                "医疗机构、医院",
                "hospitals and medical institutions",
                const { &[a2(11), y8(1), c2(6)] },
            ),
            WelfareInstitution => (
                "养老机构、救助管理机构、儿童福利机构",
                "elderly care, relief and child welfare institutions",
                const { &[a2(11)] },
            ),
            ParkScenicSquare => (
                "公园、旅游景区、城市广场、地下人行通道等人员密集场所",
                "parks, scenic areas, squares, underpasses and other crowded places",
                const { &[a2(12), y8(7), c2(6), c2(7)] },
            ),
            ResidentialCompound => (
                "居民住宅区（住宅小区）公共部位",
                "public parts of residential compounds",
                const { &[a2(13), y8(9), c2(7)] },
            ),
            LogisticsDelivery => (
                "物流寄递存储和运营场所",
                "logistics and parcel delivery sites",
                const { &[y8(8)] },
            ),
            EmergencyShelter => (
                "应急疏散场所",
                "emergency evacuation sites",
                const { &[y8(9)] },
            ),
            KeyConstructionProject => (
                "国家重点建设工程单位",
                "national key construction projects",
                const { &[c2(2)] },
            ),
            CrimeHotspot => (
                "易发或者频发刑事、治安案件的地段和区域",
                "areas where crime and disorder are frequent",
                const { &[c2(9)] },
            ),
            OtherByLaw => (
                "法律、法规、规章规定的其他场所和部位",
                "other places required by laws, regulations or rules",
                const {
                    &[
                        Article::para(Source::National001, 9, 1),
                        a2(14),
                        y8(10),
                        c2(10),
                    ]
                },
            ),
        }
    }

    pub fn zh(self) -> &'static str {
        self.row().0
    }
    pub fn en(self) -> &'static str {
        self.row().1
    }
    /// Every article, in every text, that lists this category.
    pub fn articles(self) -> &'static [Article] {
        self.row().2
    }
    /// The articles of the texts that apply in `j` (empty: not mandatory there).
    pub fn articles_in(self, j: &Jurisdiction) -> Vec<Article> {
        self.articles()
            .iter()
            .copied()
            .filter(|a| j.applies(a.source))
            .collect()
    }
    pub fn is_mandatory_in(self, j: &Jurisdiction) -> bool {
        self.articles().iter().any(|a| j.applies(a.source))
    }
}

crate::all_variants! {
    /// A place category where capture devices are prohibited (B2).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ProhibitedCategory {
        HotelGuestRoom,
        EntertainmentPrivateRoom,
        CollectiveDormitory,
        PersonalDormitory,
        Bathhouse,
        ChangingRoom,
        FittingRoom,
        NursingRoom,
        Toilet,
        HospitalWard,
        FinancialCustomerDataPosition,
        BallotOrReportBoxVicinity,
        OtherPrivacyPlace,
    }
}

impl ProhibitedCategory {
    fn row(self) -> (&'static str, &'static str, &'static [Article]) {
        use ProhibitedCategory::*;
        match self {
            HotelGuestRoom => (
                "旅馆（饭店）客房",
                "hotel guest rooms",
                const { &[N11, a3(1), Y9, C4, S9] },
            ),
            EntertainmentPrivateRoom => (
                "娱乐场所包房",
                "private rooms of entertainment venues",
                const { &[C4] },
            ),
            CollectiveDormitory => (
                "集体宿舍（房间内）",
                "collective dormitories (inside rooms)",
                const { &[N11, a3(1), Y9, C4, S9] },
            ),
            PersonalDormitory => ("个人宿舍", "personal dormitories", const { &[C4] }),
            Bathhouse => (
                "公共浴室",
                "bathhouses",
                const { &[N11, a3(2), Y9, C4, S9] },
            ),
            ChangingRoom => (
                "更衣室",
                "changing rooms",
                const { &[N11, a3(2), Y9, C4, S9] },
            ),
            FittingRoom => ("试衣间", "fitting rooms", const { &[a3(2)] }),
            NursingRoom => ("哺乳室", "nursing rooms", const { &[a3(2), C4, S9] }),
            Toilet => ("卫生间", "toilets", const { &[N11, a3(2), Y9, C4, S9] }),
            HospitalWard => ("医院病房", "hospital wards", const { &[S9] }),
            FinancialCustomerDataPosition => (
                "金融（保险、证券）机构内可能泄露客户个人信息的操作部位",
                "positions in financial, insurance or securities institutions exposing customer data",
                const { &[a3(3), C4] },
            ),
            BallotOrReportBoxVicinity => (
                "选举箱、投票点、举报箱附近可能观察到个人意愿表达的部位",
                "near ballot boxes, polling points or report boxes where a person's choice can be seen",
                const { &[a3(4), C4] },
            ),
            OtherPrivacyPlace => (
                "其他可能泄露他人隐私的场所和部位",
                "other places that may expose others' privacy",
                const { &[N11, a3(5), Y9, C4] },
            ),
        }
    }

    pub fn zh(self) -> &'static str {
        self.row().0
    }
    pub fn en(self) -> &'static str {
        self.row().1
    }
    pub fn articles(self) -> &'static [Article] {
        self.row().2
    }
    pub fn articles_in(self, j: &Jurisdiction) -> Vec<Article> {
        self.articles()
            .iter()
            .copied()
            .filter(|a| j.applies(a.source))
            .collect()
    }
    pub fn is_prohibited_in(self, j: &Jurisdiction) -> bool {
        self.articles().iter().any(|a| j.applies(a.source))
    }
}

/// The category of a registered place.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "category", rename_all = "snake_case")]
pub enum PlaceCategory {
    Mandatory(MandatoryCategory),
    Prohibited(ProhibitedCategory),
    /// Any other place (no list names it).
    General,
}

/// The mandatory categories in force in `j`.
pub fn mandatory_categories(j: &Jurisdiction) -> Vec<MandatoryCategory> {
    MandatoryCategory::ALL
        .into_iter()
        .filter(|c| c.is_mandatory_in(j))
        .collect()
}

/// The prohibited categories in force in `j`.
pub fn prohibited_categories(j: &Jurisdiction) -> Vec<ProhibitedCategory> {
    ProhibitedCategory::ALL
        .into_iter()
        .filter(|c| c.is_prohibited_in(j))
        .collect()
}

/// B2: may a capture device be registered or activated at a place of this category? Refused with
/// `PermissionDenied` naming the category and the articles (and 001 art. 27's order of immediate
/// removal when 001 applies).
pub fn check_placement(category: PlaceCategory, j: &Jurisdiction) -> Result<(), Error> {
    let PlaceCategory::Prohibited(p) = category else {
        return Ok(());
    };
    let arts = p.articles_in(j);
    if arts.is_empty() {
        return Ok(());
    }
    let mut msg = format!(
        "capture devices are prohibited in {} ({}) by {}",
        p.en(),
        p.zh(),
        cite(&arts)
    );
    if j.applies(Source::National001) {
        msg.push_str("; an installed one must be removed immediately (001 art. 27)");
    }
    Err(Error::new(ErrorKind::PermissionDenied, msg))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::jurisdiction::Profile;

    fn count_items(
        src: Source,
        cats: &[&'static [Article]],
    ) -> std::collections::BTreeSet<Article> {
        cats.iter()
            .flat_map(|a| a.iter().copied())
            .filter(|a| a.source == src)
            .map(|a| match a.at {
                // Merge the measures-article annotation: count list items only.
                super::super::article::Locator::Section { sec, sub, .. } => {
                    Article::sec(src, sec, sub, None)
                }
                _ => a,
            })
            .collect()
    }

    /// B1: the mandatory taxonomy covers every item of 002 §2 (14), 003 art. 8 (10), 004 §2 (10).
    #[test]
    fn b1_mandatory_union_covers_every_listed_item() {
        let rows: Vec<&'static [Article]> = MandatoryCategory::ALL
            .iter()
            .map(|c| c.articles())
            .collect();
        assert_eq!(count_items(Source::Anhui002, &rows).len(), 14);
        assert_eq!(count_items(Source::Yangzhou003, &rows).len(), 10);
        assert_eq!(count_items(Source::Chongqing004, &rows).len(), 10);
        for c in MandatoryCategory::ALL {
            assert!(!c.zh().is_empty() && !c.en().is_empty() && !c.articles().is_empty());
        }
    }

    /// B1: a jurisdiction selects which categories are mandatory; strictest = union.
    #[test]
    fn b1_mandatory_by_jurisdiction_table() {
        use MandatoryCategory::*;
        let cases = [
            (Profile::Strictest, WelfareInstitution, true), // 002 §2(11)
            (Profile::Strictest, CrimeHotspot, true),       // 004 §2(9)
            (Profile::Anhui, WelfareInstitution, true),     // 002 §2(11)
            (Profile::Yangzhou, WelfareInstitution, false), // not in 003 art. 8
            (Profile::Yangzhou, FuelStationDepot, true),    // 003 art. 8(2)
            (Profile::Chongqing, FuelStationDepot, false),  // not in 004 §2
            (Profile::Chongqing, KeyConstructionProject, true), // 004 §2(2)
            (Profile::NationalDraft, SchoolKindergarten, false), // 001 has no list
            (Profile::NationalDraft, OtherByLaw, true),     // 001 art. 9 para. 1
        ];
        for (p, c, want) in cases {
            let j = Jurisdiction::profile(p);
            assert_eq!(c.is_mandatory_in(&j), want, "{p:?} {c:?}");
        }
        assert_eq!(mandatory_categories(&Jurisdiction::default()).len(), 30);
    }

    /// B2: table of place categories → refused (with the article) or allowed, per jurisdiction.
    #[test]
    fn b2_placement_refusal_table() {
        use ProhibitedCategory::*;
        let cases: &[(Profile, PlaceCategory, Option<&str>)] = &[
            (
                Profile::Strictest,
                PlaceCategory::Prohibited(Toilet),
                Some("001 art. 11 para. 2"),
            ),
            (
                Profile::Strictest,
                PlaceCategory::Prohibited(Toilet),
                Some("003 art. 9"),
            ),
            (
                Profile::Strictest,
                PlaceCategory::Prohibited(Toilet),
                Some("001 art. 27"),
            ),
            (
                Profile::Strictest,
                PlaceCategory::Prohibited(FittingRoom),
                Some("002 §3(2) (measures art. 8)"),
            ),
            (
                Profile::Anhui,
                PlaceCategory::Prohibited(BallotOrReportBoxVicinity),
                Some("002 §3(4)"),
            ),
            (
                Profile::Chongqing,
                PlaceCategory::Prohibited(EntertainmentPrivateRoom),
                Some("004 §4 (measures art. 9)"),
            ),
            (
                Profile::Shenzhen,
                PlaceCategory::Prohibited(HospitalWard),
                Some("000 §3(3) (draft art. 9)"),
            ),
            (
                Profile::Yangzhou,
                PlaceCategory::Prohibited(HotelGuestRoom),
                Some("003 art. 9"),
            ),
            // Only texts that list a category prohibit it in a narrower profile.
            (
                Profile::Yangzhou,
                PlaceCategory::Prohibited(FittingRoom),
                None,
            ),
            (
                Profile::NationalDraft,
                PlaceCategory::Prohibited(HospitalWard),
                None,
            ),
            (
                Profile::Strictest,
                PlaceCategory::Mandatory(MandatoryCategory::TransportHub),
                None,
            ),
            (Profile::Strictest, PlaceCategory::General, None),
        ];
        for (p, cat, want) in cases {
            let j = Jurisdiction::profile(*p);
            match (want, check_placement(*cat, &j)) {
                (None, Ok(())) => {}
                (Some(art), Err(e)) => {
                    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
                    assert!(e.msg().contains(art), "{p:?} {cat:?}: {}", e.msg());
                }
                (w, g) => panic!("{p:?} {cat:?}: want {w:?}, got {g:?}"),
            }
        }
        assert_eq!(prohibited_categories(&Jurisdiction::default()).len(), 13);
        assert_eq!(
            prohibited_categories(&Jurisdiction::profile(Profile::NationalDraft)),
            vec![
                HotelGuestRoom,
                CollectiveDormitory,
                Bathhouse,
                ChangingRoom,
                Toilet,
                OtherPrivacyPlace
            ]
        );
    }
}
