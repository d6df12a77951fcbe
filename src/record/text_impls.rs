//! Conversions and formatting of [`Text`] (the plain trait impls, apart from its layout).

use super::text::Text;
use compact_str::CompactString;

impl std::ops::Deref for Text {
    type Target = str;
    #[inline]
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Text {
    #[inline]
    fn from(s: &str) -> Self {
        Text::new(s)
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Self {
        Text::new(s)
    }
}

impl From<String> for Text {
    /// A long string keeps its buffer (no copy).
    fn from(s: String) -> Self {
        if s.len() <= Text::INLINE {
            Text::new(&s)
        } else {
            Text::from_heap(Box::new(s))
        }
    }
}

impl From<CompactString> for Text {
    #[inline]
    fn from(s: CompactString) -> Self {
        if s.is_heap_allocated() && s.len() > Text::INLINE {
            Text::from(s.into_string())
        } else {
            Text::new(&s)
        }
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
