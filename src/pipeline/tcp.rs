//! Validation of the TCP source and sink tables (`type = "tcp"`).

use super::spec::{DecodeSpec, Format, SinkSpec, TcpSourceSpec};
use super::walk::{Errors, Section};
use crate::record::Schema;
use crate::source::tcp::{Endpoint, TcpOptions, DEFAULT_SEGMENT_BYTES};

impl TcpSourceSpec {
    /// The source's options (the spool only when its directory was set).
    pub fn options(&self) -> TcpOptions {
        TcpOptions {
            endpoint: self.endpoint.clone(),
            max_line_bytes: self.decode.max_line_bytes,
            max_clients: self.max_clients,
            spool_dir: self.spool_dir.clone().filter(|_| self.spool),
            segment_bytes: self.spool_segment_bytes,
        }
    }
}

/// `HOST:PORT` (the host may be a name, an IPv4 or a bracketed IPv6 address).
fn address(s: &mut Section, key: &str, errs: &mut Errors) -> Option<String> {
    let a = s.name(key, errs)?;
    let valid = a
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !valid {
        errs.push(
            &s.at(key),
            format_args!("{a:?} is not HOST:PORT (e.g. \"127.0.0.1:9000\")"),
        );
        return None;
    }
    Some(a.to_string())
}

/// `[source]` with `type = "tcp"`; `decode` reads the shared line-format keys.
pub(super) fn source(
    s: &mut Section,
    errs: &mut Errors,
    decode: impl FnOnce(&mut Section, &mut Errors) -> (Option<DecodeSpec>, Option<Schema>),
) -> (Option<TcpSourceSpec>, Option<Schema>) {
    let endpoint = match (s.has("listen"), s.has("connect")) {
        (true, false) => address(s, "listen", errs).map(Endpoint::Listen),
        (false, true) => address(s, "connect", errs).map(Endpoint::Connect),
        (both, _) => {
            let msg = if both {
                "give either listen or connect, not both"
            } else {
                "missing: listen = \"ADDR:PORT\" or connect = \"HOST:PORT\""
            };
            errs.push(&s.path, msg);
            let _ = (s.get("listen"), s.get("connect"));
            None
        }
    };
    if s.get("header").is_some() {
        errs.push(
            &s.at("header"),
            "not supported by the tcp source (every line is a record)",
        );
    }
    let max_clients = match s.has("max_clients") {
        true => s
            .int("max_clients", errs, 1..=i64::MAX)
            .map(|v| Some(v as u64)),
        false => Some(None),
    };
    if matches!(endpoint, Some(Endpoint::Connect(_))) && matches!(max_clients, Some(Some(_))) {
        errs.push(&s.at("max_clients"), "only valid with listen");
    }
    let spool = match s.has("spool") {
        true => s.bool("spool", errs),
        false => Some(false),
    };
    let segment = match s.has("spool_segment_bytes") {
        true => s
            .int("spool_segment_bytes", errs, 4096..=i64::MAX)
            .map(|v| v as u64),
        false => Some(DEFAULT_SEGMENT_BYTES),
    };
    let (decode, schema) = decode(s, errs);
    let spec = match (endpoint, decode, max_clients, spool, segment) {
        (Some(endpoint), Some(decode), Some(max_clients), Some(spool), Some(segment)) => {
            Some(TcpSourceSpec {
                endpoint,
                decode,
                max_clients,
                spool,
                spool_segment_bytes: segment,
                spool_dir: None,
            })
        }
        _ => None,
    };
    (spec, schema)
}

/// `[sink]` with `type = "tcp"`, given its already-read format and header.
pub(super) fn sink(
    s: &mut Section,
    errs: &mut Errors,
    format: Option<Format>,
    header: Option<bool>,
) -> Option<SinkSpec> {
    let connect = s.req("connect", errs, |s, k, e| address(s, k, e));
    Some(SinkSpec::Tcp {
        connect: connect?,
        format: format?,
        header: header?,
    })
}
