//! Byte layouts: the state-file header and the MANIFEST envelope (JSON body + checksum line).

use super::{Manifest, FORMAT_VERSION, MIN_FORMAT_VERSION};
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Magic bytes opening every state file.
pub(crate) const STATE_MAGIC: [u8; 8] = *b"WEIRSTAT";
/// Length of the state-file header; a multiple of 16 so that what follows stays 16-byte
/// aligned in a page-aligned map.
pub(crate) const HEADER_LEN: usize = 32;
/// Length of a segment's header (before its archive); a multiple of 16.
pub(crate) const SEGMENT_HEADER_LEN: usize = 16;
/// Alignment of every segment (and so of every archive): rkyv needs 16.
const SEGMENT_ALIGN: usize = 16;

/// The fixed header of a state file.
///
/// Layout (little endian): magic `[u8; 8]`, format version `u32`, header length `u32`,
/// body length `u64` (the bytes after the header), segment count `u32`, 4 reserved zero
/// bytes. The body is `segments` segments, each 16-byte aligned: archive length `u64`, 8
/// reserved zero bytes, the rkyv archive of a [`super::WorkerSnapshot`], zero padding to the
/// next multiple of 16 (see [`super::segments`] for how the segments join). Changing it
/// changes the format: bump [`FORMAT_VERSION`]. (The file's checksum is in the MANIFEST.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StateHeader {
    /// Format version of the file.
    pub version: u32,
    /// Length of everything after the header.
    pub body_len: u64,
    /// Number of segments.
    pub segments: u32,
}

impl StateHeader {
    /// The header's bytes.
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..8].copy_from_slice(&STATE_MAGIC);
        out[8..12].copy_from_slice(&self.version.to_le_bytes());
        out[12..16].copy_from_slice(&(HEADER_LEN as u32).to_le_bytes());
        out[16..24].copy_from_slice(&self.body_len.to_le_bytes());
        out[24..28].copy_from_slice(&self.segments.to_le_bytes());
        out
    }

    /// Parses and checks a header: magic, version (exactly ours), header length.
    ///
    /// # Errors
    /// The reason the header is unusable.
    pub fn decode(bytes: &[u8]) -> Result<Self, String> {
        let bytes: &[u8; HEADER_LEN] = bytes
            .get(..HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("shorter than its {HEADER_LEN}-byte header"))?;
        if bytes[0..8] != STATE_MAGIC {
            return Err("not a weir state file (bad magic)".into());
        }
        let u32_at =
            |i: usize| u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let version = u32_at(8);
        check_version(version)?;
        let header_len = u32_at(12);
        if header_len as usize != HEADER_LEN {
            return Err(format!("header length {header_len}, expected {HEADER_LEN}"));
        }
        let mut len = [0u8; 8];
        len.copy_from_slice(&bytes[16..24]);
        Ok(StateHeader {
            version,
            body_len: u64::from_le_bytes(len),
            segments: u32_at(24),
        })
    }
}

/// The bytes before a segment's archive of `archive_len` bytes.
pub(crate) fn segment_header(archive_len: usize) -> [u8; SEGMENT_HEADER_LEN] {
    let mut out = [0u8; SEGMENT_HEADER_LEN];
    out[0..8].copy_from_slice(&(archive_len as u64).to_le_bytes());
    out
}

/// Zero bytes that follow an archive of `archive_len` bytes to the next segment boundary.
pub(crate) fn segment_padding(archive_len: usize) -> usize {
    archive_len.next_multiple_of(SEGMENT_ALIGN) - archive_len
}

/// The byte ranges of the archives of a whole state file `file` (header included) whose
/// header says `segments`: every segment must lie inside the file, and the last one (with
/// its padding) must end exactly at the end of the file.
///
/// # Errors
/// The reason the segment layout does not fit the file.
pub(crate) fn segment_ranges(file: &[u8], segments: u32) -> Result<Vec<Range<usize>>, String> {
    if segments == 0 {
        return Err("no segments".into());
    }
    let mut out = Vec::with_capacity((segments as usize).min(file.len() / SEGMENT_HEADER_LEN));
    let mut at = HEADER_LEN;
    for i in 0..segments {
        let head = file
            .get(at..at + SEGMENT_HEADER_LEN)
            .ok_or_else(|| format!("segment {i} of {segments} starts past the end of the file"))?;
        let mut len = [0u8; 8];
        len.copy_from_slice(&head[0..8]);
        let start = at + SEGMENT_HEADER_LEN;
        let end = usize::try_from(u64::from_le_bytes(len))
            .ok()
            .and_then(|len| start.checked_add(len))
            .filter(|&end| end <= file.len())
            .ok_or_else(|| format!("segment {i} of {segments} runs past the end of the file"))?;
        out.push(start..end);
        at = end + segment_padding(end - start);
    }
    if at != file.len() {
        return Err(format!(
            "{} bytes after the last of {segments} segment(s)",
            file.len().saturating_sub(at)
        ));
    }
    Ok(out)
}

/// Accepts only [`FORMAT_VERSION`], with a reason naming the mismatch otherwise.
/// Accepts [`MIN_FORMAT_VERSION`]`..=`[`FORMAT_VERSION`] (the state file layout is the same
/// in all of them), with a reason naming the mismatch otherwise.
///
/// # Errors
/// "format version N is newer than this weir's M", or older/unsupported.
pub(crate) fn check_version(version: u32) -> Result<(), String> {
    match version {
        MIN_FORMAT_VERSION..=FORMAT_VERSION => Ok(()),
        v if v > FORMAT_VERSION => Err(format!(
            "format version {v} is newer than this weir's {FORMAT_VERSION}"
        )),
        v => Err(format!(
            "format version {v} is older than this weir's {FORMAT_VERSION} and not supported"
        )),
    }
}

/// The checksum line after the MANIFEST's JSON body.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Trailer {
    /// CRC32 of the body's bytes (everything before the newline that precedes this line).
    crc32: u32,
}

/// Just the version of a MANIFEST body, parsed before the rest so that a newer format with
/// other fields is reported as newer rather than as malformed.
#[derive(Deserialize)]
struct VersionProbe {
    format_version: u32,
}

/// The bytes of a MANIFEST file: pretty JSON, `\n`, `{"crc32":N}`, `\n`.
///
/// # Errors
/// JSON serialization errors (not expected for this type).
pub(crate) fn encode_manifest(manifest: &Manifest) -> Result<Vec<u8>, String> {
    let mut out = serde_json::to_vec_pretty(manifest).map_err(|e| e.to_string())?;
    let trailer = Trailer {
        crc32: crc32fast::hash(&out),
    };
    out.push(b'\n');
    serde_json::to_writer(&mut out, &trailer).map_err(|e| e.to_string())?;
    out.push(b'\n');
    Ok(out)
}

/// Parses a MANIFEST file: checksum first, then the format version, then the fields.
///
/// # Errors
/// The reason: no checksum line, checksum mismatch, other format version, malformed JSON.
pub(crate) fn decode_manifest(bytes: &[u8]) -> Result<Manifest, String> {
    let content = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let split = content
        .iter()
        .rposition(|&b| b == b'\n')
        .ok_or("no checksum line (truncated or not a weir MANIFEST)")?;
    let (body, trailer) = (&content[..split], &content[split + 1..]);
    let trailer: Trailer = serde_json::from_slice(trailer)
        .map_err(|e| format!("bad checksum line (truncated or corrupt): {e}"))?;
    let actual = crc32fast::hash(body);
    if actual != trailer.crc32 {
        return Err(format!(
            "checksum mismatch (crc32 {actual:08x}, recorded {:08x}): corrupt",
            trailer.crc32
        ));
    }
    let probe: VersionProbe =
        serde_json::from_slice(body).map_err(|e| format!("malformed JSON: {e}"))?;
    check_version(probe.format_version)?;
    serde_json::from_slice(body).map_err(|e| format!("malformed JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_rejects_bad_magic_and_versions() {
        let h = StateHeader {
            version: FORMAT_VERSION,
            body_len: 1234,
            segments: 3,
        };
        let bytes = h.encode();
        assert_eq!(StateHeader::decode(&bytes), Ok(h));
        assert!(StateHeader::decode(&bytes[..20])
            .unwrap_err()
            .contains("header"));
        let mut bad = bytes;
        bad[0] = b'X';
        assert!(StateHeader::decode(&bad).unwrap_err().contains("magic"));
        let mut newer = bytes;
        newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
        let reason = StateHeader::decode(&newer).unwrap_err();
        assert_eq!(
            reason,
            format!(
                "format version {} is newer than this weir's {FORMAT_VERSION}",
                FORMAT_VERSION + 1
            )
        );
    }

    #[test]
    fn segment_ranges_must_tile_the_file() {
        let mut file = vec![0u8; HEADER_LEN];
        for len in [5usize, 16, 0] {
            file.extend_from_slice(&segment_header(len));
            file.extend(std::iter::repeat_n(7u8, len + segment_padding(len)));
        }
        let ranges = segment_ranges(&file, 3).unwrap();
        assert_eq!(ranges, vec![48..53, 80..96, 112..112]);
        assert!(ranges.iter().all(|r| r.start % 16 == 0));
        assert!(segment_ranges(&file, 2)
            .unwrap_err()
            .contains("after the last"));
        assert!(segment_ranges(&file, 4)
            .unwrap_err()
            .contains("past the end"));
        assert!(segment_ranges(&file, 0).is_err());
        assert!(segment_ranges(&file[..100], 3).is_err());
        let mut huge = file.clone();
        huge[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(segment_ranges(&huge, 3)
            .unwrap_err()
            .contains("past the end"));
    }

    #[test]
    fn manifest_envelope_round_trips_and_detects_damage() {
        let m = Manifest {
            format_version: FORMAT_VERSION,
            id: 9,
            fingerprint: 7,
            ..Manifest::default()
        };
        let bytes = encode_manifest(&m).unwrap();
        assert_eq!(decode_manifest(&bytes), Ok(m));
        assert!(bytes.ends_with(b"}\n"));
        let cut = &bytes[..bytes.len() / 2];
        assert!(decode_manifest(cut).is_err());
        let no_trailer = &bytes[..bytes.iter().rposition(|&b| b == b'{').unwrap()];
        assert!(decode_manifest(no_trailer).is_err());
    }
}
