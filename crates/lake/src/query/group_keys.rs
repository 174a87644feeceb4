//! Group ids of rows, for the partial aggregate of [`super::view_groups`].
//!
//! A string column's values get small ids through [`StringIds`]: read as dictionary keys,
//! a row's id is one array read (the dictionary's ids are kept while batches share it);
//! read as views, a cache keyed by the 16-byte view finds it, hashing the string only the
//! first time a view is met. With a second group column (a string, or an integer of at
//! most 32 bits), each row's two codes make one 128-bit key, and the group is found by
//! hashing that key: never the strings.

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, DictionaryArray, Int64Array, StringViewArray, StringViewBuilder,
};
use datafusion::arrow::buffer::Buffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::{HashMap, Result};

/// Most entries the view cache holds before it is cleared: a column whose views are all
/// different (plain-encoded pages) must not grow it without bound.
const MAX_CACHED_VIEWS: usize = 1 << 16;

/// Code of NULL in an integer column: no integer of 32 bits or fewer, widened to `i64`,
/// has these bits.
const NULL_CODE: u64 = 1 << 32;

/// Whether a group column of this type can be keyed here.
pub(super) fn supported(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8View
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
    )
}

/// How one group column's values become per-row codes.
enum KeyColumn {
    /// A string column: codes are its [`StringIds`].
    Strings(StringIds),
    /// An integer column: codes are the values widened to `i64` (as bits), [`NULL_CODE`]
    /// for NULL.
    Ints(DataType),
}

/// Group ids of rows by one string column, or by two columns.
pub(super) struct GroupKeys {
    /// Input column index of each group column, and how its values become codes.
    columns: Vec<(usize, KeyColumn)>,
    /// Two columns: each group's codes, in id order, and the group of a pair of codes.
    groups: Vec<[u64; 2]>,
    by_codes: std::collections::HashMap<u128, usize, BuildHasherDefault<ViewHasher>>,
    /// Per-batch scratch: each column's codes, and one column's string ids.
    codes: [Vec<u64>; 2],
    string_ids: Vec<usize>,
}

impl GroupKeys {
    /// Keys for group columns at these input indices with these (planned) types, one
    /// string column or two [`supported`] columns.
    pub(super) fn new(columns: &[(usize, DataType)]) -> GroupKeys {
        assert!(
            matches!(columns, [(_, DataType::Utf8View)] | [_, _]),
            "one string column or two columns"
        );
        GroupKeys {
            columns: columns
                .iter()
                .map(|(i, t)| {
                    let key = match t {
                        DataType::Utf8View => KeyColumn::Strings(StringIds::default()),
                        other => KeyColumn::Ints(other.clone()),
                    };
                    (*i, key)
                })
                .collect(),
            groups: Vec::new(),
            by_codes: Default::default(),
            codes: Default::default(),
            string_ids: Vec::new(),
        }
    }

    /// Number of groups.
    pub(super) fn len(&self) -> usize {
        match self.columns.as_slice() {
            [(_, KeyColumn::Strings(s))] => s.len(),
            _ => self.groups.len(),
        }
    }

    /// Writes the group id of every row of `batch` to `ids`, adding new groups.
    pub(super) fn ids(&mut self, batch: &RecordBatch, ids: &mut Vec<usize>) -> Result<()> {
        if let [(index, KeyColumn::Strings(s))] = self.columns.as_mut_slice() {
            s.ids_of(batch.column(*index), ids);
            return Ok(());
        }
        for ((index, key), codes) in self.columns.iter_mut().zip(&mut self.codes) {
            codes.clear();
            let column = batch.column(*index);
            match key {
                KeyColumn::Strings(s) => {
                    s.ids_of(column, &mut self.string_ids);
                    codes.extend(self.string_ids.iter().map(|&id| id as u64));
                }
                KeyColumn::Ints(_) => {
                    let wide = cast(column, &DataType::Int64)?;
                    let wide = wide.as_primitive::<Int64Type>();
                    match wide.nulls() {
                        None => codes.extend(wide.values().iter().map(|&v| v as u64)),
                        Some(valid) => codes.extend(
                            wide.values()
                                .iter()
                                .zip(valid.iter())
                                .map(|(&v, ok)| if ok { v as u64 } else { NULL_CODE }),
                        ),
                    }
                }
            }
        }
        ids.clear();
        ids.reserve(batch.num_rows());
        let [first, second] = &self.codes;
        for (&a, &b) in first.iter().zip(second) {
            let next = self.groups.len();
            let id = *self
                .by_codes
                .entry(u128::from(a) | u128::from(b) << 64)
                .or_insert(next);
            if id == next {
                self.groups.push([a, b]);
            }
            ids.push(id);
        }
        Ok(())
    }

    /// Approximate heap bytes, for the memory pool.
    pub(super) fn size(&self) -> usize {
        self.columns
            .iter()
            .map(|(_, k)| match k {
                KeyColumn::Strings(s) => s.size(),
                KeyColumn::Ints(_) => 0,
            })
            .sum::<usize>()
            + self.groups.capacity() * std::mem::size_of::<[u64; 2]>()
            + self.by_codes.capacity() * (std::mem::size_of::<(u128, usize)>() + 1)
            + (self.codes[0].capacity() + self.codes[1].capacity()) * 8
            + self.string_ids.capacity() * 8
    }

    /// The group columns (ids are positions), leaving no groups.
    pub(super) fn take(&mut self) -> Result<Vec<ArrayRef>> {
        if let [(_, KeyColumn::Strings(s))] = self.columns.as_mut_slice() {
            return Ok(vec![Arc::new(s.take())]);
        }
        let mut out = Vec::with_capacity(self.columns.len());
        for (j, (_, key)) in self.columns.iter_mut().enumerate() {
            let codes = self.groups.iter().map(|g| g[j]);
            let column: ArrayRef = match key {
                KeyColumn::Strings(s) => {
                    let array = s.array_of(codes.map(|c| c as usize));
                    s.clear();
                    Arc::new(array)
                }
                KeyColumn::Ints(data_type) => {
                    let wide: Int64Array = codes
                        .map(|c| (c != NULL_CODE).then_some(c as i64))
                        .collect();
                    cast(&wide, data_type)?
                }
            };
            out.push(column);
        }
        self.groups.clear();
        self.by_codes.clear();
        Ok(out)
    }
}

/// Ids of strings, found through dictionary keys or views when possible.
#[derive(Default)]
pub(super) struct StringIds {
    /// Each group's string, in id order (the null group's is empty).
    values: Vec<Box<[u8]>>,
    by_value: HashMap<Box<[u8]>, usize>,
    null: Option<usize>,
    /// View → group id, valid for views over `cached_buffers`.
    by_view: std::collections::HashMap<u128, usize, BuildHasherDefault<ViewHasher>>,
    cached_buffers: Vec<Buffer>,
    /// Dictionary key → group id ([`UNKNOWN_KEY`] until first seen), valid for the
    /// dictionary whose offsets and bytes are `key_buffers`.
    by_key: Vec<u32>,
    key_buffers: Vec<Buffer>,
    bytes: usize,
}

/// A dictionary key whose group is not known yet.
const UNKNOWN_KEY: u32 = u32::MAX;

impl StringIds {
    fn len(&self) -> usize {
        self.values.len()
    }

    /// Writes the id of every row of `column` (strings as views, or as keys into a string
    /// dictionary) to `ids`, adding new strings.
    fn ids_of(&mut self, column: &ArrayRef, ids: &mut Vec<usize>) {
        match column.as_dictionary_opt::<Int32Type>() {
            Some(keys) => self.ids_by_key(keys, ids),
            None => self.ids(column.as_string_view(), ids),
        }
    }

    /// Writes the group id of every row of `column` to `ids`, adding new groups.
    fn ids(&mut self, column: &StringViewArray, ids: &mut Vec<usize>) {
        // A view's buffer index and offset mean something only for the buffers it was made
        // with: a batch over other buffers starts a new cache.
        // The cache holds the buffers themselves, not just their addresses: a freed buffer's
        // memory is soon reused for the next page's dictionary, same address and often the
        // same length, with other strings at the same offsets.
        let buffers = column.data_buffers();
        let same = buffers.len() == self.cached_buffers.len()
            && buffers
                .iter()
                .zip(&self.cached_buffers)
                .all(|(b, c)| same_buffer(b, c));
        if !same || self.by_view.len() > MAX_CACHED_VIEWS {
            self.by_view.clear();
            self.cached_buffers = buffers.to_vec();
        }
        ids.clear();
        ids.reserve(column.len());
        let views = column.views();
        let nulls = column.logical_nulls();
        for (i, &view) in views.iter().enumerate() {
            if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                ids.push(self.null_group());
                continue;
            }
            let id = match self.by_view.get(&view).copied() {
                Some(id) => id,
                None => {
                    let id = self.intern(column.value(i).as_bytes());
                    self.by_view.insert(view, id);
                    id
                }
            };
            ids.push(id);
        }
    }

    /// Writes the group id of every row of `column` (keys into a string dictionary) to
    /// `ids`, adding new groups. Batches of one Parquet column chunk share its dictionary,
    /// so after the first few batches a row's group is one array read.
    fn ids_by_key(&mut self, column: &DictionaryArray<Int32Type>, ids: &mut Vec<usize>) {
        let values = column.values().as_string::<i32>();
        let offsets = values.offsets().inner().inner();
        let data = values.values();
        // As for views: the buffers are held, so an address cannot be reused by another
        // dictionary while the cache is keyed by it.
        let same = self.by_key.len() == values.len()
            && matches!(self.key_buffers.as_slice(), [o, d] if same_buffer(o, offsets) && same_buffer(d, data));
        if !same {
            self.by_key.clear();
            self.by_key.resize(values.len(), UNKNOWN_KEY);
            self.key_buffers = vec![offsets.clone(), data.clone()];
        }
        ids.clear();
        ids.reserve(column.len());
        let keys = column.keys().values();
        let nulls = column.logical_nulls();
        for (i, &key) in keys.iter().enumerate() {
            if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                ids.push(self.null_group());
                continue;
            }
            let key = key as usize;
            let id = match self.by_key[key] {
                UNKNOWN_KEY => {
                    let id = self.intern(values.value(key).as_bytes());
                    if let Ok(small) = u32::try_from(id)
                        && small != UNKNOWN_KEY
                    {
                        self.by_key[key] = small;
                    }
                    id
                }
                id => id as usize,
            };
            ids.push(id);
        }
    }

    fn null_group(&mut self) -> usize {
        *self.null.get_or_insert_with(|| {
            self.values.push(Box::default());
            self.values.len() - 1
        })
    }

    fn intern(&mut self, value: &[u8]) -> usize {
        if let Some(&id) = self.by_value.get(value) {
            return id;
        }
        let id = self.values.len();
        self.values.push(value.into());
        self.by_value.insert(value.into(), id);
        self.bytes += 2 * value.len();
        id
    }

    /// Approximate heap bytes, for the memory pool.
    fn size(&self) -> usize {
        self.bytes
            + self.values.capacity() * std::mem::size_of::<Box<[u8]>>()
            + self.by_value.capacity() * (std::mem::size_of::<(Box<[u8]>, usize)>() + 1)
            + self.by_view.capacity() * (std::mem::size_of::<(u128, usize)>() + 1)
            + self.by_key.capacity() * std::mem::size_of::<u32>()
    }

    /// The strings of `ids`, as a column.
    fn array_of(&self, ids: impl ExactSizeIterator<Item = usize>) -> StringViewArray {
        let mut out = StringViewBuilder::with_capacity(ids.len());
        for id in ids {
            if Some(id) == self.null {
                out.append_null();
            } else {
                // Interned from `&str` values, so valid UTF-8.
                out.append_value(std::str::from_utf8(&self.values[id]).unwrap_or_default());
            }
        }
        out.finish()
    }

    /// Every string as a column (ids are positions), leaving none.
    fn take(&mut self) -> StringViewArray {
        let out = self.array_of(0..self.len());
        self.clear();
        out
    }

    fn clear(&mut self) {
        self.values.clear();
        self.null = None;
        self.by_value.clear();
        self.by_view.clear();
        self.cached_buffers.clear();
        self.by_key.clear();
        self.key_buffers.clear();
        self.bytes = 0;
    }
}

fn same_buffer(a: &Buffer, b: &Buffer) -> bool {
    a.as_ptr() == b.as_ptr() && a.len() == b.len()
}

/// Hash of a 16-byte view: it holds the length and either the whole string or its prefix,
/// buffer and offset, so mixing both halves spreads well enough for a cache.
#[derive(Default)]
struct ViewHasher(u64);

impl Hasher for ViewHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u128(&mut self, v: u128) {
        // murmur3's 64-bit finaliser over both halves.
        let mut x = (v as u64) ^ ((v >> 64) as u64).rotate_left(29);
        x = (x ^ (x >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
        x = (x ^ (x >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        self.0 = x ^ (x >> 33);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::ByteView;
    use datafusion::arrow::buffer::ScalarBuffer;

    /// A view array of `strings` stored back to back in one fresh buffer.
    fn one_buffer(strings: &[&str]) -> StringViewArray {
        let mut data = Vec::new();
        let mut views = Vec::new();
        for s in strings {
            let b = s.as_bytes();
            let view = if b.len() <= 12 {
                let mut raw = [0u8; 16];
                raw[..4].copy_from_slice(&(b.len() as u32).to_le_bytes());
                raw[4..4 + b.len()].copy_from_slice(b);
                u128::from_le_bytes(raw)
            } else {
                ByteView::new(b.len() as u32, &b[..4])
                    .with_buffer_index(0)
                    .with_offset(data.len() as u32)
                    .as_u128()
            };
            data.extend_from_slice(b);
            views.push(view);
        }
        StringViewArray::try_new(ScalarBuffer::from(views), vec![Buffer::from(data)], None).unwrap()
    }

    fn strings(g: &StringIds, ids: &[usize]) -> Vec<String> {
        ids.iter()
            .map(|&i| String::from_utf8(g.values[i].to_vec()).unwrap())
            .collect()
    }

    #[test]
    fn equal_views_over_other_buffers_are_other_groups() {
        // Same length, same 4-byte prefix, same buffer index and offset: the views are
        // identical, the strings are not.
        let a = one_buffer(&["10.1.1.100000", "short"]);
        let b = one_buffer(&["10.1.1.200000", "short"]);
        assert_eq!(a.views()[0], b.views()[0]);
        let mut g = StringIds::default();
        let mut ids = Vec::new();
        g.ids(&a, &mut ids);
        assert_eq!(strings(&g, &ids), ["10.1.1.100000", "short"]);
        g.ids(&b, &mut ids);
        assert_eq!(strings(&g, &ids), ["10.1.1.200000", "short"]);
        assert_eq!(g.len(), 3);
        // The first array again (its buffers once more): its own strings.
        g.ids(&a, &mut ids);
        assert_eq!(strings(&g, &ids), ["10.1.1.100000", "short"]);
        assert_eq!(g.len(), 3);
    }

    #[test]
    fn dictionary_keys_find_groups_across_dictionaries() {
        use datafusion::arrow::array::{Int32Array, StringArray};
        let dict = |values: &[&str], keys: &[Option<i32>]| {
            DictionaryArray::<Int32Type>::try_new(
                Int32Array::from(keys.to_vec()),
                Arc::new(StringArray::from(values.to_vec())),
            )
            .unwrap()
        };
        let mut g = StringIds::default();
        let mut ids = Vec::new();
        let a = dict(
            &["10.0.0.1", "192.168.100.200"],
            &[Some(1), None, Some(0), Some(1)],
        );
        g.ids_by_key(&a, &mut ids);
        assert_eq!(ids[0], ids[3]);
        assert_ne!(ids[0], ids[2]);
        assert_eq!(g.len(), 3, "two strings and NULL");
        // Another dictionary of the same length, the strings swapped and one new: keys
        // mean other strings now.
        let b = dict(&["192.168.100.200", "10.9.9.9"], &[Some(0), Some(1), None]);
        let before = ids.clone();
        g.ids_by_key(&b, &mut ids);
        assert_eq!(ids[0], before[0], "the same string, the same group");
        assert_eq!(ids[2], before[1], "NULL keeps its group");
        assert_eq!(strings(&g, &ids[..2]), ["192.168.100.200", "10.9.9.9"]);
        assert_eq!(g.len(), 4);
        // A slice of the first array shares its dictionary: the cache still answers.
        g.ids_by_key(&a.slice(2, 2), &mut ids);
        assert_eq!(strings(&g, &ids), ["10.0.0.1", "192.168.100.200"]);
        assert_eq!(g.len(), 4);
        let out = g.take();
        assert_eq!(out.null_count(), 1);
    }

    #[test]
    fn nulls_have_one_group_and_emit_as_null() {
        let a = StringViewArray::from(vec![
            Some("x.example.org"),
            None,
            Some("x.example.org"),
            None,
        ]);
        let mut g = StringIds::default();
        let mut ids = Vec::new();
        g.ids(&a, &mut ids);
        assert_eq!(ids[0], ids[2]);
        assert_eq!(ids[1], ids[3]);
        assert_ne!(ids[0], ids[1]);
        let out = g.take();
        assert_eq!(out.len(), 2);
        assert_eq!(out.null_count(), 1);
        assert_eq!(g.len(), 0);
    }

    #[test]
    fn two_columns_group_by_both() {
        use datafusion::arrow::array::{StringArray, UInt16Array};
        use datafusion::arrow::datatypes::{Field, Schema};
        let schema = Arc::new(Schema::new(vec![
            Field::new("src", DataType::Utf8View, true),
            Field::new("port", DataType::UInt16, true),
            Field::new("dst", DataType::Utf8View, true),
        ]));
        let batch = |src: Vec<Option<&str>>, port: Vec<Option<u16>>, dst: Vec<Option<&str>>| {
            RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(StringViewArray::from(src)),
                    Arc::new(UInt16Array::from(port)),
                    Arc::new(StringViewArray::from(dst)),
                ],
            )
            .unwrap()
        };
        // A string and an integer, NULLs in both.
        let mut keys = GroupKeys::new(&[(0, DataType::Utf8View), (1, DataType::UInt16)]);
        let mut ids = Vec::new();
        let b = batch(
            vec![
                Some("10.0.0.1"),
                Some("10.0.0.1"),
                None,
                Some("10.0.0.1"),
                None,
            ],
            vec![Some(53), Some(80), Some(53), Some(53), None],
            vec![None; 5],
        );
        keys.ids(&b, &mut ids).unwrap();
        assert_eq!(ids, [0, 1, 2, 0, 3]);
        let out = keys.take().unwrap();
        assert_eq!(out[0].len(), 4);
        assert_eq!(out[0].null_count(), 2);
        assert_eq!(out[1].data_type(), &DataType::UInt16);
        let ports = out[1].as_primitive::<datafusion::arrow::datatypes::UInt16Type>();
        assert_eq!(
            ports.iter().collect::<Vec<_>>(),
            [Some(53), Some(80), Some(53), None]
        );
        assert_eq!(keys.len(), 0);

        // Two strings, the second read as dictionary keys.
        let dict_schema = Arc::new(Schema::new(vec![
            Field::new("src", DataType::Utf8View, true),
            Field::new(
                "dst",
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                true,
            ),
        ]));
        let dst = DictionaryArray::<Int32Type>::try_new(
            vec![Some(0), Some(1), Some(0), Some(0)].into(),
            Arc::new(StringArray::from(vec!["192.0.2.1", "192.0.2.2"])),
        )
        .unwrap();
        let b = RecordBatch::try_new(
            dict_schema,
            vec![
                Arc::new(StringViewArray::from(vec!["a", "a", "b", "a"])),
                Arc::new(dst),
            ],
        )
        .unwrap();
        let mut keys = GroupKeys::new(&[(0, DataType::Utf8View), (1, DataType::Utf8View)]);
        keys.ids(&b, &mut ids).unwrap();
        assert_eq!(ids, [0, 1, 2, 0]);
        let out = keys.take().unwrap();
        let s = |a: &ArrayRef| {
            a.as_string_view()
                .iter()
                .map(|v| v.unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(s(&out[0]), ["a", "a", "b"]);
        assert_eq!(s(&out[1]), ["192.0.2.1", "192.0.2.2", "192.0.2.1"]);
    }
}
