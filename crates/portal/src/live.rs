//! Live ingest into members' datasets (issue 18): one receiver per dataset, started on the
//! first request that appends to it and kept for the life of the process. Each appends
//! through the lake's group commits ([`secviz_lake::live::Receiver`]); a dataset the member
//! anonymized gets the site's key, so live rows are anonymized like the upload was.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secviz_lake::live::{Receiver, ReceiverOptions};
use secviz_lake::{DatasetName, Lake};

use crate::db::datasets::DatasetRow;

#[derive(Clone, Default)]
pub struct LiveReceivers {
    running: Arc<Mutex<HashMap<String, Receiver>>>,
}

impl LiveReceivers {
    /// The receiver of `dataset`, started when it has none.
    pub fn of(
        &self,
        lake: &Lake,
        key: &secviz_lake::anon::AnonKey,
        dataset: &DatasetRow,
    ) -> anyhow::Result<Receiver> {
        let mut running = self.running.lock().expect("receivers lock");
        if let Some(r) = running.get(&dataset.id) {
            return Ok(r.clone());
        }
        let name = DatasetName::parse(&dataset.id)?;
        let opts = ReceiverOptions {
            anonymize: dataset.is_anonymized().then(|| key.clone()),
            ..ReceiverOptions::default()
        };
        let (receiver, _appender) = Receiver::start(lake, &name, opts);
        running.insert(dataset.id.clone(), receiver.clone());
        Ok(receiver)
    }
}
