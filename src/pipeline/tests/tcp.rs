//! The `tcp` source and sink tables.

use super::{errors_of, plan};
use crate::pipeline::spec::{Format, SinkSpec, SourceSpec};
use crate::source::tcp::Endpoint;

const SCHEMA: &str = "schema = [ { name = \"k\", type = \"string\" } ]\n";

fn source(keys: &str) -> String {
    format!("[source]\ntype = \"tcp\"\n{keys}\n{SCHEMA}\n[sink]\ntype = \"null\"\n")
}

#[test]
fn listen_source_with_spool_and_client_limit() {
    let p = plan(&source(
        "listen = \"127.0.0.1:9000\"\nmax_clients = 3\nspool = true\nformat = \"jsonl\"",
    ));
    let SourceSpec::Tcp(t) = &p.source else {
        panic!("tcp source expected")
    };
    assert_eq!(t.endpoint, Endpoint::Listen("127.0.0.1:9000".into()));
    assert_eq!((t.max_clients, t.spool), (Some(3), true));
    assert_eq!(t.decode.format, Format::Jsonl);
    assert!(
        t.spool_dir.is_none(),
        "set by weir run from the checkpoint directory"
    );
    assert!(t.options().spool_dir.is_none());
}

#[test]
fn source_errors_name_the_key() {
    assert_eq!(
        errors_of(&source(""), &[]),
        ["source: missing: listen = \"ADDR:PORT\" or connect = \"HOST:PORT\""]
    );
    assert_eq!(
        errors_of(&source("listen = \"a:1\"\nconnect = \"b:2\""), &[]),
        ["source: give either listen or connect, not both"]
    );
    assert_eq!(
        errors_of(&source("listen = \"9000\""), &[]),
        ["source.listen: \"9000\" is not HOST:PORT (e.g. \"127.0.0.1:9000\")"]
    );
    assert_eq!(
        errors_of(
            &source("connect = \"h:1\"\nmax_clients = 2\nheader = true"),
            &[]
        ),
        [
            "source.header: not supported by the tcp source (every line is a record)",
            "source.max_clients: only valid with listen"
        ]
    );
}

#[test]
fn tcp_sink() {
    let text = "[source]\ntype = \"generator\"\n[sink]\ntype = \"tcp\"\nconnect = \"localhost:7\"\nheader = true\n";
    assert_eq!(
        plan(text).sink,
        SinkSpec::Tcp {
            connect: "localhost:7".into(),
            format: Format::Csv,
            header: true
        }
    );
    let missing = text.replace("connect = \"localhost:7\"\n", "");
    assert_eq!(errors_of(&missing, &[]), ["sink.connect: missing"]);
}
