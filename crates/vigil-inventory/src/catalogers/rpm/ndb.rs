//! NDB files (`Packages.db`, SUSE and rpm's "new" backend): a 32-byte
//! header (magic `RpmP`, version 0, slot page count at byte 12), then slot
//! pages of 16-byte slots (`Slot` magic, package index, block offset, block
//! count; index 0 is free; the header takes the first two slots), each used
//! slot pointing at a blob (`BlbS` magic, package index, checksum, length)
//! at `block offset * 16`, followed by the RPM header. All little-endian;
//! every offset is bounds-checked.

const HEADER_MAGIC: u32 = u32::from_le_bytes(*b"RpmP");
const SLOT_MAGIC: u32 = u32::from_le_bytes(*b"Slot");
const BLOB_MAGIC: u32 = u32::from_le_bytes(*b"BlbS");
const SLOTS_PER_PAGE: usize = 4096 / 16;
const BLOCK: usize = 16;

fn le32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// The header blobs of an NDB `Packages.db`, or why not.
pub(crate) fn blobs(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if le32(data, 0) != Some(HEADER_MAGIC) || le32(data, 4) != Some(0) {
        return Err("not an NDB package database (bad magic or version)".into());
    }
    let pages = le32(data, 12).ok_or("truncated header")? as usize;
    if pages == 0 || pages > 2048 {
        return Err(format!("implausible slot page count {pages}"));
    }
    let mut out = Vec::new();
    for slot in 2..pages * SLOTS_PER_PAGE {
        let at = slot * 16;
        let (Some(magic), Some(index), Some(block)) = (le32(data, at), le32(data, at + 4), le32(data, at + 8)) else {
            return Err(format!("truncated slot {slot}"));
        };
        if magic != SLOT_MAGIC {
            return Err(format!("bad magic in slot {slot}"));
        }
        if index == 0 {
            continue;
        }
        let blob = (block as usize).checked_mul(BLOCK).ok_or("blob offset overflows")?;
        if le32(data, blob) != Some(BLOB_MAGIC) || le32(data, blob + 4) != Some(index) {
            return Err(format!("slot {slot}: no blob for package {index} at block {block}"));
        }
        let len = le32(data, blob + 12).ok_or("truncated blob header")? as usize;
        let start = blob + BLOCK;
        let bytes = data
            .get(start..start.checked_add(len).ok_or("blob length overflows")?)
            .ok_or("blob runs past the end of the file")?;
        out.push(bytes.to_vec());
    }
    Ok(out)
}
