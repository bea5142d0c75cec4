//! Bounds-checked little-endian reads. Every byte the host wrote is read through here (or
//! through a slice these functions returned), so a malformed input is an error code, never
//! undefined behaviour or a read out of bounds.

use alloc::string::String;

/// The input does not follow ABI.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Malformed;

#[inline]
pub(crate) fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let b = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

#[inline]
pub(crate) fn f64_at(bytes: &[u8], offset: usize) -> Option<f64> {
    let b = bytes.get(offset..offset.checked_add(8)?)?;
    Some(f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
}

/// Element `index` of a packed little-endian `u32` array.
#[inline]
pub(crate) fn u32_index(array: &[u8], index: usize) -> Option<u32> {
    u32_at(array, index.checked_mul(4)?)
}

/// `count` elements of `size` bytes at `offset`, as a slice.
#[inline]
pub(crate) fn array(bytes: &[u8], offset: usize, count: usize, size: usize) -> Option<&[u8]> {
    let len = count.checked_mul(size)?;
    bytes.get(offset..offset.checked_add(len)?)
}

/// A cursor over a record.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Malformed> {
        let v = u32_at(self.bytes, self.pos).ok_or(Malformed)?;
        self.pos += 4;
        Ok(v)
    }

    pub(crate) fn f64(&mut self) -> Result<f64, Malformed> {
        let v = f64_at(self.bytes, self.pos).ok_or(Malformed)?;
        self.pos += 8;
        Ok(v)
    }

    /// `count` elements of `size` bytes, as a slice.
    pub(crate) fn array(&mut self, count: usize, size: usize) -> Result<&'a [u8], Malformed> {
        let slice = array(self.bytes, self.pos, count, size).ok_or(Malformed)?;
        self.pos += slice.len();
        Ok(slice)
    }

    /// A `u32` length, then that many UTF-8 bytes padded to 4.
    pub(crate) fn padded_str(&mut self) -> Result<String, Malformed> {
        let len = self.u32()?;
        self.padded_str_of_len(len)
    }

    /// `len` UTF-8 bytes padded to 4.
    pub(crate) fn padded_str_of_len(&mut self, len: u32) -> Result<String, Malformed> {
        let bytes = self.array(len as usize, 1)?;
        let text = core::str::from_utf8(bytes).map_err(|_| Malformed)?;
        self.array((4 - bytes.len() % 4) % 4, 1)?;
        Ok(String::from(text))
    }
}
