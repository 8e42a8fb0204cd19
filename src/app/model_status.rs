//! Where the models are (loading, ready, failed), and what they can and cannot do, in the words
//! the toolbar and the face panel use.

use std::time::Duration;

use crate::engine::{ModelInfo, Provider};

/// Where the model is.
#[derive(Clone, Debug)]
pub enum ModelStatus {
    Loading,
    Ready {
        /// The generator's.
        info: ModelInfo,
        provider: Provider,
        load_time: Duration,
        /// Face pipeline v3 paints the faces; `Err`: why not (the generator paints them).
        pipeline: Result<(), String>,
    },
    Failed(String),
}

impl ModelStatus {
    pub fn info(&self) -> Option<&ModelInfo> {
        match self {
            ModelStatus::Ready { info, .. } => Some(info),
            _ => None,
        }
    }

    /// Face pipeline v3 is loaded: faces are photographs of real people, warped and refined.
    pub fn photographic(&self) -> bool {
        matches!(self, ModelStatus::Ready { pipeline: Ok(()), .. })
    }

    /// Why the colour tool cannot be used, or `None` when it can (or the model is not loaded
    /// yet).
    pub fn why_no_hints(&self) -> Option<String> {
        // The pipeline takes hints: they choose the person and steer the refine network.
        self.info().filter(|info| !info.takes_hints && !self.photographic()).map(|info| {
            format!(
                "{} takes no colour hints (a contract {} model without a `hints` input): colours would not change the face",
                model_name(info),
                info.contract
            )
        })
    }

    /// Why there are no variations, or `None` when there are (or the model is not loaded yet).
    pub fn why_no_variations(&self) -> Option<String> {
        self.info().filter(|info| info.z_dim == 0 && !self.photographic()).map(|info| {
            format!(
                "{} has no variation code (no `z` input): it paints one face per drawing",
                model_name(info)
            )
        })
    }
}

/// The model file's name.
pub fn model_name(info: &ModelInfo) -> String {
    info.path.file_name().map_or_else(
        || info.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}
