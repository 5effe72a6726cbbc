//! Berkeley DB hash files (`/var/lib/rpm/Packages`, RHEL/CentOS <= 8,
//! Amazon Linux 2): every hash page's values are off-page references whose
//! overflow-page chains hold one RPM header each.
//!
//! Layout used (Berkeley DB `db_page.h`): a metadata page (magic 0x061561 at
//! byte 12, page size at 20, page type 8 at 25, last page number at 32);
//! pages with a 26-byte header (next page at 16, entry count at 20, free
//! offset / overflow length at 22, type at 25); hash pages (type 13, or 2
//! unsorted) hold an array of 2-byte item offsets in key/value pairs; a
//! value of type 3 (`H_OFFPAGE`) names its first overflow page (type 7) at
//! item byte 4. The magic read in the wrong byte order means a big-endian
//! file. Every offset and chain is bounds- and loop-checked.

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const TYPE_HASH_UNSORTED: u8 = 2;
const TYPE_OVERFLOW: u8 = 7;
const TYPE_HASH_META: u8 = 8;
const TYPE_HASH: u8 = 13;
const ITEM_OFFPAGE: u8 = 3;

struct Reader<'a> {
    data: &'a [u8],
    big_endian: bool,
    page_size: usize,
}

impl Reader<'_> {
    fn u32_at(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.data.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    }

    fn u16_at(&self, at: usize) -> Option<u16> {
        let b: [u8; 2] = self.data.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.big_endian { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    }

    fn page(&self, n: u32) -> Option<&[u8]> {
        let start = (n as usize).checked_mul(self.page_size)?;
        self.data.get(start..start.checked_add(self.page_size)?)
    }

    /// The bytes of an overflow chain starting at page `first`.
    fn overflow(&self, first: u32, pages: u32) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut current = first;
        for _ in 0..pages {
            if current == 0 {
                return Some(out);
            }
            let page = self.page(current)?;
            let base = (current as usize) * self.page_size;
            if page[25] != TYPE_OVERFLOW {
                return None;
            }
            let next = self.u32_at(base + 16)?;
            let len = if next == 0 { self.u16_at(base + 22)? as usize } else { self.page_size - PAGE_HEADER };
            out.extend_from_slice(page.get(PAGE_HEADER..PAGE_HEADER.checked_add(len)?)?);
            current = next;
        }
        // More links than pages: a loop.
        None
    }
}

/// The header blobs of a Berkeley DB hash `Packages` file, or why not.
pub(crate) fn blobs(data: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let magic_le = data.get(12..16).map(|b| u32::from_le_bytes(b.try_into().unwrap_or([0; 4])));
    let big_endian = match magic_le {
        Some(HASH_MAGIC) => false,
        Some(m) if m.swap_bytes() == HASH_MAGIC => true,
        _ => return Err("not a Berkeley DB hash file (bad magic)".into()),
    };
    let mut r = Reader { data, big_endian, page_size: 0 };
    let page_size = r.u32_at(20).ok_or("truncated metadata page")? as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("unexpected page size {page_size}"));
    }
    if data.get(25) != Some(&TYPE_HASH_META) {
        return Err("first page is not a hash metadata page".into());
    }
    r.page_size = page_size;
    let last = r.u32_at(32).ok_or("truncated metadata page")?;
    let pages = u32::try_from(data.len() / page_size).unwrap_or(u32::MAX).min(last.saturating_add(1));
    let mut out = Vec::new();
    for n in 1..pages {
        let Some(page) = r.page(n) else { break };
        if page[25] != TYPE_HASH && page[25] != TYPE_HASH_UNSORTED {
            continue;
        }
        let base = n as usize * page_size;
        let entries = r.u16_at(base + 20).ok_or("truncated page")? as usize;
        // Item offsets come in key/value pairs; values are the odd ones.
        for i in (1..entries).step_by(2) {
            let Some(offset) = r.u16_at(base + PAGE_HEADER + i * 2) else {
                break;
            };
            let item = base + offset as usize;
            if offset as usize >= page_size || data.get(item) != Some(&ITEM_OFFPAGE) {
                continue;
            }
            let first = r.u32_at(item + 4).ok_or("truncated off-page item")?;
            let blob = r.overflow(first, pages).ok_or_else(|| format!("broken overflow chain from page {first}"))?;
            out.push(blob);
        }
    }
    Ok(out)
}
