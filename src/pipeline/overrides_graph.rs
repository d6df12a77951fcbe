//! `--set source.KEY=V` and `--set sink.KEY=V` on a graph-form file (`[sources.NAME]`,
//! `[sinks.NAME]`, no `[source]`/`[sink]`): the override applies to every named source, and
//! to the sink when there is exactly one, so that one command line works on both forms.

use toml::Value;

/// The overrides `set` stands for in `doc`: itself, or one per named source or sink.
pub(super) fn fan_out(doc: &Value, set: &str) -> Vec<String> {
    let one = || vec![set.to_string()];
    let Some((path, value)) = set.split_once('=') else {
        return one();
    };
    let Some((head, rest)) = path.trim().split_once('.') else {
        return one();
    };
    let plural = match head {
        "source" => "sources",
        "sink" => "sinks",
        _ => return one(),
    };
    let Some(table) = doc.as_table() else {
        return one();
    };
    if table.contains_key(head) {
        return one();
    }
    let Some(Value::Table(named)) = table.get(plural) else {
        return one();
    };
    if named.is_empty() || (head == "sink" && named.len() != 1) {
        return one();
    }
    named
        .keys()
        .map(|name| format!("{plural}.{name}.{rest}={value}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Value {
        Value::Table(text.parse().expect("toml"))
    }

    #[test]
    fn source_and_sink_keys_fan_out_over_named_tables() {
        let d = doc("[sources.a]\n[sources.b]\n[sinks.out]\n");
        assert_eq!(
            fan_out(&d, "source.events=5"),
            ["sources.a.events=5", "sources.b.events=5"]
        );
        assert_eq!(fan_out(&d, "sink.path=x=y"), ["sinks.out.path=x=y"]);
        assert_eq!(fan_out(&d, "runtime.workers=2"), ["runtime.workers=2"]);
    }

    #[test]
    fn the_one_line_form_and_several_sinks_are_left_alone() {
        let d = doc("[source]\n[sink]\n");
        assert_eq!(fan_out(&d, "source.events=5"), ["source.events=5"]);
        let d = doc("[sources.a]\n[sinks.x]\n[sinks.y]\n");
        assert_eq!(fan_out(&d, "sink.path=o"), ["sink.path=o"]);
    }
}
