//! [`LakeCodec`]: how the lake's own plan nodes and functions cross to a worker.
//!
//! - [`GuardExec`] (the sandbox's budget check) has no state: it travels as a tag and is
//!   rebuilt around its decoded input.
//! - `sandbox_room` (memory reserved for an expression) travels with its factor.
//! - A guarded function travels as the name of the function it guards; the worker looks
//!   that up among DataFusion's and the lake's functions and guards it again, so a
//!   member's limits on what a function may build hold on the worker too.
//! - `ip_prefix` and the lake's `date_trunc` travel by name, as DataFusion's own do.
//!
//! Anything else is not the lake's, and is refused by name.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use datafusion::common::{Result, internal_err};
use datafusion::execution::{SessionStateDefaults, TaskContext};
use datafusion::logical_expr::ScalarUDF;
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};

use crate::query::functions;
use crate::query::sandbox::functions::{Guarded, Room};
use crate::query::sandbox::operator::GuardExec;

const GUARD: &[u8] = b"secviz.guard";
const ROOM: u8 = b'R';
const GUARDED: u8 = b'G';

/// The codec, registered on coordinators and workers alike.
#[derive(Debug, Default, Clone, Copy)]
pub struct LakeCodec;

/// Every function a plan may name: DataFusion's, with the lake's in place of any of the
/// same name.
static FUNCTIONS: LazyLock<HashMap<String, Arc<ScalarUDF>>> = LazyLock::new(|| {
    let mut all: HashMap<String, Arc<ScalarUDF>> = HashMap::new();
    for f in SessionStateDefaults::default_scalar_functions()
        .into_iter()
        .chain(functions::udfs())
    {
        for alias in f.aliases() {
            all.insert(alias.clone(), f.clone());
        }
        all.insert(f.name().to_string(), f);
    }
    all
});

impl PhysicalExtensionCodec for LakeCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        _ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (buf, inputs) {
            (GUARD, [input]) => Ok(Arc::new(GuardExec::new(Arc::clone(input)))),
            _ => internal_err!("a plan node that this worker does not know was sent to it"),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if node.as_ref().downcast_ref::<GuardExec>().is_some() {
            buf.extend_from_slice(GUARD);
            return Ok(());
        }
        internal_err!("the plan node {} cannot be sent to a worker", node.name())
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        match buf.split_first() {
            Some((&ROOM, factor)) => {
                let factor = <[u8; 8]>::try_from(factor)
                    .map(u64::from_le_bytes)
                    .map_err(|_| {
                        datafusion::error::DataFusionError::Internal(
                            "a garbled memory reservation was sent to this worker".into(),
                        )
                    })?;
                Ok(Arc::new(Room::udf(factor as usize)))
            }
            Some((&GUARDED, inner)) => {
                let inner = std::str::from_utf8(inner).unwrap_or_default();
                match FUNCTIONS.get(inner) {
                    Some(f) => Guarded::wrap(f).map_err(|e| e.into_datafusion()),
                    None => internal_err!("the function {inner} is unknown to this worker"),
                }
            }
            _ => match FUNCTIONS.get(name) {
                Some(f) => Ok(f.clone()),
                None => internal_err!("the function {name} is unknown to this worker"),
            },
        }
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        if let Some(room) = node.inner().downcast_ref::<Room>() {
            buf.push(ROOM);
            buf.extend_from_slice(&(room.factor() as u64).to_le_bytes());
        } else if let Some(g) = node.inner().downcast_ref::<Guarded>() {
            buf.push(GUARDED);
            buf.extend_from_slice(g.inner().name().as_bytes());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_round_trip() {
        let codec = LakeCodec;
        let room = Room::udf(3);
        let mut buf = Vec::new();
        codec.try_encode_udf(&room, &mut buf).unwrap();
        let back = codec.try_decode_udf("sandbox_room", &buf).unwrap();
        assert_eq!(back.inner().downcast_ref::<Room>().unwrap().factor(), 3);

        let guarded = Guarded::wrap(&FUNCTIONS["repeat"]).unwrap();
        let mut buf = Vec::new();
        codec.try_encode_udf(&guarded, &mut buf).unwrap();
        let back = codec.try_decode_udf("repeat", &buf).unwrap();
        let g = back
            .inner()
            .downcast_ref::<Guarded>()
            .expect("guarded again");
        assert_eq!(g.inner().name(), "repeat");

        let mut buf = Vec::new();
        codec
            .try_encode_udf(&FUNCTIONS["ip_prefix"], &mut buf)
            .unwrap();
        assert!(buf.is_empty());
        assert_eq!(
            codec.try_decode_udf("ip_prefix", &[]).unwrap().name(),
            "ip_prefix"
        );
        assert!(codec.try_decode_udf("no_such_function", &[]).is_err());
        assert!(codec.try_decode_udf("sandbox_room", &[ROOM, 1]).is_err());
    }
}
