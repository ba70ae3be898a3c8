//! A small geometry helper for B3: does a device's field of view (a polygon on the ground) overlap
//! a registered residence polygon?
//!
//! Coordinates are WGS-84 longitude/latitude in degrees. Both polygons are projected onto a local
//! plane (equirectangular, centred on their mean point; metres), which is accurate to well under
//! a metre over the few hundred metres a camera sees. Overlap is decided on that plane: polygons
//! overlap if an edge of one crosses or touches an edge of the other, or one lies inside the
//! other. Touching counts as overlapping: for privacy the helper errs towards a finding.
//! Polygons may be convex or not, in either winding, closed (first point repeated) or open.

use serde::{Deserialize, Serialize};

/// Mean Earth radius (IUGG), metres.
const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// A WGS-84 point, degrees.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LonLat {
    pub lon: f64,
    pub lat: f64,
}

impl LonLat {
    pub const fn new(lon: f64, lat: f64) -> Self {
        LonLat { lon, lat }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Xy {
    x: f64,
    y: f64,
}

/// Local plane projection around `origin`: x east, y north, metres.
fn project(p: LonLat, origin: LonLat) -> Xy {
    let k = std::f64::consts::PI / 180.0;
    Xy {
        x: EARTH_RADIUS_M * (p.lon - origin.lon) * k * (origin.lat * k).cos(),
        y: EARTH_RADIUS_M * (p.lat - origin.lat) * k,
    }
}

/// Drops a repeated closing vertex.
fn open_ring(p: &[LonLat]) -> &[LonLat] {
    match p {
        [first, .., last] if p.len() > 3 && first == last => &p[..p.len() - 1],
        _ => p,
    }
}

fn is_valid(p: &[LonLat]) -> bool {
    p.len() >= 3
        && p.iter().all(|q| {
            q.lon.is_finite()
                && q.lat.is_finite()
                && (-180.0..=180.0).contains(&q.lon)
                && (-90.0..=90.0).contains(&q.lat)
        })
}

/// Distance in metres between two nearby points (local projection).
pub fn distance_m(a: LonLat, b: LonLat) -> f64 {
    let o = LonLat::new((a.lon + b.lon) / 2.0, (a.lat + b.lat) / 2.0);
    let (p, q) = (project(a, o), project(b, o));
    (p.x - q.x).hypot(p.y - q.y)
}

/// Area in square metres of a (simple) polygon, via the shoelace formula on the local plane.
pub fn area_m2(poly: &[LonLat]) -> f64 {
    let poly = open_ring(poly);
    if !is_valid(poly) {
        return 0.0;
    }
    let o = centroid(poly.iter());
    let pts: Vec<Xy> = poly.iter().map(|p| project(*p, o)).collect();
    let n = pts.len();
    let twice: f64 = (0..n)
        .map(|i| {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            a.x * b.y - b.x * a.y
        })
        .sum();
    twice.abs() / 2.0
}

fn centroid<'a>(pts: impl Iterator<Item = &'a LonLat>) -> LonLat {
    let (mut lon, mut lat, mut n) = (0.0, 0.0, 0.0);
    for p in pts {
        lon += p.lon;
        lat += p.lat;
        n += 1.0;
    }
    LonLat::new(lon / n, lat / n)
}

/// Do the two polygons overlap (share at least one point)? Invalid polygons (fewer than 3
/// vertices, non-finite or out-of-range coordinates) overlap nothing.
pub fn polygons_overlap(a: &[LonLat], b: &[LonLat]) -> bool {
    let (a, b) = (open_ring(a), open_ring(b));
    if !is_valid(a) || !is_valid(b) {
        return false;
    }
    let o = centroid(a.iter().chain(b.iter()));
    let pa: Vec<Xy> = a.iter().map(|p| project(*p, o)).collect();
    let pb: Vec<Xy> = b.iter().map(|p| project(*p, o)).collect();
    // Cheap rejection by bounding boxes.
    let bbox = |p: &[Xy]| {
        p.iter().fold(
            (f64::MAX, f64::MAX, f64::MIN, f64::MIN),
            |(x0, y0, x1, y1), q| (x0.min(q.x), y0.min(q.y), x1.max(q.x), y1.max(q.y)),
        )
    };
    let (ax0, ay0, ax1, ay1) = bbox(&pa);
    let (bx0, by0, bx1, by1) = bbox(&pb);
    if ax1 < bx0 || bx1 < ax0 || ay1 < by0 || by1 < ay0 {
        return false;
    }
    let edges = |p: &[Xy]| {
        let n = p.len();
        (0..n)
            .map(move |i| (p[i], p[(i + 1) % n]))
            .collect::<Vec<_>>()
    };
    let (ea, eb) = (edges(&pa), edges(&pb));
    for &(p1, p2) in &ea {
        for &(q1, q2) in &eb {
            if segments_intersect(p1, p2, q1, q2) {
                return true;
            }
        }
    }
    point_in_polygon(pa[0], &pb) || point_in_polygon(pb[0], &pa)
}

/// Tolerance for collinearity on the local plane, in square metres (cross product units).
const EPS: f64 = 1e-9;

fn cross(o: Xy, a: Xy, b: Xy) -> f64 {
    (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x)
}

fn sign(v: f64) -> i8 {
    if v > EPS {
        1
    } else if v < -EPS {
        -1
    } else {
        0
    }
}

fn on_segment(p: Xy, q: Xy, r: Xy) -> bool {
    // r is collinear with p–q: is it between them?
    r.x <= p.x.max(q.x) + EPS
        && r.x + EPS >= p.x.min(q.x)
        && r.y <= p.y.max(q.y) + EPS
        && r.y + EPS >= p.y.min(q.y)
}

fn segments_intersect(p1: Xy, p2: Xy, q1: Xy, q2: Xy) -> bool {
    let d1 = sign(cross(q1, q2, p1));
    let d2 = sign(cross(q1, q2, p2));
    let d3 = sign(cross(p1, p2, q1));
    let d4 = sign(cross(p1, p2, q2));
    if d1 * d2 < 0 && d3 * d4 < 0 {
        return true;
    }
    (d1 == 0 && on_segment(q1, q2, p1))
        || (d2 == 0 && on_segment(q1, q2, p2))
        || (d3 == 0 && on_segment(p1, p2, q1))
        || (d4 == 0 && on_segment(p1, p2, q2))
}

/// Even-odd ray casting.
fn point_in_polygon(p: Xy, poly: &[Xy]) -> bool {
    let n = poly.len();
    let mut inside = false;
    let mut j = n - 1;
    for i in 0..n {
        let (a, b) = (poly[i], poly[j]);
        if (a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x {
            inside = !inside;
        }
        j = i;
    }
    inside
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A square of `side_m` metres with its south-west corner `dx_m`/`dy_m` metres east/north of
    /// a point in Hefei (117.27 E, 31.86 N).
    fn square(dx_m: f64, dy_m: f64, side_m: f64) -> Vec<LonLat> {
        let (lon0, lat0) = (117.27_f64, 31.86_f64);
        let k = std::f64::consts::PI / 180.0;
        let dlat = |m: f64| m / (EARTH_RADIUS_M * k);
        let dlon = |m: f64| m / (EARTH_RADIUS_M * k * (lat0 * k).cos());
        vec![
            LonLat::new(lon0 + dlon(dx_m), lat0 + dlat(dy_m)),
            LonLat::new(lon0 + dlon(dx_m + side_m), lat0 + dlat(dy_m)),
            LonLat::new(lon0 + dlon(dx_m + side_m), lat0 + dlat(dy_m + side_m)),
            LonLat::new(lon0 + dlon(dx_m), lat0 + dlat(dy_m + side_m)),
        ]
    }

    /// B3: the overlap helper on a table of shapes.
    #[test]
    fn b3_polygon_overlap_table() {
        let house = square(0.0, 0.0, 10.0);
        // A camera's triangular view cone from 30 m south reaching into the house.
        let cone_in = {
            let s = square(0.0, -30.0, 10.0);
            vec![
                s[0],
                s[1],
                LonLat::new((s[0].lon + s[1].lon) / 2.0, house[2].lat - 0.00001),
            ]
        };
        // A concave "U" whose notch contains the house without touching it.
        let u = {
            let o = square(-20.0, -20.0, 50.0);
            let i = square(-5.0, -5.0, 20.0);
            vec![o[0], o[1], o[2], i[2], i[1], i[0], i[3], o[3]]
        };
        let mut closed = square(5.0, 5.0, 10.0);
        closed.push(closed[0]);
        let cases: &[(&str, Vec<LonLat>, bool)] = &[
            ("partial overlap", square(5.0, 5.0, 10.0), true),
            ("disjoint 5 m east", square(15.0, 0.0, 10.0), false),
            ("far away", square(1000.0, 1000.0, 10.0), false),
            ("view inside house", square(2.0, 2.0, 2.0), true),
            ("house inside view", square(-50.0, -50.0, 200.0), true),
            ("sharing an edge", square(10.0, 0.0, 10.0), true),
            ("touching a corner", square(10.0, 10.0, 5.0), true),
            ("view cone reaching in", cone_in, true),
            ("U around the house, notch left open", u, false),
            ("closed ring", closed, true),
            (
                "degenerate (2 points)",
                square(0.0, 0.0, 10.0)[..2].to_vec(),
                false,
            ),
            (
                "bad coordinates",
                vec![LonLat::new(f64::NAN, 0.0); 3],
                false,
            ),
        ];
        for (name, view, want) in cases {
            assert_eq!(polygons_overlap(view, &house), *want, "{name}");
            assert_eq!(polygons_overlap(&house, view), *want, "{name} (swapped)");
        }
    }

    /// B3: the projection measures metres correctly at this scale.
    #[test]
    fn b3_projection_is_metric() {
        let s = square(0.0, 0.0, 100.0);
        assert!((distance_m(s[0], s[1]) - 100.0).abs() < 0.05);
        assert!((distance_m(s[0], s[3]) - 100.0).abs() < 0.05);
        assert!((area_m2(&s) - 10_000.0).abs() < 5.0, "{}", area_m2(&s));
    }
}
