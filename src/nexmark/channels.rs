//! The channel and URL tables of `flink` mode (NEXMARK.md §5.3). nexmark-flink builds them
//! from unseeded RNGs; weir's convention builds them from `SplittableRandom(0)` in the 2024
//! order: 4 hot URLs, then the URL of channel 0..9999, each followed by its `nextInt(10)`.

use super::draws::next_string;
use super::random::{JavaRng, SplittableRandom};
use std::sync::OnceLock;

/// Names of the hot channels.
pub const HOT_CHANNELS: [&str; 4] = ["Google", "Facebook", "Baidu", "Apple"];
/// Number of other channels.
pub const CHANNELS: usize = 10_000;

/// The URL tables.
#[derive(Debug)]
pub struct ChannelTables {
    /// URL of each hot channel.
    pub hot_urls: Vec<String>,
    /// URL of `channel-c`, by `c`.
    pub urls: Vec<String>,
}

/// `baseUrl(rng)`: three `[a-z_]` path parts of 3 or 4 chars.
fn base_url(rng: &mut impl JavaRng) -> String {
    let mut url = String::from("https://www.nexmark.com/");
    for part in 0..3 {
        if part > 0 {
            url.push('/');
        }
        url.push_str(&next_string(rng, 5, '_'));
    }
    url.push_str("/item.htm?query=1");
    url
}

fn build() -> ChannelTables {
    let mut rng = SplittableRandom::new(0);
    let hot_urls = (0..HOT_CHANNELS.len())
        .map(|_| base_url(&mut rng))
        .collect();
    let urls = (0..CHANNELS as i32)
        .map(|c| {
            let mut url = base_url(&mut rng);
            if rng.next_int_below(10) > 0 {
                // Java's Math.abs(Integer.MIN_VALUE) stays negative (c = 1).
                let id = c.reverse_bits().wrapping_abs();
                url.push_str("&channel_id=");
                url.push_str(itoa::Buffer::new().format(id));
            }
            url
        })
        .collect();
    ChannelTables { hot_urls, urls }
}

/// The tables, built on first use.
pub fn tables() -> &'static ChannelTables {
    static TABLES: OnceLock<ChannelTables> = OnceLock::new();
    TABLES.get_or_init(build)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_have_the_documented_shape() {
        let t = tables();
        assert_eq!((t.hot_urls.len(), t.urls.len()), (4, CHANNELS));
        for url in t.hot_urls.iter().chain(&t.urls) {
            let rest = url.strip_prefix("https://www.nexmark.com/").unwrap_or("");
            let path = rest.split("/item.htm?query=1").next().unwrap_or("");
            let parts: Vec<&str> = path.split('/').collect();
            assert_eq!(parts.len(), 3, "{url}");
            for p in parts {
                assert!((3..=4).contains(&p.len()), "{url}");
                assert!(p.bytes().all(|b| b == b'_' || b.is_ascii_lowercase()));
            }
        }
        assert!(t.urls[1].ends_with("&channel_id=-2147483648") || !t.urls[1].contains('&'));
        let with_id = t.urls.iter().filter(|u| u.contains("&channel_id=")).count();
        assert!((8_700..9_300).contains(&with_id), "{with_id}");
    }
}
